"""Bedrock Converse test doubles: documented response shapes, a Stubber, a fake endpoint.

Responses follow the Converse API reference: `output.message.content` blocks
(`text`, `toolUse` {toolUseId, name, input}), `stopReason`, `usage`
{inputTokens, outputTokens, totalTokens} and `metrics` {latencyMs}.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.stub import ANY, Stubber

from agent.llm.config import LLMConfig

MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
Response = dict[str, Any]


def tool_use(name: str, args: dict[str, Any], use_id: str = "tooluse_1") -> dict[str, Any]:
    return {"toolUse": {"toolUseId": use_id, "name": name, "input": args}}


def text(words: str) -> dict[str, Any]:
    return {"text": words}


def response(*blocks: dict[str, Any], tokens: tuple[int, int] = (900, 100)) -> Response:
    """One Converse response; stopReason follows from the blocks, as Bedrock sets it."""
    stop = "tool_use" if any("toolUse" in b for b in blocks) else "end_turn"
    return {
        "output": {"message": {"role": "assistant", "content": list(blocks)}},
        "stopReason": stop,
        "usage": {
            "inputTokens": tokens[0],
            "outputTokens": tokens[1],
            "totalTokens": tokens[0] + tokens[1],
        },
        "metrics": {"latencyMs": 420},
    }


def submit(ranking: list[dict[str, Any]], summary: str = "Checked.") -> dict[str, Any]:
    return tool_use("submit_assessment", {"ranking": ranking, "summary": summary}, "tooluse_s")


def suspect(
    service: str,
    evidence_ids: list[str],
    fault_type: str = "bad-deploy",
    confidence: float = 0.8,
) -> dict[str, Any]:
    return {
        "service": service,
        "fault_type": fault_type,
        "confidence": confidence,
        "evidence_ids": evidence_ids,
        "rationale": f"{service}: see {', '.join(evidence_ids)}.",
    }


def expected_params() -> dict[str, Any]:
    """What every request must carry: the model id and temperature 0, at our output cap."""
    return {
        "modelId": MODEL_ID,
        "messages": ANY,
        "system": ANY,
        "inferenceConfig": {"maxTokens": 2048, "temperature": 0.0},
        "toolConfig": ANY,
    }


@dataclass
class Stubbed:
    """A real bedrock-runtime client under a Stubber; `sent` holds every request's params."""

    client: Any
    stubber: Stubber
    sent: list[dict[str, Any]] = field(default_factory=list)
    on_call: list[Callable[[], None]] = field(default_factory=list)

    def reply(self, *responses: Response) -> Stubbed:
        for item in responses:
            self.stubber.add_response("converse", item, expected_params())
        return self

    def fail(self, code: str, message: str, status: int = 400) -> Stubbed:
        self.stubber.add_client_error(
            "converse", service_error_code=code, service_message=message, http_status_code=status
        )
        return self

    def requests_text(self) -> str:
        return json.dumps(self.sent)


@contextmanager
def stubbed_client() -> Iterator[Stubbed]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    stub = Stubbed(client=client, stubber=Stubber(client))

    def record(params: dict[str, Any], **_: Any) -> None:
        stub.sent.append(json.loads(json.dumps(params)))
        for hook in stub.on_call:
            hook()

    client.meta.events.register("provide-client-params.bedrock-runtime.Converse", record)
    with stub.stubber:
        yield stub


@dataclass(frozen=True)
class ConverseError:
    """An error reply as Bedrock sends it: the status, and the code in x-amzn-ErrorType."""

    status: int
    code: str
    message: str


Script = Callable[[dict[str, Any]], Response | ConverseError]


@dataclass
class FakeConverse:
    """A Converse endpoint on 127.0.0.1: POST /model/{modelId}/converse -> script(body)."""

    script: Script
    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@contextmanager
def fake_converse(script: Script) -> Iterator[FakeConverse]:
    fake = FakeConverse(script=script)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            path = unquote(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            fake.paths.append(path)
            fake.bodies.append(body)
            if not (path.startswith("/model/") and path.endswith("/converse")):
                self._send(404, {"message": f"no route {path}"})
                return
            reply = fake.script(body)
            if isinstance(reply, ConverseError):
                self._send(reply.status, {"message": reply.message}, reply.code)
            else:
                self._send(200, reply)

        def _send(self, status: int, payload: dict[str, Any], error_type: str = "") -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def bedrock_at(url: str, **budgets: Any) -> LLMConfig:
    """Bedrock configured at a fake Converse endpoint, without retries (tests wait for none)."""
    return LLMConfig(
        enabled=True,
        model=f"bedrock:{MODEL_ID}",
        region="us-east-1",
        endpoint_url=url,
        max_retries=0,
        **budgets,
    )
