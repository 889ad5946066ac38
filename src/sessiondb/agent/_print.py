"""Render a run in the terminal with rich: a message panel, then a live response panel."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from sessiondb.agent.events import RunEvent
from sessiondb.run._text import to_text


def _body(text: str, tools: list[str], markdown: bool) -> RenderableType:
    lines = "".join(f"• {tool}\n" for tool in tools)
    content: RenderableType = Markdown(text) if markdown and text else Text(text)
    if not lines:
        return content
    from rich.console import Group

    return Group(Text(lines, style="dim"), content)


def print_stream(
    events: Iterable[RunEvent],
    *,
    input: Any,
    console: Console,
    markdown: bool,
    show_message: bool,
    final: Any = None,
) -> None:
    """Print ``input``, then the reply built from ``events`` (or ``final``'s content) as it arrives.

    Only the top-level run's text is shown; member and step runs show up as tool lines.
    """
    if show_message:
        console.print(Panel(Text(to_text(input)), title="Message", border_style="cyan", title_align="left"))
    text, tools = "", list[str]()

    def panel() -> Panel:
        return Panel(_body(text, tools, markdown), title="Response", border_style="blue", title_align="left")

    # A live panel only makes sense on a terminal; elsewhere (files, pipes) print the final one.
    live = Live(console=console, refresh_per_second=12) if console.is_terminal else None
    if live is not None:
        live.start()
    try:
        for event in events:
            if event.parent_run_id is not None:
                continue
            if event.event.endswith("RunContent") and isinstance(event.content, str):
                text += event.content
            elif event.event.endswith("ToolCallStarted") and event.tool:
                tools.append(f"{event.tool.get('tool_name')}({to_text(event.tool.get('tool_args'))})")
            elif event.event.endswith(("RunCompleted", "WorkflowCompleted")) and not text:
                text = to_text(event.content)
            if live is not None:
                live.update(panel())
        if final is not None:
            text = to_text(getattr(final, "content", final))
    finally:
        if live is not None:
            live.update(panel())
            live.stop()
    if live is None:
        console.print(panel())


__all__ = ["print_stream"]
