"""Every snippet of README.md runs, as the comment at the top of README.md's source describes.

Python blocks run on SQLite and on PostgreSQL; bash blocks run on SQLite in a fresh directory
holding ``.venv`` (this interpreter's environment) and ``examples/``, so ``.venv/bin/...``
commands run exactly as a reader types them, without an activated venv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sessiondb.models import TestModel
from sessiondb.models.fake_server import FakeOpenAIServer
from store_backends import PG_URL, postgres_schema, require_postgres

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mark>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)\n```", re.S
)


@dataclass(frozen=True)
class Snippet:
    """One fenced block of the README."""

    line: int
    lang: str
    code: str
    mark: str

    @property
    def id(self) -> str:
        return f"{self.lang}-line{self.line}"


def snippets() -> list[Snippet]:
    """The README's python and bash blocks, with the marker comment right before each, if any."""
    text = README.read_text()
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("lang")) + 1
        found.append(Snippet(line, match["lang"], match["code"], (match["mark"] or "").strip()))
    return [snippet for snippet in found if snippet.lang in ("python", "bash")]


SNIPPETS = snippets()
PYTHON = [s for s in SNIPPETS if s.lang == "python" and not s.mark.startswith("skip")]
BASH = [s for s in SNIPPETS if s.lang == "bash" and not s.mark.startswith("skip")]


def test_the_readme_has_runnable_snippets_and_every_skip_says_why() -> None:
    assert len(PYTHON) >= 2 and len(BASH) >= 2
    for snippet in SNIPPETS:
        assert snippet.mark in ("", "network") or re.fullmatch(r"skip \(.+\)", snippet.mark), snippet


def _workdir(tmp_path: Path) -> Path:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


def _env() -> dict[str, str]:
    # What the reader's shell has: no test settings, no OpenAI settings unless the test sets them.
    prefixes = ("OPENAI_", "SESSIONDB_EXAMPLE_", "SESSIONDB_DB", "VIRTUAL_ENV")
    clean = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    return {**clean, "COLUMNS": "100", "PYTHONPATH": ""}


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _on_postgres(code: str, schema: str) -> str:
    swapped, count = re.subn(
        r'SqliteDb\(db_file="[^"]*"', f'PostgresDb(db_url="{PG_URL}", db_schema="{schema}"', code
    )
    assert count, "a python snippet must open its store with SqliteDb(db_file=...) (see README's top comment)"
    return f"from sessiondb.db.postgres import PostgresDb\n{swapped}"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("snippet", PYTHON, ids=[s.id for s in PYTHON])
def test_python_snippet_runs(snippet: Snippet, backend: str, tmp_path: Path) -> None:
    cwd, env = _workdir(tmp_path), _env()
    script = cwd / "snippet.py"

    def run() -> None:
        _run([str(cwd / ".venv" / "bin" / "python"), str(script)], cwd, env)

    def run_with_model() -> None:
        if snippet.mark != "network":
            run()
            return
        with FakeOpenAIServer(TestModel(), api_key="sk-readme") as server:
            env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-readme")
            run()
            assert server.requests, "the snippet never called the model"

    if backend == "sqlite":
        script.write_text(snippet.code)
        run_with_model()
        return
    require_postgres()
    with postgres_schema("readme") as schema:
        script.write_text(_on_postgres(snippet.code, schema))
        run_with_model()


@pytest.mark.parametrize("snippet", BASH, ids=[s.id for s in BASH])
def test_bash_snippet_runs(snippet: Snippet, tmp_path: Path) -> None:
    cwd = _workdir(tmp_path)
    _run(["bash", "-e", "-o", "pipefail", "-c", snippet.code], cwd, _env())
