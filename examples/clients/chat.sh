#!/usr/bin/env bash
# Chat with the default config's offline `echo` model through Sluice, with curl: one plain call,
# one streamed. Start the gateway first: `cargo run --release`.
set -euo pipefail
BASE="${SLUICE_URL:-http://127.0.0.1:8080}/v1"
KEY="${SLUICE_KEY:-sk-sluice-demo}"

curl -sS "$BASE/chat/completions" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"model": "echo", "user_id": "example-user",
       "messages": [{"role": "user", "content": "Hello from curl"}]}'
echo

curl -sSN "$BASE/chat/completions" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"model": "echo", "stream": true, "stream_options": {"include_usage": true},
       "messages": [{"role": "user", "content": "Hello, streamed"}]}'
