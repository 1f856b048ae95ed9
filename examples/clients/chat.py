"""Chat through Sluice with the official `openai` SDK: only base_url and api_key change.

Start the gateway (`cargo run --release`), then: `python examples/clients/chat.py`
(`scripts/python-env` makes a virtualenv with the SDK).
"""

import os

from openai import OpenAI

client = OpenAI(
    base_url=os.environ.get("SLUICE_URL", "http://127.0.0.1:8080") + "/v1",
    api_key=os.environ.get("SLUICE_KEY", "sk-sluice-demo"),
)

reply = client.chat.completions.create(
    model="echo",
    messages=[{"role": "user", "content": "Hello from the openai SDK"}],
    extra_body={"user_id": "example-user"},
)
print(reply.choices[0].message.content)
print("gateway metadata:", reply.model_extra["sluice"])

print("streamed: ", end="")
for chunk in client.chat.completions.create(
    model="echo",
    stream=True,
    messages=[{"role": "user", "content": "one two three"}],
):
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
