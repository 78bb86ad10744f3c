"""Runs one call into the student's code, in a process of its own (see student.py).

Reads {"dir", "module", "function", "args"} on stdin and answers {"value"} or {"error", "message"} on
stdout. The student's own prints go to stderr, so they cannot pass for the answer.
"""
import importlib
import json
import os
import sys

request = json.load(sys.stdin)
answer = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.path.insert(0, request["dir"])
try:
    function = getattr(importlib.import_module(request["module"]), request["function"])
    reply = {"value": function(*request["args"])}
except Exception as e:  # the student's code raised: the tests may expect it
    reply = {"error": type(e).__name__, "message": str(e)}
answer.write(json.dumps(reply, default=repr))
answer.flush()
os._exit(0)
