#!/bin/sh
# gradeflow example grader (correctomatic format).
# The submission ($SUBMISSION_FILE) is a shell script that must print the sum of its two arguments.
# Anything printed outside the marker lines is ignored by gradeflow and kept for the instructor.
# The student's script runs in a child process with its output captured (only its first line is used).
# It runs as our uid, so what it leaves running could print a response block of its own on our stdout
# (through /proc/1/fd/1): every leftover process is killed before ours is printed, last (the last block wins).

echo "Grading $(basename "$SUBMISSION_FILE")…"
passed=0
total=0
failed_cases=""
for case in "1 2 3" "10 -4 6" "0 0 0" "123 877 1000" "-5 -5 -10"; do
  set -- $case
  total=$((total + 1))
  got=$(cd /tmp && sh "$SUBMISSION_FILE" "$1" "$2" 2>/dev/null | head -n 1 | head -c 100)
  if [ "$got" = "$3" ]; then
    passed=$((passed + 1))
  else
    failed_cases="$failed_cases $1+$2"
  fi
done

# Every process but this one (PID 1, or PID 1's child under an init) is what the student's script left behind.
kill -s KILL -1 2>/dev/null

# The grade is out of 10, in steps of 2.
grade=$((passed * 10 / total))
echo "--BEGIN CORRECTOMATIC RESPONSE--"
if [ -z "$failed_cases" ]; then
  printf '{"success": true, "grade": %s, "comments": ["All %s cases pass."]}\n' "$grade" "$total"
else
  printf '{"success": true, "grade": %s, "comments": ["%s of %s cases pass.", "Wrong sums for:%s"]}\n' "$grade" "$passed" "$total" "$failed_cases"
fi
echo "--END CORRECTOMATIC RESPONSE--"
