"""Unit tests of `{{name}}`, under plain CPython: `sluice plugin test` (or
`python3 -m unittest` with the SDK on PYTHONPATH, or `pytest`)."""

import unittest

from sluice_plugin import ConfigError, Continue, Deny
from sluice_plugin.testing import build, llm_meta, principal, request_ctx

from app import {{Type}}


def decide(limit: int, prompt_tokens: int):
    plugin = build({{Type}}, {"max_prompt_tokens": limit})
    return plugin.on_request(request_ctx(), principal(), llm_meta(est_prompt_tokens=prompt_tokens),
                             b"")


class OnRequestTest(unittest.TestCase):
    def test_lets_small_prompts_through_with_a_header(self) -> None:
        self.assertEqual(decide(100, 100), Continue(headers={"x-{{name}}": "allowed"}))

    def test_refuses_large_prompts_with_400(self) -> None:
        denied = decide(100, 101)
        self.assertIsInstance(denied, Deny)
        self.assertEqual(denied.error.status, 400)
        self.assertEqual(denied.error.message,
                         "this prompt is about 101 tokens; this gateway takes at most 100")


class ConfigTest(unittest.TestCase):
    def test_a_zero_limit_and_bad_configs_are_rejected_at_load(self) -> None:
        for config, message in [
            ({"max_prompt_tokens": 0}, "`max_prompt_tokens` must be at least 1"),
            ({}, "invalid config: missing field `max_prompt_tokens`"),
            ({"max_prompt_tokens": "9"},
             "invalid config: `max_prompt_tokens`: expected an integer"),
            ({"max_prompt_tokens": 9, "max": 1}, "invalid config: unknown field `max`"),
        ]:
            with self.subTest(config=config):
                with self.assertRaises(ConfigError) as e:
                    build({{Type}}, config)
                self.assertTrue(str(e.exception).startswith(message), str(e.exception))


if __name__ == "__main__":
    unittest.main()
