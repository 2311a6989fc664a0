"""Instructor tests for stats.py: 8 tests, 10 points, 1.25 points each."""
from stats import mean, median, mode


def test_mean_integers():
    assert mean([1, 2, 3, 4]) == 2.5


def test_mean_floats():
    assert abs(mean([0.1, 0.2, 0.3]) - 0.2) < 1e-9


def test_median_odd_length():
    assert median([5, 1, 3]) == 3


def test_median_even_length():
    assert median([4, 1, 3, 2]) == 2.5


def test_median_does_not_change_its_argument():
    data = [3, 1, 2]
    median(data)
    assert data == [3, 1, 2]


def test_mode_single_winner():
    assert mode([1, 2, 2, 3]) == 2


def test_mode_tie_returns_smallest():
    assert mode([3, 3, 1, 1, 2]) == 1


def test_mode_strings():
    assert mode(["b", "a", "b"]) == "b"
