"""A throwaway PostgreSQL server for tests: Debian's binaries, a temp data dir, a free port.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def available() -> bool:
    """True when PostgreSQL server binaries are installed."""
    return _bindir() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start PostgreSQL; yield an async SQLAlchemy URL of an empty database; stop it."""
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL is not installed (make install installs Debian's postgresql)"
        )
    root = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
    data = root / "data"
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "bridge", "--auth=trust", "-E", "UTF8")
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        )
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bridge", "bridge")
        yield f"postgresql+asyncpg://bridge@127.0.0.1:{port}/bridge"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str) -> str:
    """Create a new empty database on the server of ``server_url``; return its URL.

    Uses the ``createdb`` binary, so it works from sync and async code alike.
    """
    from sqlalchemy.engine import make_url

    bindir = _bindir()
    assert bindir is not None
    url = make_url(server_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    subprocess.run(
        [
            str(bindir / "createdb"),
            "-h",
            str(url.host),
            "-p",
            str(url.port),
            "-U",
            str(url.username),
            name,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return url.set(database=name).render_as_string(hide_password=False)
