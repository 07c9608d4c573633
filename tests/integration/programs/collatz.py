"""Pure-Python computation for the interpreter checkpoint test.

usage: python3 collatz.py [STEPS=40] [NUMBERS_PER_STEP=40000]

Each step walks the Collatz sequences of the next block of numbers (with a
dict cache of the lengths of small numbers), keeps the longest one and a
running digest of all lengths, and prints the step's result. The interpreter's heap (objects, dicts, big ints)
is what has to survive checkpoint and restart.
"""
import sys

CACHE_LIMIT = 1000


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    per_step = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
    cache = {1: 1}
    digest = 0

    def length(n):
        path = []
        while n not in cache:
            path.append(n)
            n = n // 2 if n % 2 == 0 else 3 * n + 1
        total = cache[n]
        for m in reversed(path):
            total += 1
            if m < CACHE_LIMIT:
                cache[m] = total
        return total

    for step in range(1, steps + 1):
        lo = (step - 1) * per_step + 1
        best, best_n = 0, lo
        for n in range(lo, lo + per_step):
            steps_n = length(n)
            digest = (digest * 1000003 + steps_n) % (1 << 127)
            if steps_n > best:
                best, best_n = steps_n, n
        print(f"step {step} longest {best_n} ({best} terms) cache {len(cache)}", flush=True)

    print(f"done: digest {digest:x}", flush=True)


if __name__ == "__main__":
    main()
