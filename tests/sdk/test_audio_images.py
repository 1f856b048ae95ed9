"""The multipart endpoints and moderations through the official `openai` SDK: transcriptions (json,
text, verbose_json, streamed), translations, image edits and variations, and moderations, against
the gateway's offline `echo` model and, through the mock gateway, the mock OpenAI upstream (which
records the fields and the file's bytes it received)."""

from __future__ import annotations

import base64

import pytest

# `translations` and `create_variation` are marked deprecated by the SDK; they are still served.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

AUDIO = bytes(range(256)) * 125  # 32,000 bytes: one second for echo
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJ"
    "RU5ErkJggg=="
)


def wav():
    return ("talk.wav", AUDIO, "audio/wav")


# --- The echo model (offline) --------------------------------------------------------------------


def test_echo_transcription_json_text_and_verbose_json(client):
    t = client.audio.transcriptions.create(model="echo", file=wav())
    assert t.text == "echo heard 32000 bytes of audio/wav (talk.wav)"
    text = client.audio.transcriptions.create(model="echo", file=wav(), response_format="text")
    assert isinstance(text, str) and text.strip() == t.text
    v = client.audio.transcriptions.create(
        model="echo",
        file=wav(),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="en",
    )
    assert v.duration == 1.0 and v.language == "en"
    assert v.segments[0].text == t.text
    assert [w.word for w in v.words] == t.text.split()


def test_echo_transcription_streams_transcript_events(client):
    events = list(client.audio.transcriptions.create(model="echo", file=wav(), stream=True))
    deltas = "".join(e.delta for e in events if e.type == "transcript.text.delta")
    done = events[-1]
    assert done.type == "transcript.text.done"
    assert deltas == done.text == "echo heard 32000 bytes of audio/wav (talk.wav)"
    assert done.usage.input_tokens == 10  # one a 100 ms
    assert done.model_extra["sluice"]["provider"] == "echo"


def test_echo_translation(client):
    t = client.audio.translations.create(model="echo", file=wav())
    assert t.text.endswith("into English")
    srt = client.audio.translations.create(model="echo", file=wav(), response_format="srt")
    assert "00:00:00,000 --> 00:00:01,000" in srt


def test_echo_image_edit_and_variation(client):
    edited = client.images.edit(
        model="echo",
        image=[("a.png", PNG, "image/png"), ("b.png", PNG, "image/png")],
        prompt="add a hat",
        n=2,
        response_format="b64_json",
    )
    assert len(edited.data) == 2
    assert base64.b64decode(edited.data[0].b64_json)[1:4] == b"PNG"
    assert edited.usage.input_tokens == 3 + 2  # the prompt's words and the two images
    varied = client.images.create_variation(model="echo", image=("v.png", PNG, "image/png"))
    assert varied.data[0].url.startswith("data:image/png;base64,")


def test_echo_moderation(client):
    m = client.moderations.create(model="echo", input=["hello", "a [flag:violence] b"])
    assert [r.flagged for r in m.results] == [False, True]
    assert m.results[1].categories.violence is True
    assert m.results[1].categories.violence_graphic is False
    assert m.results[0].category_scores.hate == 0.0


def test_a_missing_file_or_model_names_it(client):
    import openai

    with pytest.raises(openai.BadRequestError) as e:
        client.post(
            "/audio/transcriptions",
            cast_to=object,
            body={"model": "echo"},
            options={"headers": {"Content-Type": "multipart/form-data"}},
            files=[("nope", ("a.txt", b"x", "text/plain"))],
        )
    assert e.value.body["param"] == "file"


# --- The mock upstream, through the mock gateway -------------------------------------------------


def test_mock_transcription_gets_the_fields_and_the_bytes(mock_client, upstream):
    t = mock_client.audio.transcriptions.create(
        model="gpt-mock", file=wav(), language="fr", prompt="names: Ada"
    )
    assert t.text == "Hello from mock"
    seen = upstream.seen[-1]
    assert seen.path == "/v1/audio/transcriptions"
    assert seen.headers["authorization"] == "Bearer sk-upstream"
    assert seen.body["fields"]["model"] == "mock-model"
    assert seen.body["fields"]["language"] == "fr"
    assert seen.body["fields"]["prompt"] == "names: Ada"
    (f,) = seen.body["files"]["file"]
    assert (f["filename"], f["content_type"], f["data"]) == ("talk.wav", "audio/wav", AUDIO)


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_mock_transcription_text_formats(mock_client, upstream, fmt):
    out = mock_client.audio.transcriptions.create(model="gpt-mock", file=wav(), response_format=fmt)
    assert isinstance(out, str) and "Hello from mock" in out
    assert upstream.seen[-1].body["fields"]["response_format"] == fmt


def test_mock_transcription_verbose_json_and_stream(mock_client, upstream):
    v = mock_client.audio.transcriptions.create(
        model="gpt-mock", file=wav(), response_format="verbose_json"
    )
    assert v.duration == 2.5
    stream = mock_client.audio.transcriptions.create(model="gpt-mock", file=wav(), stream=True)
    events = list(stream)
    assert [e.type for e in events] == ["transcript.text.delta"] * 3 + ["transcript.text.done"]
    assert events[-1].usage.output_tokens == 3
    assert upstream.seen[-1].body["fields"]["stream"] == "true"


def test_mock_translation_images_and_moderation(mock_client, upstream):
    translated = mock_client.audio.translations.create(model="gpt-mock", file=wav())
    assert translated.text == "Hello from mock"
    edited = mock_client.images.edit(
        model="gpt-mock", image=("a.png", PNG, "image/png"), mask=("m.png", PNG, "image/png"),
        prompt="a hat",
    )
    assert edited.usage.total_tokens == 50
    edit = upstream.seen[-1].body
    assert edit["fields"]["prompt"] == "a hat"
    assert edit["files"]["mask"][0]["data"] == PNG
    varied = mock_client.images.create_variation(
        model="gpt-mock", image=("v.png", PNG, "image/png"), n=1
    )
    assert varied.data[0].b64_json
    assert upstream.seen[-1].body["fields"]["n"] == "1"
    m = mock_client.moderations.create(model="gpt-mock", input=["a", "b"])
    assert len(m.results) == 2
    assert upstream.seen[-1].body == {"model": "mock-model", "input": ["a", "b"]}
