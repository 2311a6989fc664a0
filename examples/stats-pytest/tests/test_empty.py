"""Instructor tests for empty input: 1 point each (points_per_test)."""
import pytest

from stats import mean, median


def test_mean_of_empty_list_raises_value_error():
    with pytest.raises(ValueError):
        mean([])


def test_median_of_empty_list_raises_value_error():
    with pytest.raises(ValueError):
        median([])
