#!/usr/bin/env python3
"""How long the suggestions' refresh holds Redis from other clients (docs/benchmarks.md §25).

Starts a throwaway redis-server on a loopback port, fills a 100,000-term dictionary like
search:terms, then reads it the two ways a refresh could: every ZREVRANGE chunk pipelined in one
write, or one chunk per round trip (projection::SuggestSource). Meanwhile a second client sends a
PING and times its answer: the wait is how long any page's command would wait behind the refresh.

    python3 bench/search/refresh_hold.py [--port 6399] [--terms 100000]
"""
import argparse
import random
import shutil
import socket
import string
import subprocess
import tempfile
import time


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        data = str(arg).encode()
        out += b"$%d\r\n%s\r\n" % (len(data), data)
    return out


def reply_end(buf, i):
    """The index just past the RESP2 reply starting at buf[i]; raises IndexError/ValueError if cut."""
    kind = buf[i:i + 1]
    line_end = buf.index(b"\r\n", i)
    if kind in (b"+", b"-", b":"):
        return line_end + 2
    if kind == b"$":
        n = int(buf[i + 1:line_end])
        return line_end + 2 if n < 0 else line_end + 2 + n + 2
    if kind == b"*":
        k = line_end + 2
        for _ in range(int(buf[i + 1:line_end])):
            k = reply_end(buf, k)
        return k
    raise ValueError("unexpected reply type %r" % kind)


def read_replies(sock, count):
    buf, at, got = b"", 0, 0
    while got < count:
        try:
            end = reply_end(buf, at)
            if end > len(buf):
                raise IndexError
            at, got = end, got + 1
        except (IndexError, ValueError):
            buf += sock.recv(1 << 20)


def ping_wait(sock):
    start = time.perf_counter()
    sock.sendall(encode("PING"))
    read_replies(sock, 1)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=6399)
    parser.add_argument("--terms", type=int, default=100_000)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp()
    server = subprocess.Popen(["redis-server", "--port", str(options.port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", workdir],
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                refresher = socket.create_connection(("127.0.0.1", options.port))
                break
            except ConnectionRefusedError:
                time.sleep(0.05)  # the server is starting: poll its port
        page = socket.create_connection(("127.0.0.1", options.port))
        rng = random.Random(1)
        words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 12)))
                 for _ in range(options.terms)]
        for k in range(0, len(words), 5000):
            chunk = words[k:k + 5000]
            refresher.sendall(encode("ZADD", "search:terms", *[x for w in chunk for x in (rng.randint(1, 100000), w)]))
            read_replies(refresher, 1)

        def ranges(size):
            return [encode("ZREVRANGE", "search:terms", f, f + size - 1, "WITHSCORES")
                    for f in range(0, options.terms, size)]

        worst_pipelined = worst_one_by_one = 0.0
        for _ in range(5):
            commands = ranges(2000)
            refresher.sendall(b"".join(commands))
            time.sleep(0.0005)  # let the pipeline reach the server first
            worst_pipelined = max(worst_pipelined, ping_wait(page))
            read_replies(refresher, len(commands))
            for command in ranges(1000):
                refresher.sendall(command)
                worst_one_by_one = max(worst_one_by_one, ping_wait(page))
                read_replies(refresher, 1)
        print("%d terms: a PING behind %d pipelined ranges of 2,000 waited %.1f ms (worst of 5); "
              "behind one range of 1,000 per round trip, %.1f ms"
              % (options.terms, options.terms // 2000, worst_pipelined * 1000, worst_one_by_one * 1000))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
