"""The Batch API through the official SDK (`client.batches.*`): the gateway runs every line through
its own pipeline, here against the offline `echo` provider, with two keys of different owners."""

from __future__ import annotations

import io
import json
import time
from typing import Iterator

import openai
import pytest
from conftest import owners_gateway

ANN_KEY = "sk-batch-ann"
BOB_KEY = "sk-batch-bob"


@pytest.fixture(scope="module")
def batch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with owners_gateway(tmp_path_factory, {"ann": ANN_KEY, "bob": BOB_KEY}, "") as url:
        yield url


@pytest.fixture
def ann(batch_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=batch_url, api_key=ANN_KEY, max_retries=0) as c:
        yield c


@pytest.fixture
def bob(batch_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=batch_url, api_key=BOB_KEY, max_retries=0) as c:
        yield c


def _line(custom_id: str, text: str, **extra: object) -> dict:
    body = {"model": "echo", "messages": [{"role": "user", "content": text}], **extra}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def _upload(client: openai.OpenAI, lines: list) -> str:
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return client.files.create(file=("in.jsonl", io.BytesIO(data)), purpose="batch").id


def _wait(client: openai.OpenAI, batch_id: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        b = client.batches.retrieve(batch_id)
        if b.status in ("completed", "failed", "cancelled", "expired"):
            return b
        assert time.monotonic() < deadline, f"batch still {b.status}"
        time.sleep(0.1)


def test_a_batch_runs_every_line_and_writes_its_results(ann: openai.OpenAI) -> None:
    lines = [_line(f"req-{i}", f"hello {i}", user_id=f"user-{i}") for i in range(6)]
    lines.append(_line("streamed", "no", stream=True))
    created = ann.batches.create(
        input_file_id=_upload(ann, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": "nightly"},
        output_expires_after={"anchor": "created_at", "seconds": 7200},
    )
    assert created.status in ("in_progress", "finalizing", "completed")
    assert created.metadata == {"job": "nightly"}
    b = _wait(ann, created.id)
    assert b.status == "completed"
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (7, 6, 1)
    assert b.usage is not None and b.usage.input_tokens > 0 and b.usage.output_tokens > 0

    out = [json.loads(x) for x in ann.files.content(b.output_file_id).text.splitlines()]
    assert sorted(x["custom_id"] for x in out) == [f"req-{i}" for i in range(6)]
    for x in out:
        assert x["response"]["status_code"] == 200
        assert x["response"]["request_id"].startswith("req_")
        i = x["custom_id"].split("-")[1]
        assert f"hello {i}" in x["response"]["body"]["choices"][0]["message"]["content"]
    errors = [json.loads(x) for x in ann.files.content(b.error_file_id).text.splitlines()]
    assert [x["custom_id"] for x in errors] == ["streamed"]
    assert errors[0]["error"]["code"] == "stream_unsupported"
    output = ann.files.retrieve(b.output_file_id)
    assert output.purpose == "batch_output"
    assert output.expires_at == output.created_at + 7200


def test_invalid_input_fails_the_batch_naming_each_line(ann: openai.OpenAI) -> None:
    lines = [
        _line("a", "ok"),
        _line("a", "duplicate"),
        {**_line("b", "x"), "method": "GET"},
        {**_line("c", "x"), "url": "/v1/embeddings"},
        {**_line("d", "x"), "body": {"model": "no-such-model", "messages": []}},
    ]
    b = ann.batches.create(
        input_file_id=_upload(ann, lines), endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert b.status == "failed"
    assert b.errors is not None
    assert [(e.code, e.line) for e in b.errors.data] == [
        ("duplicate_custom_id", 2),
        ("invalid_method", 3),
        ("invalid_url", 4),
        ("model_not_found", 5),
    ]


def test_batches_are_invisible_to_other_owners(ann: openai.OpenAI, bob: openai.OpenAI) -> None:
    file_id = _upload(ann, [_line("only", "mine")])
    with pytest.raises(openai.NotFoundError):
        bob.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    b = ann.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    for call in (lambda: bob.batches.retrieve(b.id), lambda: bob.batches.cancel(b.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    assert b.id not in [x.id for x in bob.batches.list()]
    assert b.id in [x.id for x in ann.batches.list()]
    done = _wait(ann, b.id)
    # A finished batch cannot be cancelled.
    with pytest.raises(openai.BadRequestError):
        ann.batches.cancel(done.id)


def test_requests_are_checked(ann: openai.OpenAI) -> None:
    file_id = _upload(ann, [_line("x", "y")])
    with pytest.raises(openai.BadRequestError) as e:
        ann.batches.create(input_file_id=file_id, endpoint="/v1/audio/speech", completion_window="24h")  # type: ignore[arg-type]
    assert e.value.body["param"] == "endpoint"
    with pytest.raises(openai.BadRequestError) as e:
        ann.batches.create(
            input_file_id=file_id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
            metadata={f"k{i}": "v" for i in range(17)},
        )
    assert e.value.body["param"] == "metadata"
    not_batch = ann.files.create(file=("x.jsonl", io.BytesIO(b"{}\n")), purpose="user_data").id
    with pytest.raises(openai.BadRequestError) as e:
        ann.batches.create(input_file_id=not_batch, endpoint="/v1/chat/completions", completion_window="24h")
    assert e.value.body["param"] == "input_file_id"
