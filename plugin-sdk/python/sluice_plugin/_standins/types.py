"""Stand-in for the generated `wit_world.imports.types` (interface `types`: values shared by every
stage). See `wit/plugin.wit` for what each field means."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import List, Optional, Tuple, Union


class Endpoint(Enum):
    """The endpoint a request was made to."""

    CHAT_COMPLETIONS = 0
    COMPLETIONS = 1
    EMBEDDINGS = 2
    MODELS = 3
    AUDIO_SPEECH = 4
    IMAGES_GENERATIONS = 5
    FILES = 6
    BATCHES = 7
    MCP = 8
    USAGE = 9
    MESSAGES = 10
    RESPONSES = 11
    AUDIO_TRANSCRIPTIONS = 12
    AUDIO_TRANSLATIONS = 13
    IMAGES_EDITS = 14
    IMAGES_VARIATIONS = 15
    MODERATIONS = 16


@dataclass
class RequestCtx:
    """What the host knows about a request before any plugin runs."""

    request_id: str
    endpoint: Endpoint
    model: str
    stream: bool
    user_id: Optional[str]
    key_id: Optional[str]
    headers: List[Tuple[str, str]]


@dataclass
class LlmMeta:
    """A summary of the request body that the host parses once."""

    max_tokens: Optional[int]
    est_prompt_tokens: int
    n: int


@dataclass
class Principal:
    """The identity behind a bearer key, produced by the auth stage."""

    key_id: str
    owner: str
    team: Optional[str]
    models: List[str]
    attributes: List[Tuple[str, str]]
    mcp_servers: List[str]


@dataclass
class HttpResponse:
    """An HTTP response: a whole reply to the client, or what an upstream answered."""

    status: int
    headers: List[Tuple[str, str]]
    body: bytes


@dataclass
class UpstreamRequest:
    """The request an adapter asks the host to send to the provider."""

    method: str
    path: str
    headers: List[Tuple[str, str]]
    body: Optional[bytes]
    stream: bool


@dataclass
class SseEvent:
    """One whole server-sent event."""

    event: Optional[str]
    data: str


@dataclass
class Usage:
    """Token usage of one call."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


@dataclass
class ErrorBody:
    """An error in OpenAI's shape and its HTTP status."""

    status: int
    type: str
    code: Optional[str]
    param: Optional[str]
    message: str
    retry_after: Optional[int]


@dataclass
class Allow:
    """What a request-stage plugin adds when it lets a request through."""

    headers: List[Tuple[str, str]]
    metadata: List[Tuple[str, str]]
    body: Optional[bytes]


@dataclass
class Decision_Continue:
    """Let the request go on to the next stage."""

    value: Allow


@dataclass
class Decision_Deny:
    """Refuse the request with this error."""

    value: ErrorBody


@dataclass
class Decision_Respond:
    """Answer the request now with this whole response."""

    value: HttpResponse


Decision = Union[Decision_Continue, Decision_Deny, Decision_Respond]


@dataclass
class Outcome:
    """What the host knows once a response is complete."""

    status: int
    provider: str
    served_model: str
    usage: Optional[Usage]
    latency_ms: int
    upstream_us: int


@dataclass
class Enrichment:
    """What a response-stage plugin adds to a response."""

    headers: List[Tuple[str, str]]
    metadata: List[Tuple[str, str]]
    cost_usd: Optional[float]
