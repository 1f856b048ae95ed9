"""Pure-Python stand-ins for the bindings componentize-py generates from `wit/plugin.wit`.

Inside a component, the SDK uses the generated modules (`wit_world.imports.types`, ...). Outside
one (plain CPython: unit tests, editors, type checkers), it uses these modules instead. They have
the same module layout, class names, field names and field order as the generated ones, so plugin
code and tests run unchanged in both; the host imports (`host`, `kv`, `prices`, `keys`) are
in-memory fakes that tests can inspect through `sluice_plugin.testing`.

The acceptance suite (tests/sdk/test_plugin_python.py) compares these classes with freshly
generated bindings, so they cannot drift from the WIT unnoticed.
"""
