# A student's answer, with one bug: 15 prints Fizz.
fizzbuzz() {
  if [ $(($1 % 3)) -eq 0 ]; then echo Fizz
  elif [ $(($1 % 5)) -eq 0 ]; then echo Buzz
  else echo "$1"
  fi
}
