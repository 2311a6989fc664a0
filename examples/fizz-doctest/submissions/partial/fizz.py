"""FizzBuzz, with the checks in the wrong order: 15 gives 'Fizz'."""


def fizzbuzz(n):
    """Return 'Fizz', 'Buzz', 'FizzBuzz' or the number itself as a string.

    >>> fizzbuzz(3)
    'Fizz'
    >>> fizzbuzz(5)
    'Buzz'
    >>> fizzbuzz(15)
    'FizzBuzz'
    >>> fizzbuzz(7)
    '7'
    """
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    if n % 15 == 0:
        return "FizzBuzz"
    return str(n)


def fizzbuzz_list(n):
    """Return fizzbuzz(i) for i = 1 .. n.

    >>> fizzbuzz_list(3)
    ['1', '2', 'Fizz']
    """
    return [fizzbuzz(i) for i in range(1, n + 1)]
