"""The mock upstream's multipart endpoints (`/v1/audio/transcriptions`, `/v1/audio/translations`,
`/v1/images/edits`, `/v1/images/variations`) and `/v1/moderations`, mixed into its handler; what
they answer is described in `mock_upstream.py`."""

from __future__ import annotations

import json

# The same text and image the rest of the mock answers with.
WORDS = ("Hello", " from", " mock")
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _sse(data: dict | str) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def parse_multipart(content_type: str, raw: bytes) -> dict:
    """A multipart/form-data body as `{"fields": {...}, "files": {...}}` (see the module's doc)."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields: dict = {}
    files: dict = {}
    for part in raw.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = dict(
            line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line
        )
        headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
        disposition = dict(
            p.strip().split("=", 1) for p in headers["content-disposition"].split(";") if "=" in p
        )
        name = disposition["name"].strip('"')
        if "filename" in disposition:
            entry = {"filename": disposition["filename"].strip('"'),
                     "content_type": headers.get("content-type"), "data": data}
            files.setdefault(name, []).append(entry)
        elif name in fields:
            previous = fields[name] if isinstance(fields[name], list) else [fields[name]]
            fields[name] = previous + [data.decode()]
        else:
            fields[name] = data.decode()
    return {"fields": fields, "files": files}


class UploadRoutes:
    """Routes of the handler in `mock_upstream.py` (which provides `_json`, `_bytes`, `_stream`)."""

    def _transcription(self, body: dict) -> None:
        fields = body["fields"]
        text = "".join(WORDS)
        if fields.get("stream") == "true":
            events = [{"type": "transcript.text.delta", "delta": w} for w in WORDS]
            usage = {"type": "tokens", "input_tokens": 11, "output_tokens": 3, "total_tokens": 14}
            events.append({"type": "transcript.text.done", "text": text, "usage": usage})
            return self._stream(b"".join(_sse(e) for e in events) + _sse("[DONE]"))
        fmt = fields.get("response_format", "json")
        if fmt == "verbose_json":
            segment = {"id": 0, "start": 0.0, "end": 2.5, "text": text}
            answer = {"task": "transcribe", "language": "english", "duration": 2.5,
                      "text": text, "segments": [segment]}
            return self._json(200, answer)
        if fmt in ("text", "srt", "vtt"):
            cue = "00:00:00.000 --> 00:00:02.500"
            out = {
                "text": f"{text}\n",
                "srt": f"1\n{cue.replace('.', ',')}\n{text}\n\n",
                "vtt": f"WEBVTT\n\n{cue}\n{text}\n\n",
            }
            return self._bytes(200, "text/plain; charset=utf-8", [out[fmt].encode()])
        usage = {"type": "tokens", "input_tokens": 11, "output_tokens": 3, "total_tokens": 14}
        self._json(200, {"text": text, "usage": usage})

    def _translation(self, body: dict) -> None:
        self._json(200, {"text": "".join(WORDS), "usage": {"type": "duration", "seconds": 3}})

    def _image_edit(self, body: dict) -> None:
        answer: dict = {"created": 1, "data": [{"b64_json": PNG_BASE64}]}
        if self.path.endswith("/edits"):
            answer["usage"] = {"input_tokens": 20, "output_tokens": 30, "total_tokens": 50,
                               "input_tokens_details": {"text_tokens": 5, "image_tokens": 15}}
        self._json(200, answer)

    def _moderation(self, body: dict) -> None:
        inputs = body["input"]
        texts = isinstance(inputs, list) and all(isinstance(i, str) for i in inputs)
        n = len(inputs) if texts else 1
        result = {"flagged": False, "categories": {"hate": False}, "category_scores": {"hate": 0.0}}
        self._json(200, {"id": "modr-mock", "model": body["model"], "results": [result] * n})
