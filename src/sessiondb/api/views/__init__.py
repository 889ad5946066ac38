"""Domain objects rendered as the JSON the endpoints send."""

from sessiondb.api.views.runs import run_detail, run_preview
from sessiondb.api.views.sessions import session_detail, session_list_item

__all__ = ["run_detail", "run_preview", "session_detail", "session_list_item"]
