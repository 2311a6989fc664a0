def median(xs):
    ys = sorted(xs)
    mid = len(ys) // 2
    return (ys[mid] + ys[mid + 1]) / 2 if len(ys) % 2 == 0 else ys[mid + 1] - ys[mid] + ys[mid]


def mode(xs):
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    best = max(counts.values())
    return min(x for x in counts if counts[x] == best)


def distinct(xs):
    return sorted(set(xs), key=str)
