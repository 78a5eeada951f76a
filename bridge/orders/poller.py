"""Keeping order states current in the background (webhooks only speed this up).

Exactly one process per database polls: the one holding the poller lease. The others keep
trying, and one takes over within the lease's term if the holder dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from bridge.db.engine import Database
from bridge.db.shared import DatabaseLease
from bridge.orders.service import OrderService

POLLER_LEASE = "order-poller"
POLLER_LEASE_S = 15.0
"""How long the poller lease outlives its holder's last renewal (renewed every round)."""

STOP_GRACE_S = 10.0
"""How long shutting down waits for a polling round under way to finish."""

log = logging.getLogger("bridge.orders")


class OrderPoller:
    """Checks due orders every ``every_s`` seconds while this process holds the lease;
    ``also`` are further rounds run under the same lease (tasking's ``poll_due``)."""

    def __init__(
        self,
        orders: OrderService,
        db: Database,
        every_s: float,
        also: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self.orders = orders
        self.also = tuple(also)
        self.every_s = every_s
        term = max(POLLER_LEASE_S, 3 * every_s)
        self.lease = DatabaseLease(db, POLLER_LEASE, timedelta(seconds=term))
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Start polling in the background."""
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if await self.lease.acquire():
                    await self.orders.poll_due()
                    for poll in self.also:
                        await poll()
            except Exception:  # one bad round must not stop polling; it is logged
                log.exception("order polling round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop polling and hand the lease back.

        The round under way may finish first (up to ``grace_s``): a round cancelled in the
        middle of a database call can leave its connection neither returned nor closed.
        """
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace_s)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        with contextlib.suppress(Exception):  # the lease expires by itself anyway
            await self.lease.release()
