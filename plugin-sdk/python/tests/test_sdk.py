"""Unit tests of the SDK under plain CPython: config parsing, the export glue of every stage (as
the component's exports would call it), and the helpers. The stand-ins take the place of the
generated bindings here."""

from __future__ import annotations

import types as pytypes
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Literal, Optional

import pytest

import sluice_plugin
from sluice_plugin import (
    Allow, Auth, ConfigError, Continue, Deny, Enrich, Enrichment, Guard, McpPolicy, Policy,
    Replace, Respond, Rewrite, Stop, attribute, bad_request, header, mcp_error, testing,
)
from sluice_plugin import _glue
from sluice_plugin._standins import guard_stage, mcp_types, types
from sluice_plugin._standins.componentize_py_types import Err
from sluice_plugin.guard import for_each_text


@pytest.fixture(autouse=True)
def clean():
    testing.reset()
    yield
    _glue.INSTANCE = None


def exported(stage: str, plugin: type) -> pytypes.ModuleType:
    """Exports `plugin` into a fresh module, as `export_<stage>` does into the app module."""
    module = pytypes.ModuleType("fake_app")
    import sys
    sys.modules["fake_app"] = module
    getattr(sluice_plugin, f"export_{stage.replace('-', '_')}")(plugin, module="fake_app")
    return module


# --- config ------------------------------------------------------------------------------------


class Tier(Enum):
    FREE = "free"
    PRO = "pro"


@dataclass
class Limits:
    rpm: int
    burst: Optional[int] = None


@dataclass
class Config:
    name: str
    limits: Limits
    ratio: float = 1.0
    tags: List[str] = field(default_factory=list)
    tier: Tier = Tier.FREE
    mode: Literal["a", "b"] = "a"
    extra: Dict[str, Any] = field(default_factory=dict)


class Typed(Policy):
    def __init__(self, config: Config) -> None:
        self.config = config


def test_a_config_is_parsed_into_the_declared_dataclass():
    p = testing.build(Typed, {"name": "n", "limits": {"rpm": 5}, "ratio": 2, "tags": ["x"],
                              "tier": "pro", "mode": "b", "extra": {"k": [1]}})
    assert p.config == Config("n", Limits(5), 2.0, ["x"], Tier.PRO, "b", {"k": [1]})


@pytest.mark.parametrize(("config", "message"), [
    ({"limits": {"rpm": 1}}, "invalid config: missing field `name`"),
    ({"name": "n", "limits": {"rpm": 1, "rps": 2}}, "invalid config: unknown field `limits.rps`"),
    ({"name": "n", "limits": {"rpm": True}}, "invalid config: `limits.rpm`: expected an integer, got a boolean"),
    ({"name": "n", "limits": {"rpm": 1}, "tags": [1]}, "invalid config: `tags[0]`: expected a string"),
    ({"name": "n", "limits": {"rpm": 1}, "tier": "gold"}, "invalid config: `tier`: expected one of"),
    ({"name": "n", "limits": {"rpm": 1}, "mode": "c"}, "invalid config: `mode`: expected one of"),
])
def test_a_bad_config_names_the_field(config, message):
    with pytest.raises(ConfigError) as e:
        testing.build(Typed, config)
    assert str(e.value).startswith(message)


def test_configless_and_dict_plugins():
    class NoConfig(Policy):
        pass

    class Loose(Policy):
        def __init__(self, config):
            self.config = config

    assert isinstance(testing.build(NoConfig, {"anything": 1}), NoConfig)
    assert testing.build(Loose, '{"a": 1}').config == {"a": 1}
    assert testing.build(Loose, "  ").config == {}
    with pytest.raises(ConfigError, match="not JSON"):
        testing.build(Loose, "{")


# --- policy glue -------------------------------------------------------------------------------


class Cap(Policy):
    wants_body = True

    def __init__(self, config: Limits) -> None:
        if config.rpm < 0:
            raise ValueError("rpm must not be negative")
        self.cap = config.rpm

    def on_request(self, ctx, principal, meta, body):
        if meta.max_tokens is None:
            return Allow()
        if meta.max_tokens > self.cap:
            return Deny(bad_request("too many", param="max_tokens"))
        if meta.max_tokens == 0:
            return Respond({"ok": True}, status=201)
        return Continue(headers=[("X-Cap", str(self.cap))], metadata={"cap": self.cap},
                        body={"rewritten": True})


