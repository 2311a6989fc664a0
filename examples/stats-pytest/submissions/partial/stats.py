"""Mostly right: median sorts its argument in place and has no empty check,
and mode returns the first most common value instead of the smallest."""


def mean(data):
    if not data:
        raise ValueError("mean of empty list")
    return sum(data) / len(data)


def median(data):
    data.sort()
    mid = len(data) // 2
    if len(data) % 2 == 1:
        return data[mid]
    return (data[mid - 1] + data[mid]) / 2


def mode(data):
    counts = {}
    for value in data:
        counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.get)
