import os
import sys

# The student's files are in $SUBMISSION_DIR (read-only); make them importable.
sys.path.insert(0, os.environ.get("SUBMISSION_DIR", "/submission"))
