"""The guard stage through the official `openai` SDK: the built-in `pii-redact` and `block-terms`
guards in front of the mock upstream.

The mock's `mock-pii` model answers `PII_TEXT` (an email, a phone number, a card number and an
IBAN); streamed, its deltas split each of them across two chunks, so the stream tests show that
nothing of a match leaks before the guard has seen it whole. `block-terms` refuses the word
`mock`, which the mock's other models answer with ("Hello from mock").
"""

from __future__ import annotations

import hashlib
from typing import Iterator

import openai
import pytest
from conftest import DEMO_KEY, _serve
from mock_upstream import PII_DELTAS, PII_TEXT, MockUpstream

# What `pii-redact` makes of PII_TEXT with its default replacements.
REDACTED = "Reach [EMAIL] or [PHONE]; card [CARD], IBAN [IBAN]. Thanks!"
# Pieces of each item of PII_TEXT: none may reach the client.
LEAKS = ["alice", "example.com", "7946", "0958", "4111", "GB82", "WEST", "5698"]


def _config(mock_url: str) -> str:
    return f"""
[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "demo"
owner = "demo"
sha256 = "{hashlib.sha256(DEMO_KEY.encode()).hexdigest()}"

[[plugins]]
name = "pii"
stage = "guard"
source = "builtin:pii-redact"

[[plugins]]
name = "terms"
stage = "guard"
source = "builtin:block-terms"
[plugins.config]
terms = ["mock"]

[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock_url}/v1"
retries = 0

[[models]]
name = "mock-pii"
provider = "mock"

[[models]]
name = "gpt-mock"
provider = "mock"
upstream_model = "mock-model"
"""


@pytest.fixture(scope="module")
def guarded(
    mock_upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[openai.OpenAI]:
    """An SDK client of a gateway with the two guards."""
    folder = tmp_path_factory.mktemp("guard-gateway")
    config = folder / "gateway.toml"
    config.write_text(_config(mock_upstream.url))
    with _serve(config, folder, {}) as root:
        with openai.OpenAI(base_url=f"{root}/v1", api_key=DEMO_KEY, max_retries=0) as c:
            yield c


def _ask(text: str = "Who should I contact?") -> list[dict]:
    return [{"role": "user", "content": text}]


def test_the_mock_splits_every_item_across_chunks() -> None:
    # The stream tests mean something only if no item arrives whole in one delta.
    items = ["alice.smith@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32"]
    for leak in items:
        assert leak in PII_TEXT
        assert not any(leak in d for d in PII_DELTAS), leak


def test_a_json_answer_is_redacted(guarded: openai.OpenAI) -> None:
    r = guarded.chat.completions.create(model="mock-pii", messages=_ask())
    assert r.choices[0].message.content == REDACTED
    # The usage of the answer is still the provider's.
    assert r.usage is not None and r.usage.completion_tokens == 3


def test_a_stream_is_redacted_even_where_items_straddle_chunks(guarded: openai.OpenAI) -> None:
    stream = guarded.chat.completions.create(
        model="mock-pii",
        messages=_ask(),
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces = []
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
    text = "".join(pieces)
    assert text == REDACTED
    for piece in pieces:
        for leak in LEAKS:
            assert leak not in piece, (leak, piece)
    assert usage is not None and usage.prompt_tokens == 11


def test_personal_data_in_a_request_is_redacted_before_the_provider_sees_it(
    guarded: openai.OpenAI, upstream: MockUpstream
) -> None:
    guarded.chat.completions.create(
        model="mock-pii",
        messages=[
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "I am bob@corp.example.org, card 5555 5555 5555 4444"}],
            },
        ],
    )
    sent = [s.body for s in upstream.seen if s.path.startswith("/v1/chat")]
    assert len(sent) == 1
    assert sent[0]["messages"][1]["content"][0]["text"] == "I am [EMAIL], card [CARD]"
    assert sent[0]["messages"][0]["content"] == "Be brief."


def test_a_blocked_term_in_a_request_is_refused_before_the_provider(
    guarded: openai.OpenAI, upstream: MockUpstream
) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        guarded.chat.completions.create(model="mock-pii", messages=_ask("is this a mock?"))
    assert e.value.body["code"] == "blocked_term"
    assert "mock" not in e.value.body["message"]
    assert not [s for s in upstream.seen if s.path.startswith("/v1/chat")]


def test_a_blocked_answer_is_withheld(guarded: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as e:
        guarded.chat.completions.create(model="gpt-mock", messages=_ask())
    assert e.value.body["code"] == "blocked_term"
    assert "Hello" not in str(e.value.body)


def test_a_blocked_stream_ends_with_an_error_event(guarded: openai.OpenAI) -> None:
    stream = guarded.chat.completions.create(model="gpt-mock", messages=_ask(), stream=True)
    seen = []
    with pytest.raises(openai.APIError) as e:
        for chunk in stream:
            seen.extend(c.delta.content or "" for c in chunk.choices)
    assert "blocked_term" in str(e.value.body)
    assert "mock" not in "".join(seen)
