"""``bridge serve`` with TCP_NODELAY on its listening sockets: the suggested fix, measured.

``bridge.server.bind`` creates its sockets with ``socket.socket(family, SOCK_STREAM)``,
whose ``proto`` is 0, so asyncio's ``_set_nodelay`` (which requires ``IPPROTO_TCP``)
leaves Nagle's algorithm on for every accepted connection. uvicorn writes a response's
head and body separately, so on a kept-alive connection the body waits for the client's
delayed ACK (~40 ms on Linux). Benchmarks only: the product code is not changed here.
"""

from __future__ import annotations

import socket
import sys

import bridge.server
from bridge.cli import main

_bind = bridge.server.bind


def _bind_nodelay(host: str, port: int) -> socket.socket:
    sock = _bind(host, port)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accept()
    return sock


if __name__ == "__main__":
    bridge.server.bind = _bind_nodelay
    sys.exit(main())
