"""Unit tests of `{{name}}`, under plain CPython: `sluice plugin test` (or
`python3 -m unittest` with the SDK on PYTHONPATH, or `pytest`)."""

import unittest

from sluice_plugin import Allow, ConfigError, Deny
from sluice_plugin.testing import build, mcp_request, principal

from app import {{Type}}


def plugin() -> {{Type}}:
    return build({{Type}}, {"deny_tools": ["shell"]})


class OnMcpRequestTest(unittest.TestCase):
    def test_refuses_calls_to_denied_tools(self) -> None:
        call = mcp_request(method="tools/call", target="shell", params={"name": "shell"})
        denied = plugin().on_mcp_request(call, principal())
        self.assertIsInstance(denied, Deny)
        self.assertEqual(denied.error.code, -32003)
        self.assertEqual(denied.error.message, "The tool `shell` is not allowed here.")

    def test_lets_other_tools_and_methods_through(self) -> None:
        echo = mcp_request(method="tools/call", target="echo", params={"name": "echo"})
        self.assertEqual(plugin().on_mcp_request(echo, principal()), Allow())
        prompt = mcp_request(method="prompts/get", target="shell")  # a prompt, not a tool
        self.assertEqual(plugin().on_mcp_request(prompt, principal()), Allow())


class OnMcpResultTest(unittest.TestCase):
    def test_hides_denied_tools_from_tools_list(self) -> None:
        listed = mcp_request(method="tools/list")
        result = {"tools": [{"name": "shell"}, {"name": "echo"}]}
        self.assertEqual(plugin().on_mcp_result(listed, principal(), result),
                         {"tools": [{"name": "echo"}]})

    def test_keeps_other_results(self) -> None:
        listed = mcp_request(method="tools/list")
        self.assertIsNone(plugin().on_mcp_result(listed, principal(), {"tools": [{"name": "a"}]}))
        self.assertIsNone(plugin().on_mcp_result(listed, principal(), {"other": 1}))
        call = mcp_request(method="tools/call", target="echo")
        self.assertIsNone(plugin().on_mcp_result(call, principal(), {"tools": [{"name": "shell"}]}))


class ConfigTest(unittest.TestCase):
    def test_a_bad_config_rejects_the_load(self) -> None:
        for config, message in [
            ({}, "invalid config: missing field `deny_tools`"),
            ({"deny_tools": [1]}, "invalid config: `deny_tools[0]`: expected a string"),
        ]:
            with self.subTest(config=config):
                with self.assertRaises(ConfigError) as e:
                    build({{Type}}, config)
                self.assertTrue(str(e.exception).startswith(message), str(e.exception))


if __name__ == "__main__":
    unittest.main()
