def mean(data):
    return sum(data) / len(data)


def median(data):
    ordered = sorted(data)
    mid = len(ordered) // 2
    if len(ordered) % 2 == 1
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def mode(data):
    return max(sorted(set(data)), key=data.count)
