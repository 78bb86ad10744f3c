"""Calls into the student's code, each in a process of its own: never in the grader's.

The grader writes the results, so code that runs in its process could rewrite them (an atexit handler,
a thread, a patched library). Here each call runs in a fresh `python3 -I run_student.py` (JSON in and out,
with a timeout), and `kill_leftovers()` ends whatever those processes left running: call it before you
write the results.
"""
import builtins
import json
import os
import signal
import subprocess
import sys

SUBMISSION_DIR = os.environ.get("SUBMISSION_DIR", "/submission")
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_student.py")
TIMEOUT_SECONDS = 5


class StudentError(Exception):
    """The student's code did not answer: it crashed, hung, or raised an exception of its own."""


def call(module, function, *args):
    """module.function(*args), run in a new process; returns its (JSON) value or raises what it raised."""
    request = json.dumps({"dir": SUBMISSION_DIR, "module": module, "function": function, "args": args})
    try:
        # -I: the student's files cannot shadow Python's own modules in the runner; cwd: a writable scratch dir.
        done = subprocess.run([sys.executable, "-I", RUNNER], input=request, capture_output=True, text=True,
                              timeout=TIMEOUT_SECONDS, cwd="/tmp")
    except subprocess.TimeoutExpired:
        raise StudentError(f"{function} did not return within {TIMEOUT_SECONDS} s") from None
    try:
        reply = json.loads(done.stdout)
    except ValueError:
        raise StudentError(f"{function} crashed:\n{done.stderr[-2000:]}") from None
    if "error" in reply:
        raised = getattr(builtins, reply["error"], None)
        if isinstance(raised, type) and issubclass(raised, Exception):
            raise raised(reply["message"])
        raise StudentError(f"{reply['error']}: {reply['message']}")
    return reply["value"]


class Student:
    """The student's module: `Student("stats").mean([1, 2])` is `call("stats", "mean", [1, 2])`."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, function):
        return lambda *args: call(self.module, function, *args)


def in_gradeflow():
    """True in gradeflow's container, where our parent is its PID 1 (the script that reads the results back)."""
    return os.getppid() == 1 and os.path.exists("/.dockerenv")


def kill_leftovers():
    """SIGKILL every process the student's code left behind (they run as our uid). kill(-1) spares only
    us and PID 1: the grader must be PID 1's child (`exec` it from a shell). Not outside the container,
    where kill(-1) would end every program you run."""
    if not in_gradeflow():
        return
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass  # nothing was left


def remove_stale(path):
    """Remove a results file the student's code may have written (even read-only): ours is written fresh."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
