"""``run``/``arun``, their streaming forms and ``print_response``, for agents, teams and workflows.

``run`` returns the finished run; ``run(stream=True)`` (Agno's spelling) and ``run_stream``
return an iterator of :class:`~sessiondb.agent.events.RunEvent` instead. A stream is lazy:
the run starts when it is first iterated. The finished run is also kept as ``last_run``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Generic, Literal, TypeVar, overload

import anyio.to_thread
from rich.console import Console

from sessiondb.agent import _cancel
from sessiondb.agent._effects import Finished, Steps, adrive, drive
from sessiondb.agent._print import print_stream
from sessiondb.agent.events import RunEvent
from sessiondb.db.base import SessionStore

RunT = TypeVar("RunT")


class RunAPI(Generic[RunT]):
    """Public run methods over a runtime's ``_run_steps``."""

    last_run: RunT | None = None

    def _run_steps(
        self,
        input: Any,
        *,
        stream: bool = False,
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        parent: Any = None,
    ) -> Steps[RunT]:
        raise NotImplementedError

    # -- sync ------------------------------------------------------------------------------

    @overload
    def run(
        self,
        input: Any,
        *,
        stream: Literal[False] = False,
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RunT: ...

    @overload
    def run(
        self,
        input: Any,
        *,
        stream: Literal[True],
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Iterator[RunEvent]: ...

    def run(
        self,
        input: Any,
        *,
        stream: bool = False,
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RunT | Iterator[RunEvent]:
        """Run once and return the finished run (or, with ``stream=True``, its events).

        Args:
            input: the user's message (text, a ``Message``, a dict or a pydantic model).
            stream: return an iterator of events instead (see :meth:`run_stream`).
            session_id / user_id: override the runtime's for this run.
            session_state: merged onto the stored state (it wins); see ``overwrite_db_session_state``.
            metadata: merged into the run's metadata.

        Raises:
            Exception: whatever failed the run (model, store); the run is stored as ``ERROR`` first.
        """
        kwargs: dict[str, Any] = dict(session_id=session_id, user_id=user_id)
        kwargs.update(session_state=session_state, metadata=metadata)
        if stream:
            return self.run_stream(input, **kwargs)
        for item in drive(self._run_steps(input, stream=False, **kwargs)):
            if isinstance(item, Finished):
                return self._keep(item.result)
        raise RuntimeError("the run ended without a result")

    def run_stream(self, input: Any, **kwargs: Any) -> Iterator[RunEvent]:
        """Run once, streaming: yields events (text pieces as ``RunContent``) as they happen."""
        for item in drive(self._run_steps(input, stream=True, **kwargs)):
            if isinstance(item, Finished):
                self._keep(item.result)
            else:
                yield item

    # -- async -----------------------------------------------------------------------------

    @overload
    async def arun(
        self,
        input: Any,
        *,
        stream: Literal[False] = False,
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RunT: ...

    @overload
    async def arun(
        self,
        input: Any,
        *,
        stream: Literal[True],
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[RunEvent]: ...

    async def arun(
        self,
        input: Any,
        *,
        stream: bool = False,
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RunT | AsyncIterator[RunEvent]:
        """Async twin of :meth:`run`; blocking store calls run in worker threads."""
        kwargs: dict[str, Any] = dict(session_id=session_id, user_id=user_id)
        kwargs.update(session_state=session_state, metadata=metadata)
        if stream:
            return self.arun_stream(input, **kwargs)
        async for item in adrive(self._run_steps(input, stream=False, **kwargs)):
            if isinstance(item, Finished):
                return self._keep(item.result)
        raise RuntimeError("the run ended without a result")

    async def arun_stream(self, input: Any, **kwargs: Any) -> AsyncIterator[RunEvent]:
        """Async twin of :meth:`run_stream`."""
        async for item in adrive(self._run_steps(input, stream=True, **kwargs)):
            if isinstance(item, Finished):
                self._keep(item.result)
            else:
                yield item

    # -- cancelling ------------------------------------------------------------------------

    def cancel_run(self, run_id: str, *, user_id: str | None = None) -> bool:
        """Ask a run of this runtime that is executing in this process to stop.

        The run stops at its next step (before the next model call, tool call or write, or
        once the model's current reply is in), is stored ``CANCELLED`` with the content
        "Run <run_id> was cancelled", emits ``RunCancelled`` (``TeamRunCancelled``,
        ``WorkflowCancelled``), and returns normally. Its ``session_state`` changes are not
        saved. A run executing in another process on the same store is flagged in the store
        instead (``SessionStore.request_run_cancel``) and stops before its next model call.

        Args:
            run_id: the run to stop.
            user_id: when given, only a run of this user is stopped.

        Returns:
            Whether such a run was executing (here, or elsewhere as stored) and has been asked
            to stop (``False`` for an unknown run, one that has ended, or one of another
            runtime or user).
        """
        runtime_id = getattr(self, "id", None)
        if _cancel.request_cancel(run_id, runtime_id=runtime_id, user_id=user_id):
            return True
        # Not executing here: flag it in the store for the process that executes it.
        get_db = getattr(self, "get_db", None)
        if get_db is None:
            return False
        store: SessionStore = get_db()
        return store.request_run_cancel(run_id, runtime_id=runtime_id, user_id=user_id)

    async def acancel_run(self, run_id: str, *, user_id: str | None = None) -> bool:
        """Async twin of :meth:`cancel_run` (the store is written from a worker thread)."""
        return await anyio.to_thread.run_sync(lambda: self.cancel_run(run_id, user_id=user_id))

    def _keep(self, run: RunT) -> RunT:
        self.last_run = run
        return run

    # -- printing --------------------------------------------------------------------------

    def print_response(
        self,
        input: Any,
        *,
        stream: bool = True,
        markdown: bool | None = None,
        show_message: bool = True,
        console: Console | None = None,
        **kwargs: Any,
    ) -> RunT | None:
        """Run and print the exchange with rich: the message, then the reply as it streams in.

        Args:
            markdown: render the reply as Markdown (default: the runtime's ``markdown``).
            show_message: print the input in its own panel first.
            console: where to print (a new stdout console by default).
            **kwargs: passed to :meth:`run_stream` (``session_id``, ``user_id``, ...).

        Returns:
            The finished run.
        """
        use_markdown = bool(getattr(self, "markdown", False)) if markdown is None else markdown
        print_stream(
            self.run_stream(input, **kwargs) if stream else iter(()),
            input=input,
            console=console or Console(),
            markdown=use_markdown,
            show_message=show_message,
            final=None if stream else self.run(input, **kwargs),
        )
        return self.last_run


__all__ = ["RunAPI"]
