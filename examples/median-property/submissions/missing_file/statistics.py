def median(xs):
    return 0
