"""Unit tests of `{{name}}`, under plain CPython: `sluice plugin test` (or
`python3 -m unittest` with the SDK on PYTHONPATH, or `pytest`)."""

import unittest

from sluice_plugin import ConfigError, Endpoint, Send
from sluice_plugin.testing import build, provider, request_ctx

from app import {{Type}}

PROVIDER = provider("p", "http://127.0.0.1:8000/v1", api_key="sk-up", upstream_model="m")


class ToUpstreamTest(unittest.TestCase):
    def test_sends_the_key_and_the_configured_headers(self) -> None:
        plugin = build({{Type}}, {"headers": {"X-Team": "r"}})
        call = plugin.to_upstream(request_ctx(), PROVIDER, b"")
        self.assertEqual(call, Send("POST", "/chat/completions",
                                    headers=[("x-team", "r"), ("authorization", "Bearer sk-up")],
                                    body=None, stream=False))

    def test_follows_the_endpoint_and_the_stream_flag_without_a_key(self) -> None:
        plugin = build({{Type}})
        keyless = provider("p", "http://127.0.0.1:8000/v1")
        call = plugin.to_upstream(request_ctx(endpoint=Endpoint.MODELS, stream=True), keyless, b"")
        self.assertEqual((call.method, call.path, list(call.headers), call.stream),
                         ("GET", "/models", [], True))

    def test_is_pass_through_without_bodies(self) -> None:
        info = build({{Type}}).info()
        self.assertEqual((info.passthrough, info.wants_body), (True, False))


class ConfigTest(unittest.TestCase):
    def test_a_bad_config_rejects_the_load(self) -> None:
        for config, message in [
            ({"headers": {"x-team": 1}}, "invalid config: `headers.x-team`: expected a string"),
            ({"header": {}}, "invalid config: unknown field `header`"),
        ]:
            with self.subTest(config=config):
                with self.assertRaises(ConfigError) as e:
                    build({{Type}}, config)
                self.assertTrue(str(e.exception).startswith(message), str(e.exception))


if __name__ == "__main__":
    unittest.main()
