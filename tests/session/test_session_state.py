"""merge_dictionaries: the recursive session_state merge (spec §5)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sessiondb.session.state import merge_dictionaries


def test_b_wins_and_nested_dicts_merge() -> None:
    a = {"keep": 1, "over": 1, "nested": {"x": 1, "y": {"deep": 1, "other": 2}}, "list": [1]}
    b = {"over": 2, "nested": {"y": {"deep": 9}, "z": 3}, "list": [2], "new": True}
    assert merge_dictionaries(a, b) == {
        "keep": 1,
        "over": 2,
        "nested": {"x": 1, "y": {"deep": 9, "other": 2}, "z": 3},
        "list": [2],
        "new": True,
    }


def test_a_non_dict_value_replaces_a_dict_and_back() -> None:
    assert merge_dictionaries({"k": {"x": 1}}, {"k": 5}) == {"k": 5}
    assert merge_dictionaries({"k": 5}, {"k": {"x": 1}}) == {"k": {"x": 1}}


def test_inputs_are_not_changed_and_not_aliased() -> None:
    a: dict[str, Any] = {"n": {"x": 1}, "only_a": {"p": 1}}
    b: dict[str, Any] = {"n": {"y": 2}, "only_b": {"q": 1}}
    merged = merge_dictionaries(a, b)
    merged["n"]["x"] = 100
    merged["only_a"]["p"] = 100
    merged["only_b"]["q"] = 100
    assert a == {"n": {"x": 1}, "only_a": {"p": 1}}
    assert b == {"n": {"y": 2}, "only_b": {"q": 1}}


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
states = st.recursive(
    st.dictionaries(st.text(max_size=3), json_leaf, max_size=4),
    lambda inner: st.dictionaries(st.text(max_size=3), st.one_of(json_leaf, inner), max_size=4),
    max_leaves=12,
)


@given(states, states)
def test_every_key_of_b_is_present_with_b_leaf_values(a: dict[str, Any], b: dict[str, Any]) -> None:
    merged = merge_dictionaries(a, b)
    assert set(merged) == set(a) | set(b)
    for key, value in b.items():
        if not isinstance(value, dict):
            assert merged[key] == value


@given(states)
def test_merging_with_empty_or_itself_is_identity(a: dict[str, Any]) -> None:
    assert merge_dictionaries(a, {}) == a
    assert merge_dictionaries({}, a) == a
    assert merge_dictionaries(a, a) == a
