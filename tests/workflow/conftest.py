"""Share the runtime test helpers of ``tests/agent`` (``runtime_support``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "agent"))
