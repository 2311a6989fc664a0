"""The instructor's solution: never shown to students, never in their runs."""


def median(xs):
    ys = sorted(xs)
    n = len(ys)
    if n % 2 == 1:
        return ys[n // 2]
    return (ys[n // 2 - 1] + ys[n // 2]) / 2


def mode(xs):
    """The most common value; the smallest of those tied."""
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    best = max(counts.values())
    return min(x for x in counts if counts[x] == best)


def distinct(xs):
    return list(dict.fromkeys(xs))
