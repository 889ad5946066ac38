"""The security tests reuse the API tests' helpers (seed data, ASGI client)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _helpers in (_TESTS / "api",):
    if str(_helpers) not in sys.path:
        sys.path.insert(0, str(_helpers))
