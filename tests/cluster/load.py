"""A bounded load of runs and state updates from several clients, recording every answer.

Each client owns one session: it creates it, then alternates an agent run into it
(``POST /agents/assistant/runs``) and a state update (``PATCH /sessions/{id}``) until told to
stop or its request budget is spent. What the server acknowledged (a 2xx) is what the checks
afterwards must find stored, once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

REQUEST_TIMEOUT_S = 20.0
"""The client's bound on one request; the checks require every answer well inside it."""


@dataclass
class ClientLog:
    """What one client sent and what came back."""

    session_id: str
    run_ids: list[str] = field(default_factory=list)
    state_keys: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    slowest_s: float = 0.0
    ok_times: list[float] = field(default_factory=list)


@dataclass
class Load:
    """``clients`` threads driving ``base_url`` until :meth:`stop` (or ``max_requests`` each)."""

    base_url: str
    clients: int = 16
    max_requests: int = 400
    logs: list[ClientLog] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Start the clients."""
        for number in range(self.clients):
            log = ClientLog(session_id=f"cluster-{number}")
            self.logs.append(log)
            thread = threading.Thread(target=self._client, args=(log,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Tell the clients to stop and wait for them (each within its request bound)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
            assert not thread.is_alive(), "a load client did not stop"

    def _send(
        self, client: httpx.Client, log: ClientLog, method: str, url: str, **kwargs: object
    ) -> httpx.Response | None:
        start = time.monotonic()
        try:
            response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError:
            log.transport_errors += 1
            return None
        finally:
            log.slowest_s = max(log.slowest_s, time.monotonic() - start)
        log.statuses[response.status_code] += 1
        if response.is_success:
            log.ok_times.append(time.monotonic())
        return response

    def _client(self, log: ClientLog) -> None:
        with httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_S) as client:
            created = False
            for step in range(self.max_requests):
                if self._stop.is_set():
                    return
                if not created:
                    body = {"session_id": log.session_id, "agent_id": "assistant", "session_state": {}}
                    answer = self._send(client, log, "POST", "/sessions", json=body)
                    created = answer is not None and answer.status_code in (201, 409)
                elif step % 2:
                    form = {"message": f"message {step}", "stream": "false", "session_id": log.session_id}
                    answer = self._send(client, log, "POST", "/agents/assistant/runs", data=form)
                    if answer is not None and answer.is_success:
                        log.run_ids.append(answer.json()["run_id"])
                else:
                    key = f"k{step}"
                    answer = self._send(
                        client,
                        log,
                        "PATCH",
                        f"/sessions/{log.session_id}",
                        json={"session_state": {key: step}},
                    )
                    if answer is not None and answer.is_success:
                        log.state_keys = [key]  # a PATCH replaces the whole state
                if answer is None or answer.status_code == 503:
                    time.sleep(0.2)

    def statuses(self) -> Counter[int]:
        """Every status code answered, over all clients."""
        total: Counter[int] = Counter()
        for log in self.logs:
            total.update(log.statuses)
        return total

    def acknowledged(self) -> int:
        """How many writes were acknowledged, over all clients."""
        return sum(len(log.ok_times) for log in self.logs)
