"""Stand-in for componentize-py's `componentize_py_types`: the `Err` a `result`-returning export
raises to answer its error case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

E = TypeVar("E")


@dataclass(frozen=True)
class Err(Generic[E], Exception):
    """The failure case of a component-model `result`, raised by an export to return it."""

    value: E
