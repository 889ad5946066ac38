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
run nobody else holds, calibrated once at import through the same code. Reviewed against lazy
runs (issue 15 item 2, issue 20): "reached" could be "decoded or handed out" alone, but a run
handed out (or appended) may still be edited in place after the save that wrote it (the
streaming pattern: store a run while it runs, finish it, save again), so without knowing
whether the caller still holds it every save would compare every run handed out since the
load, which grows with the turns. Nothing cheaper than the count tells that, so the count
stays. What lazy runs do change: a run never decoded cannot be held or edited, so it is never
compared, not even after a detaching change of shape. On a free-threaded build, where counts
may be deferred, every noted run stays noted (:data:`REFCOUNTS_EXACT`): a save compares more,
never less.

Any other change of the list's shape (``insert``, item assignment, ``del``, ``pop``,
``remove``, ``sort``, ...) detaches it from its session's bookkeeping, and the next save
compares every run, as does a save of a session whose ``runs`` is a plain ``list``.

Lazy runs. A store may fill the list with runs not decoded yet (:meth:`RunList.stored`): each
slot holds the run's stored JSON text until something reads it, through the list's own
methods or :func:`quietly` / :func:`run_objects`, and is then replaced by the run built from
it, once (the same object from then on). Building a 2 KB run costs ~15 µs, so a session of
1,000 runs loaded to append one run, or to read its last three, builds only what is read. A
run never decoded was never handed out, so a save never needs to compare it: it is still what
the store holds. Every read of the list decodes before it hands a run out, and the C-level
reads a ``list`` subclass cannot intercept (``==``, ``in``, ``index``, ``count``, ``repr``,
pydantic's serialisation of ``runs``) are overridden to decode first, so no caller sees a
slot; tests prove a lazy session and one decoded at load equal in every read.

Pure: no I/O.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, SupportsIndex, overload


class Stored:
    """A run not decoded yet: its id, its stored JSON text and what builds the run from it."""

    __slots__ = ("build", "run_id", "text")

    def __init__(self, run_id: str, text: str, build: Callable[[str], Any]) -> None:
        """A slot for the run ``run_id`` stored as ``text``, built by ``build(text)`` when read."""
        self.run_id = run_id
        self.text = text
        self.build = build

    def __repr__(self) -> str:
        return f"Stored({self.run_id!r})"


PAUSE_COLLECTOR_FROM = 64
"""Runs decoded at once from which the cyclic garbage collector is paused (see
:func:`collector_paused`)."""


@contextmanager
def collector_paused(count: int, *, threshold: int | None = None) -> Iterator[None]:
    """Pause the cyclic garbage collector while ``count`` runs' objects are built, if
    ``threshold`` (default :data:`PAUSE_COLLECTOR_FROM`) or more.

    Every object built then survives (it is the result), so the collections its allocations
    trigger find nothing to free, and each full collection walks every object of the
    process: building a 1,000-run session spent ~40% of its time in them (gen-2 collections
    of ~50 ms each in a process of ~100,000 objects). The collector is only paused: it runs
    again, and finds any cycle made meanwhile, as soon as the build ends. If it was off
    already (the application's choice, or another thread's build), it is left as it is.
    """
    if count < (PAUSE_COLLECTOR_FROM if threshold is None else threshold) or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


DECODE_AHEAD_MAX = 256
"""The largest chunk an iteration over lazy runs decodes ahead (see ``RunList._decoding_iter``)."""


def _counts(runs: dict[int, Any]) -> dict[int, int]:
    """The reference count of each run in ``runs`` (one place, so the calibration matches)."""
    return {key: sys.getrefcount(run) for key, run in runs.items()}


class RunList(list[Any]):
    """A session's runs (a ``list``) that notes the runs the caller reaches; see the module docstring."""

    __slots__ = ("_lazy", "_noted", "_owner", "_positions")

    def __init__(self, runs: Iterable[Any] = ()) -> None:
        """A list of ``runs``, attached to no session's bookkeeping yet."""
        super().__init__(runs)
        self._noted: dict[int, Any] = {}
        self._owner: object | None = None
        self._positions: dict[str, int] | None = None
        # True while some slot may still hold a Stored run (a hint: the slots say for sure).
        self._lazy = False

    @classmethod
    def stored(cls, slots: Iterable[Stored]) -> RunList:
        """A list of runs not decoded yet (see the module docstring: lazy runs)."""
        runs = cls(slots)
        runs._lazy = True
        return runs

    # -- decoding ------------------------------------------------------------------------------

    def decoded_at(self, index: int) -> Any:
        """The run at ``index`` (decoded in place if it was not yet); notes nothing."""
        run = list.__getitem__(self, index)
        if type(run) is Stored:
            run = run.build(run.text)
            list.__setitem__(self, index, run)
        return run

    def decode_all(self) -> None:
        """Decode every run not decoded yet, in place; notes nothing."""
        if not self._lazy:
            return
        pending = [index for index, run in enumerate(list.__iter__(self)) if type(run) is Stored]
        with collector_paused(len(pending)):
            for index in pending:
                self.decoded_at(index)
        self._lazy = False

    def _quiet_iter(self) -> Iterator[Any]:
        if not self._lazy:
            return list.__iter__(self)
        return self._decoding_iter()

    def _decoding_iter(self) -> Iterator[Any]:
        # Decodes ahead in chunks that double (1, 2, 4, ... DECODE_AHEAD_MAX runs): a loop that
        # stops early decodes at most twice what it read, and one that reads every run gets
        # most of them built with the collector paused, as a load that builds all does. Checks
        # the length at every step, as a list's own iterator does.
        index, chunk = 0, 1
        while index < len(self):
            if type(list.__getitem__(self, index)) is Stored:
                self._decode_range(index, chunk)
                chunk = min(chunk * 2, DECODE_AHEAD_MAX)
            yield list.__getitem__(self, index)
            index += 1

    def _decode_range(self, start: int, count: int) -> None:
        pending = [
            index
            for index in range(start, min(start + count, len(self)))
            if type(list.__getitem__(self, index)) is Stored
        ]
        with collector_paused(len(pending)):
            for index in pending:
                self.decoded_at(index)

    def slots(self) -> Iterator[Stored]:
        """The runs not decoded yet."""
        return (run for run in list.__iter__(self) if type(run) is Stored)

    def decoded(self) -> Iterator[Any]:
        """The runs decoded so far (the only ones a caller can have reached); notes nothing."""
        if not self._lazy:
            return list.__iter__(self)
        return (run for run in list.__iter__(self) if type(run) is not Stored)

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
            watched = self._noted if self._owner is owner else {id(run): run for run in self.decoded()}
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
        # Undecoded slots carry their run's id: finding a run decodes nothing.
        for index, run in enumerate(list.__iter__(self)):
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
            self.decode_all()
            runs = list.__getitem__(self, index)
            self._note_all(runs)
            return runs
        run = list.__getitem__(self, index)
        if type(run) is Stored:
            position = index.__index__()
            run = self.decoded_at(position + len(self) if position < 0 else position)
        self._noted[id(run)] = run
        return run

    def __iter__(self) -> Iterator[Any]:
        """Iterate the runs, noting each one as it is handed out."""
        noted = self._noted
        for run in self._quiet_iter():
            noted[id(run)] = run
            yield run

    def __reversed__(self) -> Iterator[Any]:
        """Iterate the runs newest first, noting each one as it is handed out."""
        noted = self._noted
        for index in range(len(self) - 1, -1, -1):
            if index >= len(self):
                continue  # the caller removed runs while iterating, as list.__reversed__ allows
            run = self.decoded_at(index)
            noted[id(run)] = run
            yield run

    def copy(self) -> list[Any]:
        """A plain list of the runs (all noted)."""
        self.decode_all()
        runs = list.copy(self)
        self._note_all(runs)
        return runs

    def __add__(self, other: list[Any]) -> list[Any]:
        """A plain list of these runs and ``other`` (these noted)."""
        self.decode_all()
        if isinstance(other, RunList):
            other.decode_all()  # list's concatenation copies the other list's slots as they are
        self._note_all(list.__iter__(self))
        return list.__add__(self, other)

    def __radd__(self, other: list[Any]) -> list[Any]:
        """``plain + runs``: a plain list of ``other`` and these runs (these noted)."""
        self.decode_all()
        self._note_all(list.__iter__(self))
        return list.__add__(other, list.copy(self))

    def __mul__(self, count: SupportsIndex) -> list[Any]:
        """A plain list repeating the runs (all noted)."""
        self.decode_all()
        self._note_all(list.__iter__(self))
        return list.__mul__(self, count)

    __rmul__ = __mul__

    # -- the list's C-level reads, which would see undecoded slots: decode first -------------

    def __eq__(self, other: object) -> bool:
        """Equal to a list of equal runs (compared decoded)."""
        self.decode_all()
        if isinstance(other, RunList):
            other.decode_all()
        return list.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        """Not :meth:`__eq__`."""
        return not self == other

    def __contains__(self, run: object) -> bool:
        """Whether a run equal to ``run`` is in the list (notes nothing)."""
        self.decode_all()
        return list.__contains__(self, run)

    def index(self, run: Any, start: SupportsIndex = 0, stop: SupportsIndex = sys.maxsize) -> int:
        """The position of the first run equal to ``run`` (notes nothing)."""
        self.decode_all()
        return list.index(self, run, start, stop)

    def count(self, run: Any) -> int:
        """How many runs equal ``run`` (notes nothing)."""
        self.decode_all()
        return list.count(self, run)

    def __repr__(self) -> str:
        self.decode_all()
        return list.__repr__(self)

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
        self.decode_all()
        return list.pop(self, index)

    def remove(self, run: Any) -> None:
        """Remove the first run equal to ``run``."""
        self._detach()
        self.decode_all()
        list.remove(self, run)

    def clear(self) -> None:
        """Remove every run."""
        self._detach()
        list.clear(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        """Sort the runs in place (a key function sees every run)."""
        self._detach()
        self.decode_all()
        list.sort(self, *args, **kwargs)

    def reverse(self) -> None:
        """Reverse the runs in place."""
        self._detach()
        list.reverse(self)

    def __imul__(self, count: SupportsIndex) -> RunList:
        """``runs *= n``."""
        self._detach()
        self.decode_all()  # a slot repeated would be decoded into one run per copy
        list.__imul__(self, count)
        return self


def quietly(runs: list[Any] | None) -> Iterator[Any]:
    """Iterate ``runs`` without noting them (decoding lazy ones): the session's own reads and
    the stores' use this."""
    if not runs:
        return iter(())
    if isinstance(runs, RunList):
        return runs._quiet_iter()
    return list.__iter__(runs)


def run_objects(runs: list[Any] | None) -> list[Any]:
    """``runs`` as a plain list, noting nothing (a decoded copy for a :class:`RunList`)."""
    if runs is None:
        return []
    if isinstance(runs, RunList):
        runs.decode_all()
        return list.copy(runs)
    return runs


class QuietRuns(Sequence[Any]):
    """A read-only view of a session's runs that notes nothing and decodes only what is read.

    History reads walk it from the newest run and stop after ``last_n_runs``, so reading the
    last three runs of a lazily loaded session decodes about three runs, not all of them.
    """

    __slots__ = ("_runs",)

    def __init__(self, runs: list[Any] | None) -> None:
        """A view of ``runs`` (``None``: no runs)."""
        self._runs: list[Any] = runs if runs is not None else []

    def __len__(self) -> int:
        return len(self._runs)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        runs = self._runs
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(runs)))]
        if isinstance(runs, RunList):
            return runs.decoded_at(index + len(runs) if index < 0 else index)
        return runs[index]

    def __iter__(self) -> Iterator[Any]:
        return quietly(self._runs)

    def __reversed__(self) -> Iterator[Any]:
        for index in range(len(self._runs) - 1, -1, -1):
            yield self[index]


def _run_id(run: Any) -> str:
    return str(getattr(run, "run_id", ""))


def _calibrate() -> int:
    """The count :func:`_counts` reports for a run that only a list and the noted runs hold."""
    probe = RunList()
    probe.append(object())
    return max(_counts(probe._noted).values())


_ALONE = _calibrate()

REFCOUNTS_EXACT: bool = getattr(sys, "_is_gil_enabled", lambda: True)()
"""Whether :func:`sys.getrefcount` counts every reference (a build with the GIL). A free-threaded
build may defer counts, so a run the caller holds could look alone and its later edit be
missed: there every noted run stays noted (a save compares more, never less)."""


def _held(runs: dict[int, Any]) -> dict[int, Any]:
    """The runs of ``runs`` that something besides their list (the caller, say) refers to."""
    if not REFCOUNTS_EXACT:
        return dict(runs)
    counts = _counts(runs)
    return {key: run for key, run in runs.items() if counts[key] > _ALONE}
