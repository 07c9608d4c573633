"""loss_holder.py FROM STEPS PAUSE_MS: the issue's python3 program, which a
checkpoint used to "save" and a restart then killed with EBADF. From step
FROM on it holds a socket pair (fds 11 and 12) and an epoll instance
watching one end, and sends a byte through the pair at every step; each step
prints "step N SUM EVENTS"."""
import os
import select
import socket
import sys
import time

start, steps, pause = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
pair = poller = None
total = 0
for step in range(1, steps + 1):
    if step == start:
        a, b = socket.socketpair()
        os.dup2(a.fileno(), 11)
        os.dup2(b.fileno(), 12)
        a.close()
        b.close()
        pair = (socket.socket(fileno=11), socket.socket(fileno=12))
        poller = select.epoll()
        poller.register(11, select.EPOLLIN)
    events = 0
    if pair:
        pair[1].send(b"x")
        events = len(poller.poll(1))
        pair[0].recv(1)
    total = (total * 31 + step) % 2**64
    print("step", step, total, events, flush=True)
    time.sleep(pause)
