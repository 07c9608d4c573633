"""socket_asyncio.py STEPS: a python3 asyncio TCP server (epoll underneath)
with three client processes, each an asyncio program too. Every client sends
numbered requests on a timer of its own (call_later, a period per client)
and checks that the answers come back one for each, in order; the server
answers each request after an asyncio.sleep. A periodic timer of the server
prints "step N" every 0.2 s while clients are served. At the end the server
says "end" on every connection; a client then stops sending and shuts down its
side, the server answers what is left and closes, and each client reports how
it ended. (Closing with requests unread would reset the connection: the kernel
answers a close with unread bytes by RST, and the client would see
ECONNRESET by a race of the test, not of ckpt.) A lost, repeated or
misordered request or answer makes that client exit with status 3."""
import asyncio
import os
import sys

CLIENTS = 3


async def serve(reader, writer, served, writers, finished):
    writers.append(writer)
    try:
        while line := await reader.readline():
            client, n = line.decode().split()
            await asyncio.sleep(0.002)
            writer.write(f"answer {client} {n}\n".encode())
            await writer.drain()
            served[int(client)] = int(n)
    except (asyncio.CancelledError, ConnectionError):
        pass
    writer.close()
    finished.append(writer)


async def client(index, port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    sent = 0

    ending = False

    def send():
        nonlocal sent
        if ending or writer.is_closing():
            return
        sent += 1
        writer.write(f"{index} {sent}\n".encode())
        loop.call_later(0.01 * (index + 1), send)

    send()
    expected = 1
    while line := await reader.readline():
        if line == b"end\n":
            ending = True
            writer.write_eof()
            continue
        word, who, n = line.decode().split()
        if word != "answer" or int(who) != index or int(n) != expected:
            print(f"client {index}: got {line!r}, expected answer {expected}", file=sys.stderr)
            os._exit(3)
        expected += 1
    writer.close()
    os._exit(0 if expected > 10 else 4)


async def server(steps, pipes):
    served, writers, finished = [0] * CLIENTS, [], []
    srv = await asyncio.start_server(lambda r, w: serve(r, w, served, writers, finished), "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    for _, wr in pipes:
        os.write(wr, str(port).encode())
        os.close(wr)
    for step in range(1, steps + 1):
        await asyncio.sleep(0.2)
        print("step", step, "every client served:", all(n > 0 for n in served), flush=True)
    srv.close()
    for w in writers:
        w.write(b"end\n")
    while len(finished) < len(writers):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)


def main():
    steps = int(sys.argv[1])
    pipes = [os.pipe() for _ in range(CLIENTS)]  # each client learns the port through its own
    pids = []
    for i in range(CLIENTS):
        pid = os.fork()
        if pid == 0:
            for j, (rd, wr) in enumerate(pipes):
                os.close(wr)
                if j != i:
                    os.close(rd)
            asyncio.run(client(i, int(os.read(pipes[i][0], 64).decode())))
            os._exit(5)
        pids.append(pid)
    for rd, _ in pipes:
        os.close(rd)
    asyncio.run(server(steps, pipes))
    print("clients exited with", [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids], flush=True)


if __name__ == "__main__":
    main()