def test_the_policy_glue_builds_once_and_converts_decisions():
    app = exported("policy", Cap)
    info = app.Lifecycle().init('{"rpm": 10}')
    assert info == sluice_plugin.PluginInfo(
        wants_body=True, passthrough=False, look_behind=0, native=[])
    stage = app.PolicyStage()
    ctx, who = testing.request_ctx(), testing.principal()
    assert stage.on_request(ctx, who, testing.llm_meta(), b"") == types.Decision_Continue(
        types.Allow(headers=[], metadata=[], body=None))
    assert stage.on_request(ctx, who, testing.llm_meta(max_tokens=5), b"") == types.Decision_Continue(
        types.Allow(headers=[("x-cap", "10")], metadata=[("cap", "10")], body=b'{"rewritten":true}'))
    denied = stage.on_request(ctx, who, testing.llm_meta(max_tokens=11), b"")
    assert isinstance(denied, types.Decision_Deny) and denied.value.param == "max_tokens"
    answered = stage.on_request(ctx, who, testing.llm_meta(max_tokens=0), b"")
    assert answered == types.Decision_Respond(types.HttpResponse(
        status=201, headers=[("content-type", "application/json")], body=b'{"ok":true}'))
    assert stage.on_complete(ctx, who, testing.llm_meta(), testing.outcome()) is None


def test_init_rejects_a_bad_config_with_err():
    app = exported("policy", Cap)
    with pytest.raises(Err) as e:
        app.Lifecycle().init('{"rpm": -1}')
    assert e.value.value == "rpm must not be negative"


def test_an_instance_without_init_builds_from_the_config_import():
    app = exported("policy", Cap)
    testing.set_config({"rpm": 3})
    d = app.PolicyStage().on_request(testing.request_ctx(), testing.principal(),
                                     testing.llm_meta(max_tokens=4), b"")
    assert isinstance(d, types.Decision_Deny)


def test_a_plugin_that_cannot_be_built_answers_500_plugin_config():
    app = exported("policy", Cap)
    testing.set_config({"rpm": "x"})
    d = app.PolicyStage().on_request(testing.request_ctx(), testing.principal(),
                                     testing.llm_meta(), b"")
    assert isinstance(d, types.Decision_Deny)
    assert (d.value.status, d.value.code) == (500, "plugin_config")
    app.PolicyStage().on_complete(testing.request_ctx(), testing.principal(), testing.llm_meta(),
                                  testing.outcome())
    assert testing.logs()[-1][0] == "error"


def test_an_exception_is_logged_and_raised():
    class Broken(Policy):
        def on_request(self, ctx, principal, meta, body):
            return "not a decision"

    app = exported("policy", Broken)
    with pytest.raises(TypeError):
        app.PolicyStage().on_request(testing.request_ctx(), testing.principal(),
                                     testing.llm_meta(), b"")
    level, message = testing.logs()[-1]
    assert level == "error" and "on_request raised" in message and "TypeError" in message


# --- guard glue --------------------------------------------------------------------------------


class Redact(Guard):
    look_behind = 3

    def check_json(self, ctx, principal, direction, body):
        if "forbidden" in str(body):
            return Deny(bad_request("no"))
        if for_each_text(body, lambda t: t.replace("bob", "***")):
            return Rewrite(body)
        return Allow()

    def check_text(self, ctx, principal, choice, text, last):
        if "forbidden" in text:
            return Stop(bad_request("no"))
        return Replace(text.replace("bob", "***")) if "bob" in text else Allow()


def test_the_guard_glue():
    app = exported("guard", Redact)
    assert app.Lifecycle().init("").look_behind == 3
    g, ctx = app.GuardStage(), testing.request_ctx()
    req = guard_stage.Direction.REQUEST
    assert g.check_json(ctx, None, req, '{"messages":[{"role":"user","content":"hi"}]}') == \
        guard_stage.Verdict_Allow()
    assert g.check_json(ctx, None, req, '{"messages":[{"role":"user","content":"hi bob"}]}') == \
        guard_stage.Verdict_Rewrite('{"messages":[{"role":"user","content":"hi ***"}]}')
    assert isinstance(g.check_json(ctx, None, req, '{"prompt":"forbidden"}'), guard_stage.Verdict_Deny)
    bad = g.check_json(ctx, None, req, "not json")
    assert isinstance(bad, guard_stage.Verdict_Deny) and bad.value.code == "guard_input"
    assert g.check_text(ctx, None, 0, "hello", False) == guard_stage.TextVerdict_Allow()
    assert g.check_text(ctx, None, 0, "a bob", True) == guard_stage.TextVerdict_Replace("a ***")
    assert isinstance(g.check_text(ctx, None, 0, "forbidden", True), guard_stage.TextVerdict_Stop)


def test_for_each_text_visits_requests_and_answers():
    body = {"model": "m", "input": ["a", "b"], "messages": [
        {"role": "user", "content": [{"type": "text", "text": "c"}, {"type": "image_url"}]}],
        "choices": [{"message": {"content": "d", "refusal": None}}, {"text": "e"},
                    {"delta": {"content": "f"}}]}
    assert for_each_text(body, str.upper)
    assert body["input"] == ["A", "B"] and body["messages"][0]["content"][0]["text"] == "C"
    assert [body["choices"][0]["message"]["content"], body["choices"][1]["text"],
            body["choices"][2]["delta"]["content"]] == ["D", "E", "F"]
    assert body["model"] == "m"
    assert not for_each_text(body, str.upper)


# --- auth, enrich, mcp-policy glue ---------------------------------------------------------------


