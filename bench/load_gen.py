"""The load generator: N closed-loop clients over raw HTTP/1.1 keep-alive connections.

Each client owns one connection (no pool to manage, no per-request client objects) and
sends its next request when the previous answer is read in full, so the generator stays
cheap next to the server it loads. It runs in a process of its own
(:func:`start`), reports the CPU it used, and stops by itself: every client loop ends at
the deadline or after a bounded number of requests, and every request has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import multiprocessing
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from bench.load_mix import KINDS, encode, request

RECONNECT_PAUSE_S = 0.05  # after a failed connection, so a dead server is not spun on
MAX_RATE_PER_CLIENT = 1000  # bound on requests per client per second of duration


@dataclass(frozen=True)
class GenConfig:
    """What one generator process does."""

    host: str
    port: int
    api_key: str
    clients: int
    duration_s: float
    timeout_s: float
    first_k: int = 0  # where this generator starts in the request mix


@dataclass
class Answer:
    """One HTTP answer: request kind index, status, latency, partial flag, completion time."""

    kind: int
    status: int
    latency_ms: float
    partial: bool
    done_s: float  # since the generator started


@dataclass
class GenResult:
    """Everything one generator process saw, and what it cost."""

    answers: list[Answer] = field(default_factory=list)
    transport: Counter[str] = field(default_factory=Counter)  # exception name -> count
    timeouts: int = 0
    samples: dict[int, str] = field(default_factory=dict)  # status -> first error body
    cpu_s: float = 0.0
    wall_s: float = 0.0


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        chunks.append((await reader.readexactly(size + 2))[:-2])


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, dict[str, str], bytes, bool]:
    """Send ``raw``, read one whole response; (status, headers, body, connection reusable)."""
    writer.write(raw)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {head[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in head[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"bad header line: {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
    reusable = headers.get("connection", "").lower() != "close"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:  # delimited by the end of the connection
        body = await reader.read()
        reusable = False
    return int(parts[1]), headers, body, reusable


def _sample(headers: dict[str, str], body: bytes) -> str:
    """The start of an error body, for the printout."""
    if headers.get("content-encoding", "").lower() == "gzip":
        with contextlib.suppress(OSError, EOFError, zlib.error):
            body = gzip.decompress(body)
    return body[:300].decode(errors="replace")


async def _client(cfg: GenConfig, ks: itertools.count[int], out: GenResult, t0: float) -> None:
    host = f"{cfg.host}:{cfg.port}"
    deadline = t0 + cfg.duration_s
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        for _ in range(int(cfg.duration_s * MAX_RATE_PER_CLIENT) + 1):
            if time.perf_counter() >= deadline:
                break
            req = request(next(ks))
            sent = time.perf_counter()
            try:
                async with asyncio.timeout(cfg.timeout_s):
                    if conn is None:
                        conn = await asyncio.open_connection(cfg.host, cfg.port, limit=1 << 20)
                    status, headers, body, reusable = await exchange(
                        *conn, encode(req, host, cfg.api_key)
                    )
            except TimeoutError:
                out.timeouts += 1
                _close(conn)
                conn = None
                continue
            except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
                out.transport[type(exc).__name__] += 1
                _close(conn)
                conn = None
                await asyncio.sleep(RECONNECT_PAUSE_S)
                continue
            done = time.perf_counter()
            partial = headers.get("x-bridge-partial", "").lower() == "true"
            if status >= 400 and status not in out.samples:
                out.samples[status] = f"{req.kind}: {_sample(headers, body)}"
            out.answers.append(
                Answer(KINDS.index(req.kind), status, (done - sent) * 1000, partial, done - t0)
            )
            if not reusable:
                _close(conn)
                conn = None
    finally:
        _close(conn)


def _close(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn[1].close()


async def generate(cfg: GenConfig) -> GenResult:
    """Run ``cfg.clients`` closed-loop clients for ``cfg.duration_s``; what they saw."""
    out = GenResult()
    ks = itertools.count(cfg.first_k)
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(_client(cfg, ks, out, t0) for _ in range(cfg.clients)))
    out.wall_s = time.perf_counter() - t0
    out.cpu_s = time.process_time() - cpu0
    return out


def _main(cfg: GenConfig, conn: Connection) -> None:
    try:
        conn.send(asyncio.run(generate(cfg)))
    finally:
        conn.close()


@dataclass
class Running:
    """A generator process and the pipe its result comes back on."""

    process: BaseProcess
    conn: Connection

    def result(self, wait_s: float) -> GenResult:
        """The result, waiting at most ``wait_s``; the process is ended either way."""
        try:
            if not self.conn.poll(wait_s):
                raise RuntimeError(f"load generator gave no result within {wait_s:.0f} s")
            try:
                result = self.conn.recv()
            except EOFError:  # it ended without sending anything
                self.process.join(timeout=5)
                code = self.process.exitcode
                raise RuntimeError(f"load generator ended with exit code {code}") from None
            assert isinstance(result, GenResult)
            return result
        finally:
            self.stop()

    def stop(self) -> None:
        """End the process if it still runs."""
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
        self.conn.close()


def start(cfg: GenConfig) -> Running:
    """Start one generator process (spawned: it inherits no server state or threads)."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_main, args=(cfg, child), daemon=True, name="bench-load-gen")
    process.start()
    child.close()
    return Running(process, parent)
