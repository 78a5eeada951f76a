"""An httpx transport that records native responses once and then replays them from memory.

Wrapped around the in-process simulator transports, it lets a benchmark pay the
simulators' CPU once (recording) and then measure only the bridge (replaying, possibly in
another process: tapes are saved to and loaded from a file).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import httpx

Key = tuple[str, str, bytes]
Recorded = tuple[int, list[tuple[bytes, bytes]], bytes]


class Tape(httpx.AsyncBaseTransport):
    """Records (method, URL, body) -> response through ``inner``; replays what it has.

    Without ``inner`` it only replays; a request it never recorded is counted in
    ``misses`` and answered 599.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        responses: dict[Key, Recorded] | None = None,
    ) -> None:
        self.inner = inner
        self.responses: dict[Key, Recorded] = responses or {}
        self.misses = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, str(request.url), await request.aread())
        recorded = self.responses.get(key)
        if recorded is None:
            if self.inner is None:
                self.misses += 1
                return httpx.Response(599, content=b"not on tape")
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            recorded = (response.status_code, list(response.headers.raw), body)
            self.responses[key] = recorded
        status, headers, body = recorded
        return httpx.Response(status, headers=headers, content=body)

    async def aclose(self) -> None:
        """Nothing to release: the tape outlives the apps that use it."""


def save_tapes(tapes: dict[str, Tape], path: Path) -> None:
    """Write every tape's recorded responses to ``path``."""
    with path.open("wb") as f:
        pickle.dump({name: t.responses for name, t in tapes.items()}, f, protocol=5)


def load_tapes(path: Path) -> dict[str, Tape]:
    """Replay-only tapes from a file written by :func:`save_tapes` (bench's own files)."""
    with path.open("rb") as f:
        recorded = pickle.load(f)  # a file this benchmark wrote itself
    return {name: Tape(responses=responses) for name, responses in recorded.items()}
