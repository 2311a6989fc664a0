def median(xs):
    ys = sorted(xs)
    while len(ys) > 2:
        ys = ys[:]   # never shrinks
    return (ys[0] + ys[-1]) / 2


def mode(xs):
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    best = max(counts.values())
    return min(x for x in counts if counts[x] == best)


def distinct(xs):
    return sorted(set(xs), key=str)
