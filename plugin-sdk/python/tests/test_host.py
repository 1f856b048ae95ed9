"""Unit tests of the host imports under plain CPython: `notify`, `kv_add` and the price table
(`price_lookup`, `price_cost`, `cost_of`), served by the stand-ins."""

from __future__ import annotations

import pytest

import sluice_plugin
from sluice_plugin import Enrich, Enrichment, Price, _glue, host, testing
from sluice_plugin.testing import outcome, request_ctx, usage


@pytest.fixture(autouse=True)
def clean():
    testing.reset()
    yield
    testing.reset()
    _glue.INSTANCE = None


def test_notify_sends_the_data_as_a_json_object():
    sluice_plugin.notify("budget.threshold", {"key_id": "k1", "spent_usd": 12.5, "ratio": 0.8})
    sluice_plugin.notify("budget.exhausted", {"key_id": "k1", "note": "é"})
    assert testing.events() == [
        ("budget.threshold", {"key_id": "k1", "spent_usd": 12.5, "ratio": 0.8}),
        ("budget.exhausted", {"key_id": "k1", "note": "é"}),
    ]
    from sluice_plugin._standins import host as fake_host
    assert fake_host.EVENTS[0][1] == '{"key_id":"k1","spent_usd":12.5,"ratio":0.8}'
    with pytest.raises(TypeError, match="JSON object"):
        sluice_plugin.notify("x", [1, 2])  # type: ignore[arg-type]
    testing.reset()
    assert testing.events() == []


def test_kv_add_counts_until_the_counter_expires():
    later = sluice_plugin.now_ms() + 60_000
    assert sluice_plugin.kv_add("spend|2026-12", 5, later) == 5
    assert sluice_plugin.kv_add("spend|2026-12", -2, later) == 3
    # A counter created earlier keeps its expiry: a later `expires_at_ms` does not extend it.
    assert sluice_plugin.kv_add("spend|2026-12", 1, later + 1_000_000) == 4
    # Counters are independent of the windowed ones of `kv_incr`.
    assert sluice_plugin.kv_incr("spend|2026-12", 1, 60_000).value == 1


def test_kv_add_starts_again_from_zero_once_expired():
    past = sluice_plugin.now_ms() - 1
    assert sluice_plugin.kv_add("c", 7, past) == 7
    # Expired: the next call starts from 0, with the expiry it gives.
    future = sluice_plugin.now_ms() + 60_000
    assert sluice_plugin.kv_add("c", 2, future) == 2
    assert sluice_plugin.kv_add("c", 2, future) == 4
    testing.reset()
    assert sluice_plugin.kv_add("c", 1, future) == 1


def test_price_lookup_matches_names_and_dated_names():
    assert sluice_plugin.price_lookup("gpt-4o-mini") is None
    testing.set_price("gpt-4o-mini", 0.15, 0.6, cached_input=0.075)
    testing.set_price("claude-sonnet-4-5", 3, 15)
    testing.set_price("gemini-2.0-flash", 0.1, 0.4)
    p = sluice_plugin.price_lookup("gpt-4o-mini")
    assert isinstance(p, Price)
    assert (p.input, p.output, p.cached_input) == (0.15, 0.6, 0.075)
    assert sluice_plugin.price_lookup("gpt-4o-mini-2024-07-18") == p
    # `cached_input` defaults to `input`, as in `[pricing]`.
    assert sluice_plugin.price_lookup("claude-sonnet-4-5-20250929") == Price(
        input=3.0, output=15.0, cached_input=3.0)
    assert sluice_plugin.price_lookup("gemini-2.0-flash-001") is not None
    assert sluice_plugin.price_lookup("gpt-4o-mini-2024") is None
    assert sluice_plugin.price_lookup("o3") is None


def test_price_cost_prices_fresh_cached_and_output_tokens():
    testing.set_price("m", 2.0, 8.0, cached_input=0.5)
    # 600 fresh at 2, 400 cached at 0.5, 100 out at 8, per million.
    got = sluice_plugin.price_cost("m", usage(1000, 100, 400))
    assert got == pytest.approx((600 * 2.0 + 400 * 0.5 + 100 * 8.0) / 1e6)
    # More cached than prompt tokens counts all prompt tokens as cached.
    assert sluice_plugin.price_cost("m", usage(10, 0, 50)) == pytest.approx(10 * 0.5 / 1e6)
    assert sluice_plugin.price_cost("unpriced", usage(1000, 100)) is None


def test_cost_of_prices_the_served_model_else_the_asked_one():
    testing.set_price("served", 1.0, 2.0)
    testing.set_price("asked", 10.0, 20.0)
    u = usage(1_000_000, 1_000_000)
    assert sluice_plugin.cost_of(request_ctx(model="asked"),
                                 outcome(served_model="served", usage=u)) == pytest.approx(3.0)
    assert sluice_plugin.cost_of(request_ctx(model="asked"),
                                 outcome(served_model="unpriced", usage=u)) == pytest.approx(30.0)
    assert sluice_plugin.cost_of(request_ctx(model="asked"),
                                 outcome(served_model="", usage=u)) == pytest.approx(30.0)
    assert sluice_plugin.cost_of(request_ctx(model="nope"),
                                 outcome(served_model="unpriced", usage=u)) == 0.0
    assert sluice_plugin.cost_of(request_ctx(model="asked"),
                                 outcome(served_model="served", usage=None)) == 0.0


def test_an_enrich_plugin_prices_requests_through_the_glue():
    class Cost(Enrich):
        def on_response(self, ctx, principal, outcome):
            return Enrichment(cost_usd=sluice_plugin.cost_of(ctx, outcome))

    testing.set_price("gpt-4o", 2.5, 10.0, cached_input=1.25)
    _glue.INSTANCE = _glue.Instance(Cost)
    _glue.INSTANCE.init("{}")
    e = _glue.on_response(request_ctx(model="gpt-4o"), None,
                          outcome(served_model="gpt-4o-2024-08-06", usage=usage(2000, 500, 1000)))
    assert e.cost_usd == pytest.approx((1000 * 2.5 + 1000 * 1.25 + 500 * 10.0) / 1e6)


def test_the_price_table_is_only_for_worlds_that_import_it(monkeypatch):
    monkeypatch.setattr(host, "_prices", None)
    for call in (lambda: sluice_plugin.price_lookup("m"),
                 lambda: sluice_plugin.price_cost("m", usage(1, 1)),
                 lambda: sluice_plugin.cost_of(request_ctx(), outcome())):
        with pytest.raises(RuntimeError, match="policy and enrich"):
            call()
