"""The bridge's exception hierarchy and the one table that maps it to HTTP statuses.

    BridgeError
    ├── BadRequest              400  the caller's request is malformed or contradictory
    │   └── LimitExceeded       400  ... or over one of the request limits (settings)
    ├── PayloadTooLarge         413  the body is larger than the limit
    ├── MethodNotAllowed        405  the route exists, not with that method
    ├── RateLimited             429  the caller sent too many requests (Retry-After)
    ├── ServiceUnavailable      503  not ready: the database or a dependency is down
    ├── NotFound                404  no such collection, item or order
    ├── Unauthorized            401  no or unknown API key
    ├── Forbidden               403  the key's tenant may not do this
    │   └── NotOrdered          403  ... download an asset it has no live order of
    ├── Conflict                409
    ├── Gone                    410  a delivery or signed download expired at the provider
    ├── PaymentRequired         402  the provider refused the order for lack of funds
    ├── OrderPending            202  not a failure: the asset's order is placed, not ready yet
    ├── UpstreamUnavailable     502  every provider a search involved failed
    │   └── UpstreamTimeout     504  ... and all of them by timing out
    └── ProviderError           502  a provider failed in a way the bridge cannot hide
        ├── ProviderAuthError   502  the provider refused the bridge's credentials
        ├── ProviderRateLimited 502  the provider kept answering 429
        ├── ProviderTimeout     504  the provider did not answer within its deadline
        └── ProviderBadResponse 502  the provider answered with something unparseable

Error bodies are STAC API style: ``{"code": <class name>, "description": <message>}``;
the HTTP layer adds members some errors carry in ``detail`` (``providers``, an ``order``,
the ``item`` to order) and turns ``retry_after`` into a ``Retry-After`` header.
"""

from __future__ import annotations

from typing import Any


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""

    def __init__(self, description: str, **detail: Any) -> None:
        super().__init__(description)
        self.description = description
        self.detail = detail

    @property
    def code(self) -> str:
        """The machine-readable error code: the class name."""
        return type(self).__name__


class BadRequest(BridgeError):
    """The request is malformed or contradictory."""


class LimitExceeded(BadRequest):
    """The request is over one of the configured limits; the description names it."""


class PayloadTooLarge(BridgeError):
    """The request body is larger than the configured limit."""


class MethodNotAllowed(BridgeError):
    """The route exists but does not take this method."""


class RateLimited(BridgeError):
    """Too many requests from one key or address; ``detail["retry_after"]`` in seconds."""


class ServiceUnavailable(BridgeError):
    """The bridge cannot serve now (e.g. its database is unreachable)."""


class NotFound(BridgeError):
    """The named resource does not exist (for this caller)."""


class Unauthorized(BridgeError):
    """No API key, or one the bridge does not know."""


class Forbidden(BridgeError):
    """The caller is known but may not do this."""


class NotOrdered(Forbidden):
    """The tenant has no live order of the item whose data asset it asked for.

    ``detail["item"]`` is ``(collection_id, item_id)``: the answer links to its order and
    quote endpoints.
    """

    def __init__(self, why: str, collection_id: str, item_id: str) -> None:
        super().__init__(
            f"{why}: order it first (POST the order link), then retry",
            item=(collection_id, item_id),
        )


class OrderPending(BridgeError):
    """The asset's order is placed but not delivered yet: come back later.

    Raised rather than returned so the asset route stays one straight path and the status
    comes from the one table; ``detail["order"]`` is the order record, shown in the body.
    """

    def __init__(self, status: str, order: Any, retry_after: int) -> None:
        super().__init__(
            f"the order is {status}; retry later", order=order, retry_after=retry_after
        )


class Conflict(BridgeError):
    """The request conflicts with the resource's current state."""


class UpstreamUnavailable(BridgeError):
    """Every provider a request involved failed; ``detail["providers"]`` says how."""


class UpstreamTimeout(UpstreamUnavailable):
    """Every provider a request involved failed by missing its deadline."""


class Gone(BridgeError):
    """The resource existed but is no longer available (an expired delivery)."""


class PaymentRequired(BridgeError):
    """The provider refused an order for lack of funds or credit."""


class ProviderError(BridgeError):
    """A provider failed."""

    def __init__(self, provider: str, description: str, **detail: Any) -> None:
        super().__init__(f"{provider}: {description}", provider=provider, **detail)
        self.provider = provider


class ProviderAuthError(ProviderError):
    """The provider refused the configured credentials."""


class ProviderRateLimited(ProviderError):
    """The provider kept answering 429 Too Many Requests."""


class ProviderTimeout(ProviderError):
    """The provider did not answer within its deadline."""


class ProviderBadResponse(ProviderError):
    """The provider answered with a body the adapter could not read."""


# The one table from exception class to HTTP status. Lookup walks the MRO, so a
# subclass without its own row inherits its parent's status.
STATUS_BY_ERROR: dict[type[BridgeError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    MethodNotAllowed: 405,
    PayloadTooLarge: 413,
    RateLimited: 429,
    ServiceUnavailable: 503,
    Gone: 410,
    PaymentRequired: 402,
    OrderPending: 202,
    UpstreamUnavailable: 502,
    UpstreamTimeout: 504,
    ProviderError: 502,
    ProviderTimeout: 504,
    BridgeError: 500,
}


def status_for(error: BridgeError) -> int:
    """Return the HTTP status for ``error`` from :data:`STATUS_BY_ERROR`."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


PROVIDER_REFUSALS = (BadRequest, NotFound, PaymentRequired, Forbidden, Conflict)
"""A provider's definite "no" to placing an order or a task: nothing was bought or
created, and the same request may be sent again."""
