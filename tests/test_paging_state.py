"""The paging state (bridge/core/tokens.py): one dataclass, signed into opaque tokens."""

from __future__ import annotations

import base64

import orjson
import pytest

from bridge.core.tokens import PagingState, TokenSigner
from bridge.errors import BadRequest

STATE = PagingState(
    "f" * 24,
    positions={"alpha": ["cursor-2", 7], "beta": [None, 0]},
    matched={"alpha": 120, "beta": None},
    failed={"gamma": "timed out"},
)


def test_a_state_survives_its_token() -> None:
    signer = TokenSigner(b"k" * 32)
    token = signer.encode(STATE)
    assert "alpha" not in token  # opaque text to the API and its clients
    assert signer.decode(token) == STATE


def test_a_state_belongs_to_one_search() -> None:
    STATE.check("f" * 24)
    with pytest.raises(BadRequest, match="different search"):
        STATE.check("0" * 24)


def test_tampered_foreign_and_malformed_tokens_are_bad_requests() -> None:
    signer = TokenSigner(b"k" * 32)
    token = signer.encode(STATE)
    with pytest.raises(BadRequest, match="signature"):
        TokenSigner(b"other" * 8).decode(token)
    with pytest.raises(BadRequest):
        signer.decode(token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:])
    with pytest.raises(BadRequest):
        signer.decode("%%%")


@pytest.mark.parametrize(
    "doc",
    [[], {"p": {}}, {"f": 1}, {"f": "x", "p": []}, {"f": "x", "p": {"a": [1]}}, {"f": "x", "m": 3}],
)
def test_a_signed_document_of_another_shape_is_refused(doc: object) -> None:
    signer = TokenSigner(b"k" * 32)
    payload = orjson.dumps(doc)
    raw = signer._sign(payload) + payload  # signed with the right key, wrong shape
    token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(BadRequest, match="invalid paging token"):
        signer.decode(token)
