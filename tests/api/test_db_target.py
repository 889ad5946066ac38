"""What a ``--db`` value names: the SQLite file of a URI filename is the file itself."""

from __future__ import annotations

from pathlib import Path

from sessiondb.api.databases import Target


def test_a_uri_filename_names_its_file_without_prefix_or_query(tmp_path: Path) -> None:
    database = tmp_path / "served.db"
    target = Target.parse(f"main=sqlite:///file:{database}?mode=ro&uri=true")
    assert target.backend == "sqlite"
    assert target.path == database


def test_a_plain_sqlite_url_and_an_in_memory_one(tmp_path: Path) -> None:
    assert Target.parse(f"sqlite:///{tmp_path / 'a.db'}").path == tmp_path / "a.db"
    assert Target.parse("sqlite:///:memory:").path is None
    assert Target.parse("sqlite:///file:shared?mode=memory&cache=shared&uri=true").path is None
