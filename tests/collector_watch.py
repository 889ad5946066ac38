"""Record whether the cyclic garbage collector was on at each session an import decodes."""

from __future__ import annotations

import gc

import pytest

from sessiondb.session import Session
from sessiondb.transfer import importer as importer_module


def watch_collector(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Wrap the importer's ``decode_session``; the list fills with ``gc.isenabled()`` per call."""
    seen: list[bool] = []
    decode = importer_module.decode_session

    def watching(line: int, text: bytes | str) -> Session:
        seen.append(gc.isenabled())
        return decode(line, text)

    monkeypatch.setattr(importer_module, "decode_session", watching)
    return seen
