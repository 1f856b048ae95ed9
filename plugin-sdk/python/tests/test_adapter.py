"""Unit tests of the provider adapter stage under plain CPython: the export glue of
`to-upstream`, `from-upstream` and the `stream-translator` resource (as the component's exports
would call them), plugin info, and the adapter helpers."""

from __future__ import annotations

import json
import sys
import types as pytypes
from dataclasses import dataclass, field
from typing import Dict

import pytest

import sluice_plugin
from sluice_plugin import (
    Adapter, Deny, PassThrough, Policy, Respond, Send, bad_upstream, endpoint_method,
    endpoint_path, sse_event, testing,
)
from sluice_plugin import _glue, export
from sluice_plugin._standins import adapter, types
from sluice_plugin._standins.componentize_py_types import Err


@pytest.fixture(autouse=True)
def clean():
    testing.reset()
    yield
    _glue.INSTANCE = None
    sys.modules.pop("adapter", None)
    sys.modules.pop("fake_adapter_app", None)


def exported(plugin: type) -> pytypes.ModuleType:
    """Exports `plugin` into a fresh module, as `export_adapter` does into the app module."""
    module = pytypes.ModuleType("fake_adapter_app")
    module.Adapter = Adapter  # as `from sluice_plugin import Adapter` would
    sys.modules["fake_adapter_app"] = module
    sluice_plugin.export_adapter(plugin, module="fake_adapter_app")
    return module


def ctx(stream: bool = False, endpoint=types.Endpoint.CHAT_COMPLETIONS):
    return testing.request_ctx(stream=stream, endpoint=endpoint)


PROVIDER = testing.provider("up", "http://127.0.0.1:9/v1", api_key="sk-up", upstream_model="m")


@dataclass
class Config:
    headers: Dict[str, str] = field(default_factory=dict)


class Forward(Adapter):
    """A pass-through adapter: the provider already speaks OpenAI."""

    passthrough = True

    def __init__(self, config: Config) -> None:
        self.headers = config.headers

    def to_upstream(self, ctx, provider, body):
        if ctx.model == "offline":
            return Respond({"object": "list", "data": []}, status=200)
        if ctx.model == "refused":
            return Deny(sluice_plugin.forbidden("not here"))
        headers = {**self.headers, "Authorization": f"Bearer {provider.api_key}"}
        return Send(endpoint_method(ctx.endpoint).lower(), endpoint_path(ctx.endpoint),
                    headers=headers, stream=ctx.stream)


def test_a_passthrough_adapter_declares_it_and_sends_the_request():
    app = exported(Forward)
    info = app.Lifecycle().init('{"headers": {"X-Team": "r"}}')
    assert info == sluice_plugin.PluginInfo(
        wants_body=False, passthrough=True, look_behind=0, native=[])
    call = app.Adapter().to_upstream(ctx(stream=True), PROVIDER, b"")
    assert call == adapter.UpstreamCall_Send(types.UpstreamRequest(
        method="POST", path="/chat/completions",
        headers=[("x-team", "r"), ("authorization", "Bearer sk-up")], body=None, stream=True))
    models = app.Adapter().to_upstream(ctx(endpoint=types.Endpoint.MODELS), PROVIDER, b"")
    assert (models.value.method, models.value.path) == ("GET", "/models")


def test_to_upstream_may_answer_without_a_provider_or_refuse():
    app = exported(Forward)
    answered = app.Adapter().to_upstream(testing.request_ctx(model="offline"), PROVIDER, b"")
    assert answered == adapter.UpstreamCall_Respond(types.HttpResponse(
        status=200, headers=[("content-type", "application/json")],
        body=b'{"object":"list","data":[]}'))
    with pytest.raises(Err) as e:
        app.Adapter().to_upstream(testing.request_ctx(model="refused"), PROVIDER, b"")
    assert (e.value.value.status, e.value.value.code) == (403, "forbidden")
    assert testing.logs() == []  # a refusal is an answer, not an error of the plugin


