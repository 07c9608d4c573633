"""socket_redis.py KEYS: a real server under checkpoint with its client.
Starts redis-server (Debian's) as a child on a free loopback port, without
persistence, then acts as its client over one TCP connection: writes KEYS
numbered keys in batches of 100 (a pipeline of SETs, then their replies),
printing "step N" after each batch with what the server answered; reads
every key back at the end and checks each value; shuts the server down.
Any acknowledged write lost after a restart shows as a missing key."""
import os
import socket
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Replies:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit("redis closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                data = self.sock.recv(65536)
                if not data:
                    raise SystemExit("redis closed the connection")
                self.buf += data
            value, self.buf = self.buf[:n], self.buf[n + 2:]
            return value
        return line


def main():
    keys = int(sys.argv[1])
    port = free_port()
    workdir = os.getcwd()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--logfile", os.path.join(workdir, "redis.log"), "--daemonize", "no"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.05)
    else:
        raise SystemExit("redis-server did not start")
    replies = Replies(sock)
    sock.sendall(command("PING"))
    print("server:", replies.reply().decode(), flush=True)
    for batch in range(keys // 100):
        first = batch * 100
        sock.sendall(b"".join(command("SET", "key:%06d" % k, "value-%d" % (k * k)) for k in range(first, first + 100)))
        answers = {replies.reply() for _ in range(100)}
        sock.sendall(command("DBSIZE"))
        size = replies.reply().decode()
        print("step", batch + 1, "answers", b",".join(sorted(answers)).decode(), "dbsize", size, flush=True)
        time.sleep(0.05)
    missing = 0
    for first in range(0, keys, 500):
        sock.sendall(b"".join(command("GET", "key:%06d" % k) for k in range(first, min(first + 500, keys))))
        for k in range(first, min(first + 500, keys)):
            if replies.reply() != b"value-%d" % (k * k):
                missing += 1
    print("read back", keys, "keys,", missing, "missing or wrong", flush=True)
    sock.sendall(command("SHUTDOWN", "NOSAVE"))
    sock.close()
    server.wait()
    print("server exited", flush=True)
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