def test_the_auth_glue():
    class Keys(Auth):
        def authenticate(self, ctx, credential):
            rec = sluice_plugin.lookup_key(__import__("hashlib").sha256(
                (credential or "").encode()).hexdigest())
            if rec is None:
                return Deny(sluice_plugin.invalid_api_key("unknown key"))
            return sluice_plugin.principal(rec.id, rec.owner, attributes=rec.attributes)

    testing.add_key("sk-1", "k1", "ann", attributes={"tier": "pro"})
    app = exported("auth", Keys)
    who = app.AuthStage().authenticate(testing.request_ctx(), "sk-1")
    assert (who.key_id, who.owner, attribute(who, "tier"), attribute(who, "x")) == \
        ("k1", "ann", "pro", None)
    with pytest.raises(Err) as e:
        app.AuthStage().authenticate(testing.request_ctx(), "sk-2")
    assert e.value.value.status == 401


def test_the_enrich_glue():
    class Tag(Enrich):
        def on_response(self, ctx, principal, outcome):
            return Enrichment(headers={"x-tag": "t"}, metadata={"n": outcome.status}, cost_usd=0.5)

    app = exported("enrich", Tag)
    assert app.EnrichStage().on_response(testing.request_ctx(), None, testing.outcome()) == \
        types.Enrichment(headers=[("x-tag", "t")], metadata=[("n", "200")], cost_usd=0.5)


def test_the_mcp_policy_glue():
    class Tools(McpPolicy):
        def on_mcp_request(self, req, principal):
            if sluice_plugin.mcp_tool(req) == "rm":
                return Deny(mcp_error(-32003, "no rm", {"tool": "rm"}))
            if req.method == "prompts/get":
                return Respond({"messages": []})
            if req.method == "tools/call":
                return Rewrite({**sluice_plugin.mcp_params(req), "extra": 1})
            return Allow()

        def on_mcp_result(self, req, principal, result):
            if req.method == "tools/list":
                return {"tools": [t for t in result["tools"] if t["name"] != "rm"]}
            return None

    app = exported("mcp-policy", Tools)
    s, who = app.McpPolicyStage(), testing.principal()
    rm = testing.mcp_request(method="tools/call", target="rm")
    assert s.on_mcp_request(rm, who) == mcp_types.McpDecision_Deny(
        mcp_types.McpError(code=-32003, message="no rm", data='{"tool": "rm"}'))
    ls = testing.mcp_request(method="tools/call", target="ls", params={"name": "ls"})
    assert s.on_mcp_request(ls, who) == mcp_types.McpDecision_Continue('{"name":"ls","extra":1}')
    assert s.on_mcp_request(testing.mcp_request(method="prompts/get"), who) == \
        mcp_types.McpDecision_Respond('{"messages":[]}')
    assert s.on_mcp_request(testing.mcp_request(method="tools/list"), who) == \
        mcp_types.McpDecision_Continue(None)
    listed = s.on_mcp_result(testing.mcp_request(method="tools/list"), who,
                             '{"tools":[{"name":"rm"},{"name":"ls"}]}')
    assert listed == '{"tools":[{"name":"ls"}]}'
    assert s.on_mcp_result(ls, who, "{}") is None


# --- helpers -----------------------------------------------------------------------------------


def test_helpers():
    ctx = testing.request_ctx(headers={"X-Name": "v"})
    assert header(ctx, "x-name") == "v" and header(ctx, "X-NAME") == "v"
    assert header(ctx, "other") is None
    assert sluice_plugin.endpoint_name(ctx.endpoint) == "chat.completions"
    assert sluice_plugin.with_param(bad_request("m"), "p").param == "p"
    assert sluice_plugin.rate_limited("slow", 3).retry_after == 3
    assert sluice_plugin.model_not_found("m").param == "model"
    sluice_plugin.log("warn", "careful")
    assert testing.logs() == [("warn", "careful")]
    sluice_plugin.kv_set("k", "v")
    assert sluice_plugin.kv_get("k") == b"v"
    assert sluice_plugin.kv_incr("c", 2, 60_000).value == 2
    assert sluice_plugin.kv_incr("c", 3, 60_000).value == 5
    # All or nothing: the second would pass its limit, so neither is added.
    refused = sluice_plugin.kv_reserve([("c", 1, 10), ("d", 4, 3)], 60_000)
    assert (refused.granted, refused.refused, refused.would_reach.value) == (False, 1, 4)
    granted = sluice_plugin.kv_reserve([("c", 1, 10), ("d", 3, 3)], 60_000)
    assert granted.granted and [c.value for c in granted.counts] == [6, 3]
    assert [c.value for c in sluice_plugin.kv_incr_all([("c", -6), ("d", -1)], 60_000)] == [0, 2]
    sluice_plugin.kv_delete("k")
    assert sluice_plugin.kv_get("k") is None


def test_only_subclasses_of_the_stage_base_are_exported():
    with pytest.raises(TypeError):
        sluice_plugin.export_guard(Cap, module=__name__)
