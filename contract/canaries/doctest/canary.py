def double(x):
    """Twice X.

    >>> double(2)
    4
    >>> double("ab")
    'abab'
    """
    return 2 * x
