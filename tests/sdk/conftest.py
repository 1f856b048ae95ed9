"""Fixtures for the OpenAI SDK acceptance suite: one real gateway process per test session.

The gateway binary comes from SLUICE_BIN (default: target/release/sluice) and serves the config
in SLUICE_SDK_CONFIG (default: gateway.toml), both relative to the repository root when unset.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import openai
import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_KEY = "sk-sluice-demo"
STARTUP_TIMEOUT_S = 30
SHUTDOWN_GRACE_S = 5
LISTENING_LINE = re.compile(r"^sluice listening on (http://127\.0\.0\.1:\d+)$")


def _read_first_line(stream, timeout: float) -> str | None:
    """The first line of `stream`, or None if none arrives within `timeout` seconds.

    The read runs on a daemon thread so a silent (or hung) process cannot block the suite.
    """
    lines: queue.Queue[str] = queue.Queue(maxsize=1)
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the gateway has not exited after the grace period."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=SHUTDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Starts the gateway on a free port and yields its OpenAI base URL (`.../v1`)."""
    binary = Path(os.environ.get("SLUICE_BIN", REPO / "target" / "release" / "sluice"))
    config = Path(os.environ.get("SLUICE_SDK_CONFIG", REPO / "gateway.toml"))
    if not binary.is_file():
        pytest.fail(f"gateway binary not found at {binary}: build it or set SLUICE_BIN")

    env = dict(os.environ, SLUICE_LISTEN="127.0.0.1:0")
    # The suite relies on the OpenAI provider being unconfigured (503 for gpt-4o-mini).
    env.pop("OPENAI_API_KEY", None)

    # Logs go to a file rather than a pipe nobody drains, and are shown if startup fails.
    log_path = tmp_path_factory.mktemp("gateway") / "stderr.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "serve", "--config", str(config)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        line = _read_first_line(proc.stdout, STARTUP_TIMEOUT_S)
        match = LISTENING_LINE.match((line or "").strip())
        if match is None:
            _stop(proc)
            logs = log_path.read_text(errors="replace")[-4000:]
            pytest.fail(
                f"gateway did not print its listening line within {STARTUP_TIMEOUT_S}s "
                f"(got {line!r}; exit code {proc.poll()}).\nstderr:\n{logs}"
            )
        yield f"{match.group(1)}/v1"
    finally:
        _stop(proc)
        proc.stdout.close()


@pytest.fixture(scope="session")
def client(gateway_url: str) -> Iterator[openai.OpenAI]:
    """An SDK client with the demo key; no retries, so every failure surfaces at once."""
    with openai.OpenAI(base_url=gateway_url, api_key=DEMO_KEY, max_retries=0) as c:
        yield c


@pytest.fixture(scope="session")
def bad_client(gateway_url: str) -> Iterator[openai.OpenAI]:
    """An SDK client whose key the gateway does not know."""
    with openai.OpenAI(base_url=gateway_url, api_key="sk-not-a-real-key", max_retries=0) as c:
        yield c
