"""Typed plugin config: the JSON of a plugin's `[plugins.config]` table, checked against the type
its `__init__` declares.

```python
@dataclass(frozen=True)
class Config:
    max_tokens: int
    require_user_id: bool = False

class MaxTokens(Policy):
    def __init__(self, config: Config) -> None: ...
```

The parameter's annotation decides what `__init__` gets:

* a dataclass: the table is parsed into it strictly: an unknown field, a missing field without a
  default, or a value of the wrong type rejects the load, and the message names the field;
  fields may be `int`, `float`, `bool`, `str`, `Optional[...]`, `list[...]`, `dict[str, ...]`,
  `Literal[...]`, an `Enum` (by value), another dataclass, or `Any`;
* `dict` (or no annotation): the table as a dict;
* an `__init__` without a config parameter takes no config (any table is accepted).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import inspect
import json
import types
import typing
from typing import Any, Callable, Dict, Mapping, Tuple, TypeVar

T = TypeVar("T")

_NO_CONFIG = object()


class ConfigError(ValueError):
    """A config the plugin cannot run with. Raise it from `__init__` for checks the type cannot
    express; its message is what the operator sees (the load is rejected)."""


@functools.lru_cache(maxsize=None)
def config_type(plugin: type) -> Any:
    """The type `plugin.__init__` declares for its config, `dict` when unannotated, or
    `_NO_CONFIG` when `__init__` takes no config parameter. Cached: the export glue asks at
    import time, which componentize-py runs at build time, so components start with it known."""
    init = plugin.__init__
    if init is object.__init__:
        return _NO_CONFIG
    params = [
        p
        for p in list(inspect.signature(init).parameters.values())[1:]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if not params:
        return _NO_CONFIG
    hints = typing.get_type_hints(init)
    return hints.get(params[0].name, dict)


def parse(text: str, into: Any) -> Any:
    """Parses the JSON text `text` (blank counts as `{}`) into the type `into`. Raises
    ConfigError naming the field at fault."""
    if not text.strip():
        text = "{}"
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"invalid config: not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ConfigError("invalid config: expected a table")
    try:
        return convert(value, into, "")
    except ConfigError as e:
        raise ConfigError(f"invalid config: {e}") from None


def build(plugin: Callable[..., T], text: str) -> T:
    """Builds `plugin` from its config JSON the way the gateway does: parses the text into the
    type `__init__` declares, then calls it. Raises ConfigError with the message that rejects
    the load (also for any other exception `__init__` raises)."""
    kind = config_type(plugin)  # type: ignore[arg-type]
    if kind is _NO_CONFIG:
        parse(text, Any)
        args: Tuple[Any, ...] = ()
    else:
        args = (parse(text, kind),)
    try:
        return plugin(*args)
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to build rejects the load
        raise ConfigError(str(e) or type(e).__name__) from e


def _where(path: str) -> str:
    return f"`{path}`: " if path else ""


def _describe(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "an array", dict: "a table", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def convert(value: Any, into: Any, path: str) -> Any:
    """Checks the JSON value `value` against the type `into` and converts it (dataclasses are
    built, enums looked up). `path` names the field for error messages."""
    if into is Any or into is object:
        return value
    origin = typing.get_origin(into)
    args = typing.get_args(into)
    if origin is typing.Union or origin is getattr(types, "UnionType", typing.Union):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        errors = []
        for option in options:
            try:
                return convert(value, option, path)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else
                          f"{_where(path)}{_describe(value)} matches none of the allowed types")
    if origin is typing.Literal:
        if value in args:
            return value
        allowed = ", ".join(json.dumps(a) for a in args)
        raise ConfigError(f"{_where(path)}expected one of {allowed}, got {json.dumps(value)}")
    if dataclasses.is_dataclass(into) and isinstance(into, type):
        return _dataclass(value, into, path)
    if isinstance(into, type) and issubclass(into, enum.Enum):
        try:
            return into(value)
        except ValueError:
            allowed = ", ".join(json.dumps(m.value) for m in into)
            raise ConfigError(f"{_where(path)}expected one of {allowed}") from None
    if into is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{_where(path)}expected a boolean, got {_describe(value)}")
    if into is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{_where(path)}expected an integer, got {_describe(value)}")
    if into is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{_where(path)}expected a number, got {_describe(value)}")
    if into is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{_where(path)}expected a string, got {_describe(value)}")
    if into in (list, tuple) or origin in (list, tuple, collections.abc.Sequence):
        if not isinstance(value, list):
            raise ConfigError(f"{_where(path)}expected an array, got {_describe(value)}")
        item = args[0] if args else Any
        items = [convert(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (into is tuple or origin is tuple) else items
    if into in (dict, Dict, Mapping) or origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{_where(path)}expected a table, got {_describe(value)}")
        item = args[1] if len(args) == 2 else Any
        return {k: convert(v, item, f"{path}.{k}" if path else k) for k, v in value.items()}
    raise ConfigError(f"{_where(path)}the plugin's config type {into!r} is not supported")


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> Dict[str, Any]:
    """The resolved field types of a dataclass (cached: resolving them is slow)."""
    return typing.get_type_hints(cls)


def prepare(plugin: type) -> None:
    """Resolves `plugin`'s config type and the field types of every dataclass in it, so that
    building the plugin later does no reflection. The export glue calls it at import time."""
    seen: set = set()

    def walk(tp: Any) -> None:
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            if tp in seen:
                return
            seen.add(tp)
            for field_type in _hints(tp).values():
                walk(field_type)
        for arg in typing.get_args(tp):
            walk(arg)

    kind = config_type(plugin)
    if kind is not _NO_CONFIG:
        walk(kind)


def _dataclass(value: Any, into: type, path: str) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path)}expected a table, got {_describe(value)}")
    fields = [f for f in dataclasses.fields(into) if f.init]
    names = {f.name for f in fields}
    for key in value:
        if key not in names:
            expected = ", ".join(f"`{n}`" for n in sorted(names)) or "no fields"
            where = f"{path}.{key}" if path else key
            raise ConfigError(f"unknown field `{where}` (expected {expected})")
    hints = _hints(into)
    kwargs = {}
    for f in fields:
        where = f"{path}.{f.name}" if path else f.name
        if f.name in value:
            kwargs[f.name] = convert(value[f.name], hints.get(f.name, Any), where)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing field `{where}`")
    return into(**kwargs)
