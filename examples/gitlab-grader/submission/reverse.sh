#!/bin/sh
# A student's answer: print the argument reversed.
echo "$1" | rev 2>/dev/null || echo "$1"
