"""socket_multiprocessing.py STEPS: python3's multiprocessing with a Manager
(a server process that clients reach over a UNIX socket, a thread per
connection) and a Pool of three workers (pipes, locks, result threads).
Every step maps a function over the pool, stores the sum in a managed dict,
passes the step through a managed queue, and prints "step N SUM STEP"."""
import multiprocessing as mp
import sys
import time


def square(x):
    return x * x


if __name__ == "__main__":
    steps = int(sys.argv[1])
    mp.set_start_method("fork")
    with mp.Manager() as manager:
        results = manager.dict()
        queue = manager.Queue()
        with mp.Pool(3) as pool:
            for step in range(1, steps + 1):
                total = sum(pool.map(square, range(step * 10, step * 10 + 10)))
                results[step] = total
                queue.put(step)
                print("step", step, results[step], queue.get(), flush=True)
                time.sleep(0.1)
    print("done", flush=True)
