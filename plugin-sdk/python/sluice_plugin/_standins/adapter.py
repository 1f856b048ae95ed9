"""Stand-in for the generated `wit_world.exports.adapter` (interface `adapter`: the provider
adapter stage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

from .types import HttpResponse, RequestCtx, SseEvent, UpstreamRequest, Usage


@dataclass
class Provider:
    """The provider a request is routed to."""

    name: str
    base_url: str
    api_key: Optional[str]
    upstream_model: str


@dataclass
class UpstreamCall_Send:
    """Send this request to the provider."""

    value: UpstreamRequest


@dataclass
class UpstreamCall_Respond:
    """Answer without any provider."""

    value: HttpResponse


UpstreamCall = Union[UpstreamCall_Send, UpstreamCall_Respond]


class StreamTranslator:
    """The `stream-translator` resource as componentize-py declares it (a protocol): the SDK's
    implementation is `sluice_plugin.export.StreamTranslator`."""

    def __init__(self, ctx: RequestCtx, provider: Provider) -> None:
        raise NotImplementedError

    def on_event(self, event: SseEvent) -> List[SseEvent]:
        raise NotImplementedError

    def finish(self) -> Tuple[List[SseEvent], Optional[Usage]]:
        raise NotImplementedError
