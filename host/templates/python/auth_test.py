"""Unit tests of `{{name}}`, under plain CPython: `sluice plugin test` (or
`python3 -m unittest` with the SDK on PYTHONPATH, or `pytest`)."""

import hashlib
import unittest

from sluice_plugin import ConfigError, Deny, Principal
from sluice_plugin.testing import build, request_ctx

from app import {{Type}}

SECRET = "sk-test"
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()


class AuthenticateTest(unittest.TestCase):
    def setUp(self) -> None:
        self.plugin = build({{Type}}, {"owners": {DIGEST: "alice"}})

    def test_a_known_key_becomes_a_principal(self) -> None:
        who = self.plugin.authenticate(request_ctx(), SECRET)
        self.assertIsInstance(who, Principal)
        self.assertEqual((who.owner, who.key_id), ("alice", DIGEST[:12]))

    def test_other_keys_and_no_key_get_401(self) -> None:
        for credential in ("sk-other", None):
            denied = self.plugin.authenticate(request_ctx(), credential)
            self.assertIsInstance(denied, Deny)
            self.assertEqual(denied.error.status, 401)
            self.assertEqual(denied.error.code, "invalid_api_key")


class ConfigTest(unittest.TestCase):
    def test_a_bad_config_rejects_the_load(self) -> None:
        for config, message in [
            ({}, "invalid config: missing field `owners`"),
            ({"owners": {"abc": "bob"}}, "`abc` is not a hex sha256"),
            ({"owners": {DIGEST: 1}}, "invalid config: `owners." + DIGEST + "`: expected a string"),
        ]:
            with self.subTest(config=config):
                with self.assertRaises(ConfigError) as e:
                    build({{Type}}, config)
                self.assertTrue(str(e.exception).startswith(message), str(e.exception))


if __name__ == "__main__":
    unittest.main()
