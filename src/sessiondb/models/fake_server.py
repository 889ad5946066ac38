"""``FakeOpenAIServer``: a local OpenAI-compatible HTTP server, a test double for ``OpenAIChat``.

It serves ``POST /v1/chat/completions`` (plain JSON and server-sent-event streaming, tool calls
included) and ``GET /v1/models`` on ``127.0.0.1`` at a free port, in a background thread. The
replies come from a wrapped model double (:class:`~sessiondb.models.test.TestModel` by
default, or a :class:`~sessiondb.models.function.FunctionModel`), so a test drives the real
SDK path over real HTTP and still gets deterministic answers::

    with FakeOpenAIServer(TestModel(reply="hi")) as server:
        model = OpenAIChat(id="fake", base_url=server.base_url, api_key="test")
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from uuid import uuid4

import orjson
from pydantic import BaseModel, ConfigDict, create_model

from sessiondb.models.base import Model, ModelResponse
from sessiondb.models.test import TestModel
from sessiondb.models.tools import ToolDefinition
from sessiondb.run.message import Message


class FakeOpenAIServer:
    """An OpenAI-compatible chat server for tests.

    Attributes:
        model: answers every request.
        api_key: when set, requests must carry ``Authorization: Bearer <api_key>`` (else 401).
        error_status: when set, every completion request fails with this HTTP status.
        requests: the JSON body of every completion request, in arrival order.
    """

    def __init__(self, model: Model | None = None, *, api_key: str | None = None) -> None:
        self.model: Model = model if model is not None else TestModel()
        self.api_key = api_key
        self.error_status: int | None = None
        self.requests: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give ``OpenAIChat`` (ends in ``/v1``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- turning requests into model calls -------------------------------------------------

    def complete(self, body: dict[str, Any]) -> ModelResponse:
        """Answer one Chat Completions request body with the wrapped model."""
        self.requests.append(body)
        messages = messages_from_openai(body.get("messages", []))
        tools = [
            ToolDefinition(
                name=tool["function"]["name"],
                description=tool["function"].get("description", ""),
                parameters=tool["function"].get("parameters") or {"type": "object", "properties": {}},
            )
            for tool in body.get("tools") or []
            if tool.get("type") == "function"
        ]
        return self.model.response(messages, tools=tools, response_format=_schema_type(body))


def messages_from_openai(raw: list[dict[str, Any]]) -> list[Message]:
    """Chat Completions messages as sessiondb messages (tool results get their tool's name)."""
    names: dict[str, str] = {}
    messages: list[Message] = []
    for item in raw:
        message = Message(
            role=item["role"],
            content=item.get("content"),
            tool_calls=item.get("tool_calls"),
            tool_call_id=item.get("tool_call_id"),
            name=item.get("name"),
        )
        for call in item.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
        if message.role == "tool" and message.tool_call_id:
            message.tool_name = names.get(message.tool_call_id)
        messages.append(message)
    return messages


def _schema_type(body: dict[str, Any]) -> type[BaseModel] | None:
    # The wrapped model expects a pydantic class; this one reports the requested JSON schema as its own.
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_object":
        return create_model("JsonObject")
    if response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema") or {}
    schema: dict[str, Any] = dict(spec.get("schema") or {})

    def replace(generated: dict[str, Any]) -> None:
        generated.clear()
        generated.update(schema)

    return create_model(str(spec.get("name") or "Schema"), __config__=ConfigDict(json_schema_extra=replace))


def _usage(reply: ModelResponse) -> dict[str, int]:
    return {
        "prompt_tokens": reply.usage.input_tokens,
        "completion_tokens": reply.usage.output_tokens,
        "total_tokens": reply.usage.total_tokens,
    }


def _completion(body: dict[str, Any], reply: ModelResponse) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [call.to_dict() for call in reply.tool_calls]
    return {
        "id": f"chatcmpl-{uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}
        ],
        "usage": _usage(reply),
    }


def _chunks(body: dict[str, Any], reply: ModelResponse) -> list[dict[str, Any]]:
    base = {"id": f"chatcmpl-{uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time())}
    base["model"] = body.get("model", "fake")

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    for word in (reply.content or "").split(" "):
        piece = word if len(chunks) == 1 else f" {word}"
        chunks.append(chunk({"content": piece}))
    for index, call in enumerate(reply.tool_calls):
        # Split the arguments in two so clients must reassemble them, as with real servers.
        half = len(call.arguments) // 2
        first = {"index": index, "id": call.id, "type": "function"}
        chunks.append(chunk({"tool_calls": [{**first, "function": {"name": call.name, "arguments": ""}}]}))
        for part in (call.arguments[:half], call.arguments[half:]):
            chunks.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    chunks.append(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": _usage(reply)})
    return chunks


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a streamed reply simply ends when it is closed.
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = orjson.dumps(payload)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if server.api_key is None or self.headers.get("Authorization") == f"Bearer {server.api_key}":
                return True
            self._send_json(
                401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
            )
            return False

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path.rstrip("/") == "/v1/models":
                self._send_json(200, {"object": "list", "data": [{"id": server.model.id, "object": "model"}]})
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path!r}"}})

        def do_POST(self) -> None:
            if not self._authorized():
                return
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": f"no route {self.path!r}"}})
                return
            body = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if server.error_status is not None:
                self._send_json(
                    server.error_status, {"error": {"message": "injected failure", "type": "test"}}
                )
                return
            reply = server.complete(body)
            if not body.get("stream"):
                self._send_json(200, _completion(body, reply))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for item in _chunks(body, reply):
                self.wfile.write(b"data: " + orjson.dumps(item) + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


__all__ = ["FakeOpenAIServer", "messages_from_openai"]
