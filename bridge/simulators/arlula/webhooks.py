"""Completion webhooks: POST ``{event: "archive.order.complete", timestamp, payload}`` to an
order's ``webhooks`` when it completes (seed 002: the payload is the detailed order).

The simulator has no background workers, so delivery is triggered two ways, whichever
comes first, and sent once (``Order.notified``):

* an asyncio task started when the order is placed sleeps until the order's completion
  time, then sends (runs on the loop serving the request: the test's loop under
  ``httpx.ASGITransport``, uvicorn's when served on a port);
* any request that looks at the order after it completed sends it too (covers an
  injected clock that jumps ahead of the sleeping task).

Each URL gets up to three attempts (1 s, then 2 s apart) until it answers 2xx; outcomes
are appended to ``app.state.webhook_log``. The HTTP client is
``arlula_webhook_client`` (:mod:`.settings`) (an ``httpx.AsyncClient``, e.g. on a mock
transport in tests), else a fresh client per delivery.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.applications import Starlette

from bridge.simulators.arlula.orders import Order, delivered_at
from bridge.simulators.arlula.render import COMPLETE_EVENT, webhook_event
from bridge.simulators.arlula.tasking import settle

ATTEMPTS = 3
BACKOFF_S = 1.0
USER_AGENT = "Arlula-Webhooks/2023-01 (simulator)"  # assumed


def schedule(app: Starlette, order: Order) -> None:
    """Start the task that sends ``order``'s webhooks when it completes."""
    done = delivered_at(order)
    if not order.webhooks or done is None:
        return
    delay = max(0.0, done - app.state.ledger.clock())

    async def wait_then_notify() -> None:
        await asyncio.sleep(delay)
        await notify(app, order)

    _spawn(app, wait_then_notify())


def observe(app: Starlette, orders: list[Order]) -> None:
    """Send the webhooks of any of ``orders`` a request found complete and not notified."""
    for order in orders:
        if _due(app, order):
            _spawn(app, notify(app, order))


def _due(app: Starlette, order: Order) -> bool:
    done = delivered_at(order)
    return (
        bool(order.webhooks)
        and not order.notified
        and done is not None
        and (app.state.ledger.clock() >= done)
    )


def _spawn(app: Starlette, coro: Any) -> None:
    tasks: set[asyncio.Task[None]] = app.state.webhook_tasks
    task = asyncio.get_running_loop().create_task(coro)
    tasks.add(task)  # keep a reference until done (the loop holds tasks weakly)
    task.add_done_callback(tasks.discard)


async def notify(app: Starlette, order: Order) -> None:
    """Send ``order``'s completion event to each of its webhooks (once)."""
    if not _due(app, order):
        return
    order.notified = True
    settle(app)  # a tasking order's dataset exists once its campaign has captured
    from bridge.simulators.arlula.downloads import fill_sizes  # avoid an import cycle

    await fill_sizes(app, order)
    body = webhook_event(order, app.state.ledger.clock())
    client: httpx.AsyncClient | None = app.state.settings.webhook_client
    for url in order.webhooks:
        if client is not None:
            await _post(app, client, url, body, order.id)
        else:
            async with httpx.AsyncClient(timeout=10.0) as own:
                await _post(app, own, url, body, order.id)


async def _post(
    app: Starlette, client: httpx.AsyncClient, url: str, body: dict[str, Any], order_id: str
) -> None:
    entry: dict[str, Any] = {"url": url, "order": order_id, "event": COMPLETE_EVENT}
    for attempt in range(1, ATTEMPTS + 1):
        entry["attempts"] = attempt
        try:
            response = await client.post(url, json=body, headers={"User-Agent": USER_AGENT})
            entry["status"] = response.status_code
            if response.is_success:
                break
        except httpx.HTTPError as exc:
            entry["error"] = type(exc).__name__
        if attempt < ATTEMPTS:
            await asyncio.sleep(BACKOFF_S * attempt)
    app.state.webhook_log.append(entry)
