"""Constructors for OpenAI-shaped errors (`ErrorBody`) and JSON-RPC errors (`McpError`).

```python
return Deny(bad_request("max_tokens may be at most 100", param="max_tokens"))
```
"""

from __future__ import annotations

import json
from typing import Any, Optional

from ._wit import mcp_types, types

ErrorBody = types.ErrorBody
McpError = mcp_types.McpError


def error(
    status: int,
    type: str,
    message: str,
    *,
    code: Optional[str] = None,
    param: Optional[str] = None,
    retry_after: Optional[int] = None,
) -> ErrorBody:
    """An error with the given HTTP status, OpenAI `type` and message; optionally a
    machine-readable `code`, the request parameter at fault (`param`) and, for 429 and 503, the
    seconds after which a retry may succeed (`retry_after`)."""
    return ErrorBody(
        status=status, type=type, code=code, param=param, message=message, retry_after=retry_after
    )


def bad_request(message: str, param: Optional[str] = None, code: Optional[str] = None) -> ErrorBody:
    """400 `invalid_request_error`, naming the parameter at fault if `param` is given."""
    return error(400, "invalid_request_error", message, code=code, param=param)


def invalid_api_key(message: str) -> ErrorBody:
    """401 `invalid_request_error` / `invalid_api_key`."""
    return error(401, "invalid_request_error", message, code="invalid_api_key")


def forbidden(message: str) -> ErrorBody:
    """403 `permission_error` / `forbidden`."""
    return error(403, "permission_error", message, code="forbidden")


def model_not_found(model: str) -> ErrorBody:
    """404 `invalid_request_error` / `model_not_found`, about `model`."""
    return error(
        404,
        "invalid_request_error",
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
        param="model",
    )


def rate_limited(message: str, retry_after_s: int) -> ErrorBody:
    """429 `rate_limit_exceeded`, retryable after `retry_after_s` seconds."""
    return error(
        429, "rate_limit_exceeded", message, code="rate_limit_exceeded", retry_after=retry_after_s
    )


def server_error(message: str, code: Optional[str] = None) -> ErrorBody:
    """500 `server_error`."""
    return error(500, "server_error", message, code=code)


def bad_upstream(message: str) -> ErrorBody:
    """502 `upstream_error` / `bad_upstream_response`: the provider answered something unusable."""
    return error(502, "upstream_error", message, code="bad_upstream_response")


def with_param(err: ErrorBody, param: str) -> ErrorBody:
    """A copy of `err` that names `param` as the request parameter at fault."""
    return error(
        err.status,
        err.type,
        err.message,
        code=err.code,
        param=param,
        retry_after=err.retry_after,
    )


def mcp_error(code: int, message: str, data: Any = None) -> McpError:
    """A JSON-RPC error. Use codes -32000 to -32019 for your own errors (MCP allocates codes from
    -32020 on). `data` is any JSON value (None: no data)."""
    return McpError(code=code, message=message, data=None if data is None else json.dumps(data))


def mcp_internal(message: str, data: Any = None) -> McpError:
    """JSON-RPC -32603 (internal error)."""
    return mcp_error(-32603, message, data)
