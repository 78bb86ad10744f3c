"""gradeflow example grader in Gradescope's results.json format.

The submission is primes.py defining is_prime(n). Each test is worth its max_score; one test is hidden
from students until grades are published, as Gradescope graders often do.
"""
import importlib.util
import json
import traceback

SUBMISSION = "/autograder/submission/primes.py"
RESULTS = "/autograder/results/results.json"

CASES = [
    ("small primes", 2, lambda f: [f(n) for n in (2, 3, 5, 7)] == [True] * 4, "visible"),
    ("small composites", 2, lambda f: [f(n) for n in (4, 6, 8, 9)] == [False] * 4, "visible"),
    ("0 and 1 are not prime", 3, lambda f: not f(0) and not f(1), "visible"),
    ("a large prime", 3, lambda f: f(7919), "after_published"),
]


def load():
    spec = importlib.util.spec_from_file_location("primes", SUBMISSION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.is_prime


def main():
    tests = []
    try:
        is_prime = load()
    except Exception:
        results = {"score": 0, "output": "Your file could not be loaded:\n\n" + traceback.format_exc(limit=1), "tests": []}
    else:
        for name, points, check, visibility in CASES:
            try:
                ok = bool(check(is_prime))
                output = "" if ok else "Wrong answer."
            except Exception as e:  # the student's code raised
                ok, output = False, f"{type(e).__name__}: {e}"
            tests.append({"name": name, "score": points if ok else 0, "max_score": points,
                          "status": "passed" if ok else "failed", "output": output, "visibility": visibility})
        passed = sum(t["status"] == "passed" for t in tests)
        results = {"output": f"**{passed} of {len(tests)}** tests pass.", "output_format": "md",
                   "stdout_visibility": "hidden", "tests": tests}
    print("grading done")  # stdout is kept for the instructor; students see it only if stdout_visibility allows
    with open(RESULTS, "w") as f:
        json.dump(results, f)


main()
