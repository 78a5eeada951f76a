"""Processes of a ``bridge serve`` tree and what they use, read from ``/proc`` (Linux).

The workers are the descendants of the ``bridge serve`` process, except the simulator
process (its command line names ``bridge.simulators``), its own descendants, and
multiprocessing's helper processes. With no such descendant (one worker run in the
``bridge serve`` process itself) the root is the worker; with some, the root is their
supervisor.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
SIMULATOR_MARK = "bridge.simulators"
HELPER_MARKS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    """One process: id, parent id, command line, CPU seconds (user + system) so far."""

    pid: int
    ppid: int
    cmdline: str
    cpu_s: float


def read_proc(pid: int) -> Proc | None:
    """``pid`` as seen in /proc now; None when it is gone (or not readable)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    rest = stat[stat.rindex(")") + 2 :].split()
    ppid, utime, stime = int(rest[1]), int(rest[11]), int(rest[12])
    cmdline = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return Proc(pid, ppid, cmdline, (utime + stime) / _TICKS)


def all_procs() -> dict[int, Proc]:
    """Every process this user can see."""
    procs = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (p := read_proc(int(entry.name))) is not None:
            procs[p.pid] = p
    return procs


def rss_kib(pid: int) -> int | None:
    """Resident set size (VmRSS) of ``pid`` in KiB; None when it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Tree:
    """The roles in one ``bridge serve`` process tree."""

    root: int
    workers: list[int] = field(default_factory=list)
    simulators: list[int] = field(default_factory=list)  # with their descendants
    helpers: list[int] = field(default_factory=list)

    @property
    def supervised(self) -> bool:
        """True when the workers are child processes of the root."""
        return self.workers != [self.root]


def classify(procs: dict[int, Proc], root: int) -> Tree:
    """Sort the descendants of ``root`` in ``procs`` into workers, simulators, helpers."""
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    tree = Tree(root)
    stack = [(pid, False) for pid in sorted(children.get(root, []))]
    for _ in range(len(procs)):  # each process is visited at most once
        if not stack:
            break
        pid, under_simulator = stack.pop()
        cmd = procs[pid].cmdline
        if under_simulator or SIMULATOR_MARK in cmd:
            tree.simulators.append(pid)
            under_simulator = True
        elif any(mark in cmd for mark in HELPER_MARKS):
            tree.helpers.append(pid)
        else:
            tree.workers.append(pid)
        stack.extend((c, under_simulator) for c in sorted(children.get(pid, [])))
    tree.workers = sorted(tree.workers) or [root]
    return tree


def cpu_s(procs: dict[int, Proc], pids: list[int]) -> float:
    """CPU seconds used so far by those of ``pids`` still alive."""
    return sum(procs[p].cpu_s for p in pids if p in procs)


def machine() -> str:
    """Cores, memory, CPU model and Python version of this machine."""
    mem: dict[str, int] = {}
    for line in (PROC / "meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("MemTotal", "MemAvailable"):
            mem[key] = int(value.split()[0])
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in (PROC / "cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "unknown CPU",
    )
    return (
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable, {model}), "
        f"{mem.get('MemTotal', 0) / 2**20:.1f} GiB RAM "
        f"({mem.get('MemAvailable', 0) / 2**20:.1f} GiB available), "
        f"Python {platform.python_version()}, load avg "
        + " ".join((PROC / "loadavg").read_text().split()[:3])
    )
