"""The student's code never runs in pytest's process, which writes the JUnit XML gradeflow reads: the
tests call it through student.py, in subprocesses. Before pytest writes the XML, whatever those left
running is killed and any results file the student's code wrote is removed."""
import os
import signal

import pytest

from student import Student, in_gradeflow, kill_leftovers, remove_stale

if in_gradeflow():
    # The student's code runs as our uid and could interrupt pytest, which then reports only the tests run so far.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture(scope="session")
def stats():
    return Student("stats")


@pytest.hookimpl(tryfirst=True)  # before pytest's junitxml plugin writes the XML
def pytest_sessionfinish(session):
    kill_leftovers()
    if in_gradeflow():
        remove_stale(os.environ["RESULTS_FILE"])
