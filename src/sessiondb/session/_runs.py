"""``RunList``: a session's runs, noting the ones the caller reaches, so a save compares only those.

A store must write, besides the new runs, every stored run the caller changed in place. It
cannot see an in-place change without comparing the run with its stored text, and comparing
every run on every save made a save cost the session's size. So the list notes each run it
hands to the caller (indexing, iteration, slicing, ``copy``, ``get_run``) or takes from it
(``append``, ``extend``, ``upsert_run``), and a save compares only the noted ones (see
:func:`sessiondb.db._tracking.runs_to_write`). The session's own reads (``get_messages``,
``get_chat_history``, the history helpers, naming) go through :func:`quietly` and note
nothing.

After a save the list forgets what it noted, except the runs the caller still holds a
reference to: those may still be changed in place, so the next save compares them again. That
is read from the reference count (:func:`sys.getrefcount`), measured against the count of a
run nobody else holds, calibrated once at import through the same code.

Any other change of the list's shape (``insert``, item assignment, ``del``, ``pop``,
``remove``, ``sort``, ...) detaches it from its session's bookkeeping, and the next save
compares every run, as does a save of a session whose ``runs`` is a plain ``list``.

Pure: no I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, SupportsIndex, overload


def _counts(runs: dict[int, Any]) -> dict[int, int]:
    """The reference count of each run in ``runs`` (one place, so the calibration matches)."""
    return {key: sys.getrefcount(run) for key, run in runs.items()}


class RunList(list[Any]):
    """A session's runs (a ``list``) that notes the runs the caller reaches; see the module docstring."""

    __slots__ = ("_noted", "_owner", "_positions")

    def __init__(self, runs: Iterable[Any] = ()) -> None:
        """A list of ``runs``, attached to no session's bookkeeping yet."""
        super().__init__(runs)
        self._noted: dict[int, Any] = {}
        self._owner: object | None = None
        self._positions: dict[str, int] | None = None

    # -- what the store reads ----------------------------------------------------------------

    def tracked_by(self, owner: object) -> bool:
        """Whether the noted runs are complete for ``owner`` (the bookkeeping of the last save)."""
        return self._owner is owner

    def noted(self) -> list[Any]:
        """The runs reached since the last save (and those still held), in the order reached."""
        return list(self._noted.values())

    def settle(self, owner: object, *, fresh: bool = False) -> None:
        """Start a new period after a load or a save recorded in ``owner``.

        Args:
            owner: the session's bookkeeping that the save or load just filled.
            fresh: the runs were just built by the store (a load): nobody else holds any.
        """
        if fresh:
            self._noted = {}
        else:
            # After a comparison of every run (detached list), any run may be held.
            watched = self._noted if self._owner is owner else {id(run): run for run in quietly(self)}
            self._noted = _held(watched)
        if self._owner is not owner:
            self._positions = None
        elif self._positions is not None and not self._positions_hold(self._noted.values()):
            self._positions = None
        self._owner = owner

    def _detach(self) -> None:
        self._owner = None
        self._positions = None

    # -- finding a run by id -----------------------------------------------------------------

    def index_of(self, run_id: str) -> int | None:
        """The position of the run with ``run_id`` (the first one), or ``None``; notes nothing.

        Positions are kept in a dict built on first use and extended by appends. A run can
        only get another ``run_id`` in place after the caller reached it, so a miss is
        checked against the noted runs before it is trusted.
        """
        positions = self._positions
        if positions is None:
            positions = self._index()
        index = positions.get(run_id)
        if index is not None:
            if index < len(self) and _run_id(list.__getitem__(self, index)) == run_id:
                return index
            return self._index().get(run_id)
        if any(_run_id(run) == run_id for run in self._noted.values()):
            return self._index().get(run_id)
        return None

    def _index(self) -> dict[str, int]:
        positions: dict[str, int] = {}
        for index, run in enumerate(quietly(self)):
            positions.setdefault(_run_id(run), index)
        self._positions = positions
        return positions

    def _positions_hold(self, runs: Iterable[Any]) -> bool:
        assert self._positions is not None
        for run in runs:
            index = self._positions.get(_run_id(run))
            if index is None or index >= len(self) or list.__getitem__(self, index) is not run:
                return False
        return True

    def replace(self, index: int, run: Any) -> None:
        """Put ``run`` at ``index`` in place of a run with the same ``run_id`` (``upsert_run``)."""
        previous = list.__getitem__(self, index)
        list.__setitem__(self, index, run)
        self._noted.pop(id(previous), None)
        self._noted[id(run)] = run

    # -- reads that hand runs to the caller ----------------------------------------------------

    @overload
    def __getitem__(self, index: SupportsIndex) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        """The run at ``index`` (noted), or a plain list of the runs in a slice (all noted)."""
        if isinstance(index, slice):
            runs = list.__getitem__(self, index)
            self._note_all(runs)
            return runs
        run = list.__getitem__(self, index)
        self._noted[id(run)] = run
        return run

    def __iter__(self) -> Iterator[Any]:
        """Iterate the runs, noting each one as it is handed out."""
        noted = self._noted
        for run in list.__iter__(self):
            noted[id(run)] = run
            yield run

    def __reversed__(self) -> Iterator[Any]:
        """Iterate the runs newest first, noting each one as it is handed out."""
        noted = self._noted
        for run in list.__reversed__(self):
            noted[id(run)] = run
            yield run

    def copy(self) -> list[Any]:
        """A plain list of the runs (all noted)."""
        runs = list.copy(self)
        self._note_all(runs)
        return runs

    def __add__(self, other: list[Any]) -> list[Any]:
        """A plain list of these runs and ``other`` (these noted)."""
        self._note_all(list.__iter__(self))
        return list.__add__(self, other)

    def __mul__(self, count: SupportsIndex) -> list[Any]:
        """A plain list repeating the runs (all noted)."""
        self._note_all(list.__iter__(self))
        return list.__mul__(self, count)

    __rmul__ = __mul__

    def _note_all(self, runs: Iterable[Any]) -> None:
        noted = self._noted
        for run in runs:
            noted[id(run)] = run

    # -- appends: the runs are noted, the list stays attached -------------------------------

    def append(self, run: Any) -> None:
        """Append ``run`` (noted: a save writes it if it is new, compares it otherwise)."""
        list.append(self, run)
        self._noted[id(run)] = run
        if self._positions is not None:
            self._positions.setdefault(_run_id(run), len(self) - 1)

    def extend(self, runs: Iterable[Any]) -> None:
        """Append every run of ``runs``."""
        for run in list(runs):
            self.append(run)

    def __iadd__(self, runs: Iterable[Any]) -> RunList:
        """``runs += more``: :meth:`extend`."""
        self.extend(runs)
        return self

    # -- anything else detaches the list: the next save compares every run ------------------

    def insert(self, index: SupportsIndex, run: Any) -> None:
        """Insert ``run`` at ``index``."""
        self._detach()
        list.insert(self, index, run)

    def __setitem__(self, index: Any, value: Any) -> None:
        """Replace the run(s) at ``index``."""
        self._detach()
        list.__setitem__(self, index, value)

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        """Remove the run(s) at ``index``."""
        self._detach()
        list.__delitem__(self, index)

    def pop(self, index: SupportsIndex = -1) -> Any:
        """Remove and return the run at ``index``."""
        self._detach()
        return list.pop(self, index)

    def remove(self, run: Any) -> None:
        """Remove the first run equal to ``run``."""
        self._detach()
        list.remove(self, run)

    def clear(self) -> None:
        """Remove every run."""
        self._detach()
        list.clear(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        """Sort the runs in place (a key function sees every run)."""
        self._detach()
        list.sort(self, *args, **kwargs)

    def reverse(self) -> None:
        """Reverse the runs in place."""
        self._detach()
        list.reverse(self)

    def __imul__(self, count: SupportsIndex) -> RunList:
        """``runs *= n``."""
        self._detach()
        list.__imul__(self, count)
        return self


def quietly(runs: list[Any] | None) -> Iterator[Any]:
    """Iterate ``runs`` without noting them: the session's own reads and the stores' use this."""
    return list.__iter__(runs) if runs else iter(())


def run_objects(runs: list[Any] | None) -> list[Any]:
    """``runs`` as a plain list, noting nothing (a copy for a :class:`RunList`)."""
    if runs is None:
        return []
    return list.copy(runs) if isinstance(runs, RunList) else runs


def _run_id(run: Any) -> str:
    return str(getattr(run, "run_id", ""))


def _calibrate() -> int:
    """The count :func:`_counts` reports for a run that only a list and the noted runs hold."""
    probe = RunList()
    probe.append(object())
    return max(_counts(probe._noted).values())


_ALONE = _calibrate()


def _held(runs: dict[int, Any]) -> dict[int, Any]:
    """The runs of ``runs`` that something besides their list (the caller, say) refers to."""
    counts = _counts(runs)
    return {key: run for key, run in runs.items() if counts[key] > _ALONE}
