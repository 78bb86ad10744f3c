# A student's answer, with one bug: 1 counts as prime.
def is_prime(n):
    if n < 1:
        return False
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return False
    return True
