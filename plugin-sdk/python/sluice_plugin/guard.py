"""Helpers for guards: find the model-facing and model-made text in OpenAI bodies."""

from __future__ import annotations

from typing import Any, Callable, MutableMapping, MutableSequence

from .results import Allow, Deny, Replace, Rewrite, Stop  # noqa: F401 - the guard's results
from .stages import Direction, Guard  # noqa: F401


def _visit(container: Any, key: Any, f: Callable[[str], str]) -> bool:
    """Applies `f` to the text at `container[key]`: a string, or an array of strings and parts
    with a `text`. Returns whether anything changed."""
    value = container[key]
    changed = False
    if isinstance(value, str):
        new = f(value)
        if new != value:
            container[key] = new
            changed = True
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str):
                changed |= _visit(value, i, f)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                changed |= _visit(item, "text", f)
    return changed


def for_each_text(body: Any, f: Callable[[str], str]) -> bool:
    """Replaces every piece of model-facing or model-made text in the OpenAI body `body` (in
    place) with what `f` returns for it; returns whether anything changed.

    Requests: `messages[].content` (a string, or the `text` of its parts), `prompt` and `input`
    (strings or arrays of strings). Answers: `choices[].message.content`,
    `choices[].message.refusal`, `choices[].text` and `choices[].delta.content`.

    ```python
    body = {"messages": [{"role": "user", "content": "hi bob"}]}
    for_each_text(body, lambda t: t.replace("bob", "[NAME]"))  # True
    ```
    """
    if not isinstance(body, MutableMapping):
        return False
    changed = False
    messages = body.get("messages")
    if isinstance(messages, MutableSequence):
        for m in messages:
            if isinstance(m, MutableMapping) and "content" in m:
                changed |= _visit(m, "content", f)
    for field in ("prompt", "input"):
        if field in body:
            changed |= _visit(body, field, f)
    choices = body.get("choices")
    if isinstance(choices, MutableSequence):
        for c in choices:
            if not isinstance(c, MutableMapping):
                continue
            for outer, inner in (("message", "content"), ("message", "refusal"),
                                 ("delta", "content")):
                part = c.get(outer)
                if isinstance(part, MutableMapping) and inner in part:
                    changed |= _visit(part, inner, f)
            if "text" in c:
                changed |= _visit(c, "text", f)
    return changed
