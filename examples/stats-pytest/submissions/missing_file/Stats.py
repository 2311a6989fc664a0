"""Simple descriptive statistics."""


def mean(data):
    """Arithmetic mean of a non-empty list of numbers."""
    if not data:
        raise ValueError("mean of empty list")
    return sum(data) / len(data)


def median(data):
    """Middle value (mean of the two middle values for even lengths)."""
    if not data:
        raise ValueError("median of empty list")
    ordered = sorted(data)
    mid = len(ordered) // 2
    if len(ordered) % 2 == 1:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def mode(data):
    """Most common value; on a tie, the smallest of the most common."""
    if not data:
        raise ValueError("mode of empty list")
    counts = {}
    for value in data:
        counts[value] = counts.get(value, 0) + 1
    best = max(counts.values())
    return min(value for value, count in counts.items() if count == best)