def test_without_start_stream_and_from_upstream_everything_passes_unchanged():
    app = exported(Forward)
    resp = testing.http_response(body={"id": "x"})
    assert app.Adapter().from_upstream(ctx(), resp) is None
    t = app.StreamTranslator(ctx(stream=True), PROVIDER)
    event = sse_event({"id": "c", "choices": []})
    assert event == types.SseEvent(event=None, data='{"id":"c","choices":[]}')
    assert t.on_event(event) == [event]
    assert t.finish() == ([], None)
    with pytest.raises(Err) as e:
        t.on_event(event)
    assert e.value.value.code == "stream_finished"


def test_the_resource_class_is_registered_where_componentize_py_looks():
    app = exported(Forward)
    assert sys.modules["adapter"].StreamTranslator is export.StreamTranslator
    assert app.StreamTranslator is export.StreamTranslator
    assert app.Adapter is export.Adapter  # the export class now answers for the interface
    assert isinstance(Forward.start_stream(None, ctx(), PROVIDER), PassThrough)


class Counting:
    """Upper-cases each chunk's data, drops `: ping` comments, and reports what it saw."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.events = 0

    def on_event(self, event):
        if event.data == "boom":
            return Deny(bad_upstream("the upstream stream broke"))
        if event.event == "ping":
            return []
        self.events += 1
        return [sse_event(event.data.upper(), event.event)]

    def finish(self):
        if self.events == 0:
            return Deny(bad_upstream("the stream ended before any chunk"))
        done = sse_event({"model": self.model, "events": self.events})
        return [done, sse_event("[DONE]")], testing.usage(3, self.events)


class Translate(Adapter):
    wants_body = True

    def to_upstream(self, ctx, provider, body):
        native = {"model": provider.upstream_model, "input": json.loads(body)["messages"]}
        return Send("POST", "/native", headers=[("x-key", provider.api_key)], body=native,
                    stream=ctx.stream)

    def from_upstream(self, ctx, resp):
        if resp.status >= 500:
            return Deny(bad_upstream(f"the provider answered {resp.status}"))
        if resp.status != 200:
            return None
        native = json.loads(resp.body)
        return Respond({"object": "chat.completion", "text": native["output"]})

    def start_stream(self, ctx, provider):
        return Counting(provider.upstream_model)


def test_a_translating_adapter_maps_requests_answers_and_streams():
    app = exported(Translate)
    assert app.Lifecycle().init("{}") == sluice_plugin.PluginInfo(
        wants_body=True, passthrough=False, look_behind=0, native=[])
    body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
    call = app.Adapter().to_upstream(ctx(), PROVIDER, body)
    assert call.value == types.UpstreamRequest(
        method="POST", path="/native", headers=[("x-key", "sk-up")],
        body=b'{"model":"m","input":[{"role":"user","content":"hi"}]}', stream=False)

    a = app.Adapter()
    assert a.from_upstream(ctx(), testing.http_response(body={"output": "yo"})) == \
        types.HttpResponse(status=200, headers=[("content-type", "application/json")],
                           body=b'{"object":"chat.completion","text":"yo"}')
    assert a.from_upstream(ctx(), testing.http_response(status=404, body="no")) is None
    with pytest.raises(Err) as e:
        a.from_upstream(ctx(), testing.http_response(status=503))
    assert e.value.value.status == 502

    t = app.StreamTranslator(ctx(stream=True), PROVIDER)
    assert t.on_event(types.SseEvent(event=None, data="a")) == [types.SseEvent(None, "A")]
    assert t.on_event(types.SseEvent(event="ping", data="")) == []
    assert t.on_event(types.SseEvent(event="x", data="b")) == [types.SseEvent("x", "B")]
    events, used = t.finish()
    assert [e.data for e in events] == ['{"model":"m","events":2}', "[DONE]"]
    assert used == types.Usage(prompt_tokens=3, completion_tokens=2, cached_tokens=0)


def test_each_stream_has_its_own_translator_and_errors_end_it():
    app = exported(Translate)
    one = app.StreamTranslator(ctx(stream=True), PROVIDER)
    two = app.StreamTranslator(ctx(stream=True), PROVIDER)
    one.on_event(types.SseEvent(None, "a"))
    with pytest.raises(Err) as e:
        two.finish()
    assert e.value.value.message == "the stream ended before any chunk"
    with pytest.raises(Err) as e:
        one.on_event(types.SseEvent(None, "boom"))
    assert e.value.value.code == "bad_upstream_response"
    assert one.finish()[1].completion_tokens == 1


def test_finish_may_return_only_events_or_nothing():
    class Short(PassThrough):
        def finish(self):
            return [sse_event("[DONE]")]

    class Quiet(PassThrough):
        def finish(self):
            return None

    for translator, events in ((Short(), ["[DONE]"]), (Quiet(), [])):
        class Plugin(Adapter):
            def to_upstream(self, ctx, provider, body):
                return Send("POST", "/x")

            def start_stream(self, ctx, provider, t=translator):
                return t

        app = exported(Plugin)
        got, used = app.StreamTranslator(ctx(), PROVIDER).finish()
        assert ([e.data for e in got], used) == (events, None)


def test_an_adapter_that_cannot_be_built_answers_500_plugin_config():
    class Strict(Adapter):
        def __init__(self, config: Config) -> None:
            pass

    app = exported(Strict)
    testing.set_config({"headers": "x"})
    with pytest.raises(Err) as e:
        app.Adapter().to_upstream(ctx(), PROVIDER, b"")
    assert (e.value.value.status, e.value.value.code) == (500, "plugin_config")
    with pytest.raises(Err):
        app.Adapter().from_upstream(ctx(), testing.http_response())
    t = app.StreamTranslator(ctx(), PROVIDER)
    for call in (lambda: t.on_event(types.SseEvent(None, "a")), t.finish):
        with pytest.raises(Err) as e:
            call()
        assert e.value.value.code == "plugin_config"


def test_bad_answers_are_logged_and_raised():
    class Broken(Adapter):
        def to_upstream(self, ctx, provider, body):
            return {"path": "/x"}

        def start_stream(self, ctx, provider):
            return None

    app = exported(Broken)
    with pytest.raises(TypeError, match="to_upstream must return"):
        app.Adapter().to_upstream(ctx(), PROVIDER, b"")
    assert "to_upstream raised" in testing.logs()[-1][1]
    with pytest.raises(TypeError, match="on_event` and `finish"):
        app.StreamTranslator(ctx(), PROVIDER)

    class BadEvents(PassThrough):
        def on_event(self, event):
            return event.data

    class Lists(Broken):
        def start_stream(self, ctx, provider):
            return BadEvents()

    app = exported(Lists)
    with pytest.raises(TypeError, match="list of SseEvent"):
        app.StreamTranslator(ctx(), PROVIDER).on_event(types.SseEvent(None, "a"))
    assert testing.logs()[-1][0] == "error" and "on_event raised" in testing.logs()[-1][1]


def test_only_adapters_are_exported_as_adapters():
    with pytest.raises(TypeError, match="subclass of sluice_plugin.Adapter"):
        sluice_plugin.export_adapter(Policy, module=__name__)


def test_endpoint_methods_and_paths():
    assert [(endpoint_method(e), endpoint_path(e)) for e in types.Endpoint][:6] == [
        ("POST", "/chat/completions"), ("POST", "/completions"), ("POST", "/embeddings"),
        ("GET", "/models"), ("POST", "/audio/speech"), ("POST", "/images/generations")]
    assert endpoint_method(types.Endpoint.USAGE) == "GET"
    assert endpoint_path(types.Endpoint.MCP) == "/mcp-servers/{name}/mcp"
