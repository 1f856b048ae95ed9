"""Unit tests of `{{name}}`, under plain CPython: `sluice plugin test` (or
`python3 -m unittest` with the SDK on PYTHONPATH, or `pytest`)."""

import unittest

from sluice_plugin import Allow, ConfigError, Direction, Replace, Rewrite
from sluice_plugin.testing import build, request_ctx

from app import {{Type}}


def guard(*words: str) -> {{Type}}:
    return build({{Type}}, {"words": list(words) or ["hunter2"]})


class CheckJsonTest(unittest.TestCase):
    def test_redacts_words_in_requests(self) -> None:
        body = {"messages": [{"role": "user", "content": "my password is hunter2"}]}
        verdict = guard().check_json(request_ctx(), None, Direction.REQUEST, body)
        self.assertEqual(verdict, Rewrite(
            {"messages": [{"role": "user", "content": "my password is [REDACTED]"}]}))

    def test_redacts_words_in_answers(self) -> None:
        body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hunter2!"}}]}
        verdict = guard().check_json(request_ctx(), None, Direction.RESPONSE, body)
        self.assertIsInstance(verdict, Rewrite)
        self.assertEqual(verdict.body["choices"][0]["message"]["content"], "[REDACTED]!")

    def test_lets_clean_bodies_through(self) -> None:
        body = {"messages": [{"role": "user", "content": "hello"}]}
        self.assertEqual(guard().check_json(request_ctx(), None, Direction.REQUEST, body), Allow())


class CheckTextTest(unittest.TestCase):
    def test_redacts_stream_text(self) -> None:
        self.assertEqual(guard().check_text(request_ctx(), None, 0, "it is hunter2.", False),
                         Replace("it is [REDACTED]."))
        self.assertEqual(guard().check_text(request_ctx(), None, 0, "it is fine", True), Allow())

    def test_looks_behind_as_far_as_the_longest_word_in_utf8_bytes(self) -> None:
        self.assertEqual(guard().info().look_behind, 7)
        self.assertEqual(guard("ab", "café").info().look_behind, 5)


class ConfigTest(unittest.TestCase):
    def test_a_bad_config_rejects_the_load(self) -> None:
        for config, message in [
            ({"words": ["a", ""]}, "`words` may not contain an empty word"),
            ({}, "invalid config: missing field `words`"),
            ({"words": "hunter2"}, "invalid config: `words`: expected an array"),
        ]:
            with self.subTest(config=config):
                with self.assertRaises(ConfigError) as e:
                    build({{Type}}, config)
                self.assertTrue(str(e.exception).startswith(message), str(e.exception))


if __name__ == "__main__":
    unittest.main()
