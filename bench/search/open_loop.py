#!/usr/bin/env python3
"""Open-loop load for issue 12's "cold query at half of peak": requests go out at a fixed rate,
evenly spaced, whatever the answers do, and each latency counts from the moment its request was
due (so a stall delays every request behind it and shows in the percentiles: no coordinated
omission, unlike paced wrk connections, which fire in lockstep bursts).

Queries are the same as bench/wrk/search.lua's cold mode (its word list is read from there): every combination of TERMS distinct
seed title words, shuffled, none repeated within a run (drop the q:* result keys between runs).

  bench/search/open_loop.py --port 8092 --rate 150 --seconds 10 --terms 2 --sort relevance
prints one line: RESULT rps=.. p50=.. p99=.. bytes_per_req=.. errors=.. (ms, as report.lua).
"""
import argparse
import asyncio
import itertools
import random
import re
import time
from pathlib import Path

# The seed's title words, as bench/wrk/search.lua lists them (one list for both clients).
_LUA = (Path(__file__).resolve().parent.parent / "wrk" / "search.lua").read_text()
WORDS = re.findall(r'"([^"]+)"', _LUA[_LUA.index("local words = {"):_LUA.index("}", _LUA.index("local words = {"))])


async def fetch(pool, host, port, target):
    """One GET on a kept-alive connection from `pool` (a new one when none is free); returns the
    status and the body's size."""
    reader, writer = pool.pop() if pool else await asyncio.open_connection(host, port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    pool.append((reader, writer))
    return status, length


async def run(args):
    queries = ["+".join(c) for c in itertools.combinations(WORDS, args.terms)]
    random.Random(args.seed).shuffle(queries)
    total = int(args.rate * args.seconds)
    if total > len(queries):
        raise SystemExit(f"{total} requests but only {len(queries)} distinct queries: lower --rate or --seconds")
    pool, latencies, sizes, errors = [], [], [], 0
    start = time.perf_counter() + 0.1

    async def one(i):
        nonlocal errors
        due = start + i / args.rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        target = f"{args.path}?q={queries[i]}&sort={args.sort}"
        try:
            status, size = await fetch(pool, args.host, args.port, target)
            if status != 200:
                errors += 1
            sizes.append(size)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
        latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"RESULT rps={total / elapsed:.0f} p50={pick(0.50):.2f} p99={pick(0.99):.2f} "
          f"bytes_per_req={sum(sizes) / max(1, len(sizes)):.0f} errors={errors}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--path", default="/api/v1/search")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--terms", type=int, default=2)
    parser.add_argument("--sort", default="relevance")
    parser.add_argument("--seed", type=int, default=42)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
