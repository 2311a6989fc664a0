def median(xs):
    big = [xs] * (10 ** 9)
    return sorted(xs)[len(xs) // 2]


def mode(xs):
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    best = max(counts.values())
    return min(x for x in counts if counts[x] == best)


def distinct(xs):
    return sorted(set(xs), key=str)
