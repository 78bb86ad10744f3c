#!/bin/sh
# A student's answer: print the sum of the two arguments.
echo $(( $1 + $2 ))
