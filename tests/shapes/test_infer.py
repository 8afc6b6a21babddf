"""Shape inference: keys and kinds, never values; bounded; merged the same whatever the order."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.shapes import merge, shape_of, to_json_schema, valid_shape
from engine.shapes.infer import LIST_SAMPLE, MAX_DEPTH, MAX_KEYS, MAX_NODES, settle

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abcdef"), inner, max_size=4),
    max_leaves=20,
)


def merged(values: list[Any]) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    for value in values:
        shape = settle(merge(shape, shape_of(value)))
    return shape


def test_keys_and_kinds_are_kept_and_no_value_is() -> None:
    secret = "hunter2-secret-value"
    shape = shape_of({"name": secret, "size": 1234567, "tags": [secret], "ok": True, "none": None, "ratio": 0.5})
    text = json.dumps(shape)
    assert secret not in text and "1234567" not in text and "0.5" not in text
    assert to_json_schema(shape) == {
        "type": "object",
        "properties": {
            "name": {"type": "string"}, "none": {"type": "null"}, "ok": {"type": "boolean"},
            "ratio": {"type": "number"}, "size": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "none", "ok", "ratio", "size", "tags"],
    }


def test_a_key_missing_from_some_results_is_optional_and_kinds_become_unions() -> None:
    schema = to_json_schema(merged([{"a": 1, "b": "x"}, {"a": "one"}, {"a": 2, "b": None}]))
    assert schema["required"] == ["a"]
    assert schema["properties"]["a"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert schema["properties"]["b"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_list_elements_merge_into_one_shape() -> None:
    schema = to_json_schema(shape_of([{"id": 1}, {"id": 2, "extra": True}]))
    assert schema == {"type": "array", "items": {"type": "object", "properties": {
        "extra": {"type": "boolean"}, "id": {"type": "integer"}}, "required": ["id"]}}
    assert to_json_schema(shape_of([])) == {"type": "array"}


@settings(max_examples=150, deadline=None)
@given(st.lists(plain, min_size=1, max_size=6), st.randoms())
def test_the_merged_shape_does_not_depend_on_the_order(values: list[Any], random: Any) -> None:
    shuffled = list(values)
    random.shuffle(shuffled)
    assert merged(values) == merged(shuffled)
    assert valid_shape(merged(values))
    # Grouping does not matter either.
    half = len(values) // 2
    assert settle(merge(merged(values[:half]), merged(values[half:]))) == merged(values)


def test_depth_width_and_size_are_bounded() -> None:
    deep: Any = "leaf"
    for _ in range(50):
        deep = {"k": deep}
    text = json.dumps(shape_of(deep))
    assert text.count('"object"') == MAX_DEPTH and '"any"' in text
    wide = {f"key{i}": i for i in range(MAX_KEYS + 1)}
    assert to_json_schema(shape_of(wide)) == {"type": "object", "additionalProperties": {"type": "integer"}}
    # A huge nested value: only a bounded part is looked at.
    huge = [[{f"k{j}": [list(range(5))] * 5 for j in range(40)}] * 100] * 100
    assert len(json.dumps(shape_of(huge))) < MAX_NODES * 200
    long_key = {"x" * 1000: 1, "short": 2}
    assert list(to_json_schema(shape_of(long_key))["properties"]) == ["short"]
    assert LIST_SAMPLE >= 1


def test_keys_that_are_data_turn_the_object_into_a_map_instead_of_growing() -> None:
    # A tool returning {filename: size}: every call brings new keys; the shape must not grow forever.
    shape: dict[str, Any] = {}
    for call in range(200):
        shape = settle(merge(shape, shape_of({f"file{call}-{i}.txt": i for i in range(3)})))
    assert to_json_schema(shape) == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert len(json.dumps(shape)) < 200


def test_a_changing_shape_is_updated_within_the_bounds() -> None:
    shape: dict[str, Any] = {}
    for version in range(100):
        shape = settle(merge(shape, shape_of({"id": 1, f"field_v{version}": "x"})))
    assert len(json.dumps(shape)) < 4000  # the v-fields turned the object into a map, not 100 fields
    assert valid_shape(shape)


def test_records_from_another_host_are_checked() -> None:
    assert valid_shape(shape_of({"a": [1, {"b": None}]}))
    for bad in [None, [], {"str": 2}, {"object": {"n": 0, "keys": {}}}, {"object": {"n": 1, "keys": {"a": [2, {}]}}},
                {"list": {"evil": 1}}, {"object": {"n": 1, "keys": {"a": [1, "str"]}}}]:
        assert not valid_shape(bad), bad
