"""gradeflow example grader (JUnit XML from pytest).

The submission is stats.py with mean(xs) and median(xs). A test's weight is its `max_score` property
(pytest writes record_property values into the JUnit XML); tests without one are worth 1 point.
The `stats` fixture (conftest.py) runs each call in a subprocess: see student.py.
"""
import pytest


def test_mean(stats, record_property):
    record_property("max_score", 2)
    assert stats.mean([1, 2, 3, 4]) == 2.5


def test_median_odd(stats, record_property):
    record_property("max_score", 2)
    assert stats.median([3, 1, 2]) == 2


def test_median_even(stats, record_property):
    record_property("max_score", 3)
    assert stats.median([4, 1, 3, 2]) == 2.5


def test_mean_of_empty_raises(stats):
    with pytest.raises(ValueError):
        stats.mean([])
