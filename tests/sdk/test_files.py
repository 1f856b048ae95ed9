"""The Files API through the official SDK (`client.files.*`), with two keys of different owners."""

from __future__ import annotations

import io
from typing import Iterator

import openai
import pytest
from conftest import owners_gateway

ANN_KEY = "sk-files-ann"
BOB_KEY = "sk-files-bob"


@pytest.fixture(scope="module")
def files_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with owners_gateway(tmp_path_factory, {"ann": ANN_KEY, "bob": BOB_KEY}, "[files]\nmax_file_bytes = 65536") as url:
        yield url


@pytest.fixture
def ann(files_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=files_url, api_key=ANN_KEY, max_retries=0) as c:
        yield c


@pytest.fixture
def bob(files_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=files_url, api_key=BOB_KEY, max_retries=0) as c:
        yield c


LINES = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n'


def test_upload_list_retrieve_download_delete(ann: openai.OpenAI) -> None:
    f = ann.files.create(file=("requests.jsonl", io.BytesIO(LINES)), purpose="batch")
    assert f.id.startswith("file-")
    assert (f.object, f.bytes, f.filename, f.purpose, f.status) == (
        "file", len(LINES), "requests.jsonl", "batch", "processed")
    # Batch files expire after 30 days, like OpenAI's.
    assert f.expires_at == f.created_at + 30 * 86400

    assert ann.files.retrieve(f.id).id == f.id
    listed = ann.files.list(purpose="batch")
    assert f.id in [x.id for x in listed.data]
    content = ann.files.content(f.id)
    assert content.read() == LINES
    assert content.response.headers["content-type"] == "application/jsonl"

    deleted = ann.files.delete(f.id)
    assert (deleted.id, deleted.deleted) == (f.id, True)
    with pytest.raises(openai.NotFoundError):
        ann.files.retrieve(f.id)


def test_expires_after_is_honoured_and_checked(ann: openai.OpenAI) -> None:
    f = ann.files.create(
        file=("notes.txt", io.BytesIO(b"hello")),
        purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert f.expires_at == f.created_at + 3600
    with pytest.raises(openai.BadRequestError) as e:
        ann.files.create(
            file=("notes.txt", io.BytesIO(b"hello")),
            purpose="user_data",
            expires_after={"anchor": "created_at", "seconds": 60},
        )
    assert e.value.body["param"] == "expires_after[seconds]"


def test_other_owners_get_404_and_see_nothing(ann: openai.OpenAI, bob: openai.OpenAI) -> None:
    f = ann.files.create(file=("private.jsonl", io.BytesIO(LINES)), purpose="batch")
    for call in (
        lambda: bob.files.retrieve(f.id),
        lambda: bob.files.content(f.id),
        lambda: bob.files.delete(f.id),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    assert f.id not in [x.id for x in bob.files.list().data]
    # Still there for its owner.
    assert ann.files.retrieve(f.id).id == f.id


def test_bad_purpose_and_oversized_files(ann: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        ann.files.create(file=("a.txt", io.BytesIO(b"x")), purpose="nonsense")  # type: ignore[arg-type]
    assert e.value.body["param"] == "purpose"
    with pytest.raises(openai.APIStatusError) as e:
        ann.files.create(file=("big.bin", io.BytesIO(b"x" * 70000)), purpose="user_data")
    assert e.value.status_code == 413
    assert "65536" in e.value.message


def test_pages_follow_after_and_order(ann: openai.OpenAI) -> None:
    ids = [
        ann.files.create(file=(f"p{i}.txt", io.BytesIO(b"p")), purpose="evals").id
        for i in range(3)
    ]
    first = ann.files.list(purpose="evals", limit=2, order="asc")
    assert [x.id for x in first.data] == ids[:2]
    assert first.has_more
    rest = ann.files.list(purpose="evals", limit=2, order="asc", after=ids[1])
    assert [x.id for x in rest.data] == ids[2:]
    # The SDK's auto-pagination walks every page.
    assert [x.id for x in ann.files.list(purpose="evals", limit=1, order="asc")] == ids
