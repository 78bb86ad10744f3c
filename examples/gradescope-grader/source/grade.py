"""gradeflow example grader in Gradescope's results.json format.

The submission is primes.py defining is_prime(n). Each test is worth its max_score; one test is hidden
from students until grades are published, as Gradescope graders often do.

The student's code never runs in this process, which writes the results: each check calls it in a
subprocess (student.py), and before results.json is written every process it left running is killed.
"""
import json

from student import StudentError, call, kill_leftovers, remove_stale

RESULTS = "/autograder/results/results.json"


def is_prime(n):
    return call("primes", "is_prime", n)


CASES = [
    ("small primes", 2, lambda: [is_prime(n) for n in (2, 3, 5, 7)] == [True] * 4, "visible"),
    ("small composites", 2, lambda: [is_prime(n) for n in (4, 6, 8, 9)] == [False] * 4, "visible"),
    ("0 and 1 are not prime", 3, lambda: not is_prime(0) and not is_prime(1), "visible"),
    ("a large prime", 3, lambda: is_prime(7919), "after_published"),
]


def main():
    tests = []
    for name, points, check, visibility in CASES:
        try:
            ok = bool(check())
            output = "" if ok else "Wrong answer."
        except StudentError as e:  # crashed, hung, or raised something of its own
            ok, output = False, str(e)
        except Exception as e:  # raised a built-in exception
            ok, output = False, f"{type(e).__name__}: {e}"
        tests.append({"name": name, "score": points if ok else 0, "max_score": points,
                      "status": "passed" if ok else "failed", "output": output, "visibility": visibility})
    passed = sum(t["status"] == "passed" for t in tests)
    results = {"output": f"**{passed} of {len(tests)}** tests pass.", "output_format": "md",
               "stdout_visibility": "hidden", "tests": tests}
    print("grading done")  # stdout is kept for the instructor; students see it only if stdout_visibility allows
    # Last: nothing of the student's is left running, and a results.json it wrote is replaced.
    kill_leftovers()
    remove_stale(RESULTS)
    with open(RESULTS, "w") as f:
        json.dump(results, f)


main()
