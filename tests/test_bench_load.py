"""The pure parts of ``python -m bench load``: percentiles, figures, the request mix, the
HTTP/1.1 reader, and reading a process tree from /proc. No load is generated."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.__main__ import main as bench_main
from bench.load import parse
from bench.load_gen import Answer, GenResult, exchange
from bench.load_mix import KINDS, encode, request
from bench.load_procs import Proc, all_procs, classify, read_proc, rss_kib
from bench.load_report import generator_cost, targets
from bench.load_run import Measured, Soak, split
from bench.load_server import exception_lines
from bench.load_stats import LevelStats, nearest_rank, summarize
from bridge.core.filters import parse_filter


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unordered
    assert [nearest_rank(values, q) for q in (0.5, 0.95, 0.99, 1.0)] == [50, 95, 99, 100]
    assert nearest_rank([7.0], 0.99) == 7.0
    assert nearest_rank([1.0, 2.0], 0.5) == 1.0
    assert math.isnan(nearest_rank([], 0.5))


def test_summarize_counts_errors_partials_and_transport_failures_apart() -> None:
    one = GenResult(
        answers=[Answer(0, 200, float(ms), ms == 10, ms / 10) for ms in range(1, 11)]
        + [Answer(1, 503, 5.0, False, 1.0), Answer(2, 429, 1.0, False, 1.0)],
        transport=Counter({"ConnectionResetError": 2}),
        timeouts=1,
        cpu_s=0.5,
    )
    two = GenResult(answers=[Answer(3, 200, 100.0, False, 2.5)], cpu_s=0.25)
    stats = summarize([one, two], clients=4, duration_s=2.0)
    assert (stats.ok, stats.answers, stats.partial) == (11, 13, 1)
    assert stats.ok_rps == pytest.approx(11 / 2.5)  # the last answer came at 2.5 s
    assert (stats.p50_ms, stats.p99_ms) == (6.0, 100.0)
    assert stats.errors == {503: 1, 429: 1} and stats.server_errors == 1
    assert (stats.dropped_total, stats.timeouts, stats.gen_cpu_s) == (2, 1, 0.75)
    assert stats.kind_p50_ms == {"bbox": 5.0, "point": 100.0}


def test_request_mix_holds_each_kind_and_never_repeats() -> None:
    reqs = [request(k) for k in range(400)]
    assert [r.kind for r in reqs[:8]] == [*KINDS, *KINDS]
    assert len({(r.target, r.body) for r in reqs}) == 400  # no page-cache hits
    bbox, two, orf, point = reqs[4:8]
    q = parse_qs(urlsplit(bbox.target).query)
    assert bbox.method == "GET" and len(q["bbox"][0].split(",")) == 4 and q["limit"] == ["10"]
    q = parse_qs(urlsplit(two.target).query)
    assert q["collections"] == ["iceye-grd,capella-geo"] and q["limit"] == ["100"]
    assert orf.method == "POST" and orf.body is not None
    body = json.loads(orf.body)
    assert body["filter"]["op"] == "or" and body["sortby"][0]["field"] == "properties.datetime"
    parse_filter(body["filter"], body["filter-lang"])  # valid CQL2, else BadRequest
    assert point.body is not None
    assert json.loads(point.body)["intersects"]["type"] == "Point"


def test_encode_is_http11_with_key_and_length() -> None:
    req = request(2)
    raw = encode(req, "127.0.0.1:9", "secret-key")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /search HTTP/1.1\r\nHost: 127.0.0.1:9\r\n")
    assert b"Authorization: Bearer secret-key" in head
    assert f"Content-Length: {len(body)}".encode() in head and body == req.body


async def test_exchange_reads_length_chunked_and_close_delimited_bodies() -> None:
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Bridge-Partial: true\r\n\r\nhello",
        b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n"
        b"0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    ]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        conn = await asyncio.open_connection("127.0.0.1", port)
        raw = encode(request(0), f"127.0.0.1:{port}", "k")
        status, headers, body, reusable = await exchange(*conn, raw)
        assert (status, headers["x-bridge-partial"], body, reusable) == (
            200,
            "true",
            b"hello",
            True,
        )
        assert (await exchange(*conn, raw))[::2] == (503, b"abcde")
        status, _, body, reusable = await exchange(*conn, raw)
        assert (status, body, reusable) == (200, b"until the end", False)
        conn[1].close()


def test_classify_sorts_workers_simulators_and_helpers() -> None:
    def p(pid: int, ppid: int, cmd: str) -> Proc:
        return Proc(pid, ppid, cmd, 0.0)

    procs = {
        q.pid: q
        for q in [
            p(1, 0, "bridge serve --workers 2"),
            p(2, 1, "python -c from multiprocessing.spawn import spawn_main"),
            p(3, 1, "python -c from multiprocessing.resource_tracker import main;main(5)"),
            p(4, 1, "python -m bridge.simulators.serve"),
            p(5, 4, "python -c from multiprocessing.spawn import spawn_main"),
            p(6, 2, "python -c from multiprocessing.spawn import spawn_main"),
            p(7, 0, "an unrelated process"),
        ]
    }
    tree = classify(procs, 1)
    assert (tree.workers, tree.simulators, tree.helpers) == ([2, 6], [4, 5], [3])
    assert tree.supervised
    alone = classify({1: procs[1]}, 1)
    assert alone.workers == [1] and not alone.supervised


def test_process_tree_of_the_current_process() -> None:
    me = read_proc(os.getpid())
    assert me is not None and me.ppid == os.getppid() and me.cpu_s > 0
    assert (rss_kib(os.getpid()) or 0) > 1024
    sleep = [sys.executable, "-c", "import time; time.sleep(10)"]
    sim = subprocess.Popen([*sleep, "bridge.simulators"])
    worker = subprocess.Popen(sleep)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # until both have exec'd python
            procs = all_procs()
            if all(sys.executable in procs[c.pid].cmdline for c in (sim, worker)):
                break
            time.sleep(0.02)
        tree = classify(procs, os.getpid())
        assert sim.pid in tree.simulators and worker.pid in tree.workers
        assert sim.pid not in tree.workers
    finally:
        for child in (sim, worker):
            child.kill()
            child.wait()
    assert read_proc(sim.pid) is None and rss_kib(sim.pid) is None


def test_split_and_options() -> None:
    assert (split(256, 2), split(5, 2), split(1, 4)) == ([128, 128], [3, 2], [1])
    opts = parse(["--quick", "--levels", "8,64", "--workers", "1"])
    assert (opts.levels, opts.workers, opts.duration, opts.soak) == ([8, 64], [1], 3.0, 5.0)
    assert (parse(["--quick", "--soak", "0"]).soak, parse([]).duration) == (0.0, 60.0)
    for bad in (["--levels", "8,0"], ["--duration", "0"], ["--soak", "-1"], ["--env", "X"]):
        with pytest.raises(SystemExit):
            parse(bad)
    assert bench_main(["fanout", "--quick"]) == 2  # options go to `load` only


def test_targets_compare_workers_tail_and_rss() -> None:
    def m(rps: float, p50: float, p99: float, errors: Counter[int] | None = None) -> Measured:
        stats = LevelStats(64, 60.0, ok_rps=rps, p50_ms=p50, p99_ms=p99)
        stats.errors = errors or Counter()
        return Measured(stats, 60.0, 0.0, 0.0)

    results = {(1, 64): m(40.0, 400, 1000), (2, 64): m(72.0, 300, 1200, Counter({502: 1}))}
    soak = Soak([60.0, 300.0], rss_kib={11: [100_000, 110_000], 12: [100_000, 120_000]})
    lines = targets(results, soak)
    assert lines[0].endswith("1 5xx, 0 dropped or timed out => NOT met")
    assert lines[3].startswith("  RSS at 300 s within 15% of RSS at 60 s: ")
    assert "64 clients 1.80x => met" in lines[1]
    assert "1 worker(s) 2.50x, 2 worker(s) 4.00x => NOT met" in lines[2]
    assert "worker 11 +10.0%, worker 12 +20.0% => NOT met" in lines[3]
    results[(1, 64)].stats.gen_cpu_s = 3.0  # of 60 s
    assert "at most 5.0% of one core" in generator_cost(list(results.values()))
    soak.measured = m(40.0, 400, 800, Counter({500: 2}))  # the soak's errors count too
    assert "3 5xx" in targets(results, soak)[0]
    nothing = targets({}, None)
    assert nothing[0] == "  n/a: no level was measured" and nothing[1].endswith("n/a (no soak)")


def test_exception_lines_count_the_last_line_of_each_traceback() -> None:
    log = "\n".join(
        [
            'INFO:     127.0.0.1:5 - "POST /search HTTP/1.1" 500',
            "ERROR:    Exception in ASGI application",
            "Traceback (most recent call last):",
            '  File "x.py", line 1, in <module>',
            "    raise exc.TimeoutError(",
            "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached",
            "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached",
            "KeyError: 'x'",
        ]
    )
    assert exception_lines(log) == {
        "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached": 2,
        "KeyError: 'x'": 1,
    }
