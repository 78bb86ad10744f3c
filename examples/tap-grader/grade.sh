#!/bin/sh
# gradeflow example grader (TAP format).
# The submission ($SUBMISSION_FILE) is a shell script defining `fizzbuzz N`, which prints one line.
# One TAP test per case; each passing test is worth one point (scaled to max_grade when one is set).
# The student's script runs in a child process with its output captured (only its first line is used).
# It runs as our uid, so what it leaves running could print TAP lines of its own on our stdout (through
# /proc/1/fd/1): the TAP is collected first, every leftover process is killed, and only then is it printed,
# all at once. gradeflow reads TAP from the last "TAP version" line, so what came before does not count.

tap=""
add() {
  tap="$tap$1
"
}
n=0
for case in "1 1" "3 Fizz" "5 Buzz" "15 FizzBuzz" "7 7"; do
  set -- $case
  n=$((n + 1))
  got=$(cd /tmp && sh -c ". \"\$0\"; fizzbuzz $1" "$SUBMISSION_FILE" 2>/dev/null | head -n 1 | head -c 100)
  if [ "$got" = "$2" ]; then
    add "ok $n - fizzbuzz $1 is $2"
  else
    add "not ok $n - fizzbuzz $1 is $2"
    add "  ---"
    add "  message: 'expected $2, got \"$got\"'"
    add "  ..."
  fi
done

# Every process but this one (PID 1, or PID 1's child under an init) is what the student's script left behind.
kill -s KILL -1 2>/dev/null

echo "TAP version 13"
echo "1..$n"
printf '%s' "$tap"
