#!/bin/sh
# gradeflow example grader (TAP format).
# The submission ($SUBMISSION_FILE) is a shell script defining `fizzbuzz N`, which prints one line.
# One TAP test per case; each passing test is worth one point (scaled to max_grade when one is set).

echo "TAP version 13"
echo "1..5"
n=0
for case in "1 1" "3 Fizz" "5 Buzz" "15 FizzBuzz" "7 7"; do
  set -- $case
  n=$((n + 1))
  got=$(cd /tmp && sh -c ". \"\$0\"; fizzbuzz $1" "$SUBMISSION_FILE" 2>/dev/null | head -c 100)
  if [ "$got" = "$2" ]; then
    echo "ok $n - fizzbuzz $1 is $2"
  else
    echo "not ok $n - fizzbuzz $1 is $2"
    echo "  ---"
    echo "  message: 'expected $2, got \"$got\"'"
    echo "  ..."
  fi
done
