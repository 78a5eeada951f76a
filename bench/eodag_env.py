"""stac-fastapi-eodag in a venv of its own (``bench/output/eodag-venv``), never in ``.venv``.

The venv is built once from ``bench/eodag-requirements.txt`` (every package pinned) and
reused while that file is unchanged. Real packages only: ``stac-fastapi-eodag`` and
``eodag`` are CS GROUP's (https://github.com/CS-SI), checked on PyPI before pinning.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from bench.live import OUTPUT

REQUIREMENTS = Path(__file__).resolve().parent / "eodag-requirements.txt"
VENV = OUTPUT / "eodag-venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements-sha256"


class EodagUnavailable(Exception):
    """stac-fastapi-eodag cannot be installed or run here; the message says why."""


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def _run(cmd: list[str], what: str, timeout_s: float) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise EodagUnavailable(f"{what} took longer than {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        noise = "WARNING: Location"  # this machine's pip config names absent local indexes
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if noise not in ln]
        tail = "\n    ".join(lines[-12:])
        raise EodagUnavailable(f"{what} failed (exit {done.returncode}):\n    {tail}")


def ensure_venv() -> Path:
    """The venv's python, installing stac-fastapi-eodag first when needed (minutes)."""
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == _digest():
        return PYTHON
    print(f"  installing stac-fastapi-eodag into {VENV} (once; takes a minute or more) ...")
    shutil.rmtree(VENV, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(VENV)], "creating the eodag venv", 300)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "-r", str(REQUIREMENTS)], "pip install -r bench/eodag-requirements.txt", 1800)
    _run([str(PYTHON), "-c", "import stac_fastapi.eodag.app"], "importing stac-fastapi-eodag", 300)
    STAMP.write_text(_digest())
    return PYTHON
