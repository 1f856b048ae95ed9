"""Unit tests of `{{name}}`, under plain CPython: `sluice plugin test` (or
`python3 -m unittest` with the SDK on PYTHONPATH, or `pytest`)."""

import unittest

from sluice_plugin import ConfigError, Enrichment
from sluice_plugin.results import to_enrichment
from sluice_plugin.testing import build, outcome, request_ctx

from app import {{Type}}


class OnResponseTest(unittest.TestCase):
    def test_labels_answers_and_flags_slow_ones(self) -> None:
        plugin = build({{Type}}, {"label": "eu", "slow_ms": 100})
        e = plugin.on_response(request_ctx(), None, outcome(latency_ms=250))
        self.assertEqual(e, Enrichment(headers={"x-{{name}}-label": "eu"},
                                       metadata={"label": "eu", "slow": True}))
        # What the host receives: each metadata value as JSON text.
        self.assertEqual(to_enrichment(e).metadata, [("label", '"eu"'), ("slow", "true")])

    def test_slow_ms_defaults_to_2000(self) -> None:
        plugin = build({{Type}}, {"label": "eu"})
        for latency, slow in ((2000, False), (2001, True)):
            e = plugin.on_response(request_ctx(), None, outcome(latency_ms=latency))
            self.assertEqual(e.metadata["slow"], slow)


class ConfigTest(unittest.TestCase):
    def test_a_bad_config_rejects_the_load(self) -> None:
        for config, message in [
            ({}, "invalid config: missing field `label`"),
            ({"label": 1}, "invalid config: `label`: expected a string"),
            ({"label": "eu", "slow_ms": -1}, "`slow_ms` must be 0 to 4294967295"),
            ({"label": "eu", "slow": 1}, "invalid config: unknown field `slow`"),
        ]:
            with self.subTest(config=config):
                with self.assertRaises(ConfigError) as e:
                    build({{Type}}, config)
                self.assertTrue(str(e.exception).startswith(message), str(e.exception))


if __name__ == "__main__":
    unittest.main()
