"""The argument checker: precise messages that name the parameter, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from engine.kernel.schema import ArgumentChecker, check_value, parameter_identifiers

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "owner": {"type": "string", "minLength": 1},
        "count": {"type": "integer", "minimum": 1, "maximum": 100},
        "ratio": {"type": "number", "exclusiveMaximum": 1},
        "state": {"enum": ["open", "closed"]},
        "labels": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "author": {"$ref": "#/$defs/User"},
        "when": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "note": {"type": ["string", "null"]},
        "user-name": {"type": "string"},
        "class": {"type": "string"},
    },
    "required": ["owner"],
    "additionalProperties": False,
    "$defs": {
        "User": {
            "type": "object",
            "properties": {"login": {"type": "string"}, "id": {"type": "integer"}},
            "required": ["login"],
            "additionalProperties": False,
        }
    },
}

checker = ArgumentChecker(SCHEMA, "gh.list_issues")


def test_valid_arguments_pass_and_come_back_under_original_names() -> None:
    arguments = checker.check(
        {
            "owner": "acme",
            "count": 3,
            "ratio": 0.5,
            "state": "open",
            "labels": ["bug"],
            "author": {"login": "x", "id": 2},
            "when": 5,
            "user_name": "u",
            "class_": "c",
        }
    )
    assert arguments["user-name"] == "u" and arguments["class"] == "c"
    assert "user_name" not in arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, TypeError, "missing required parameter: 'owner'"),
        ({"owner": 3}, TypeError, "parameter 'owner' must be str, got int 3"),
        ({"owner": ""}, ValueError, "parameter 'owner' must have at least 1 characters"),
        ({"owner": "a", "count": 0}, ValueError, "parameter 'count' must be >= 1, got 0"),
        ({"owner": "a", "count": 101}, ValueError, "parameter 'count' must be <= 100"),
        ({"owner": "a", "count": True}, TypeError, "parameter 'count' must be int, got bool"),
        ({"owner": "a", "count": 1.5}, TypeError, "parameter 'count' must be int"),
        ({"owner": "a", "ratio": 1}, ValueError, "parameter 'ratio' must be < 1"),
        ({"owner": "a", "state": "merged"}, ValueError, "parameter 'state' must be one of 'open', 'closed'"),
        ({"owner": "a", "labels": ["x", 2]}, TypeError, r"parameter 'labels'\[1\] must be str"),
        ({"owner": "a", "labels": ["a"] * 4}, ValueError, "must have at most 3 items"),
        ({"owner": "a", "author": {"id": 1}}, TypeError, "parameter 'author' is missing required key 'login'"),
        ({"owner": "a", "author": {"login": 1}}, TypeError, r"parameter 'author'\['login'\] must be str"),
        ({"owner": "a", "author": {"login": "x", "x": 1}}, TypeError, "has unknown key 'x'"),
        ({"owner": "a", "when": [1]}, TypeError, "parameter 'when' matches none of the allowed forms"),
        ({"owner": "a", "ownr": 1}, TypeError, "unexpected parameter 'ownr'; did you mean 'owner'"),
    ],
)
def test_bad_arguments_raise_with_a_message_naming_the_parameter(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        checker.check(kwargs)


def test_none_for_an_optional_parameter_is_dropped_unless_null_is_allowed() -> None:
    assert checker.check({"owner": "a", "count": None, "note": None}) == {"owner": "a", "note": None}


def test_an_integral_float_is_an_integer_and_a_tuple_an_array() -> None:
    assert checker.check({"owner": "a", "count": 2.0, "labels": ("x",)})["count"] == 2.0


def test_schemas_without_properties_accept_any_keywords() -> None:
    assert ArgumentChecker({"type": "object"}, "t").check({"anything": [1]}) == {"anything": [1]}


def test_unknown_keywords_are_accepted_when_additional_properties_allow_them() -> None:
    open_schema = {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}}
    assert ArgumentChecker(open_schema, "t").check({"b": 1}) == {"b": 1}


def test_const_all_of_and_one_of() -> None:
    check_value({"const": "x"}, "x", "p")
    with pytest.raises(ValueError, match="must be 'x'"):
        check_value({"const": "x"}, "y", "p")
    with pytest.raises(ValueError, match=">= 3"):
        check_value({"allOf": [{"type": "integer"}, {"minimum": 3}]}, 2, "p")
    check_value({"oneOf": [{"type": "null"}, {"type": "string"}]}, None, "p")


def test_enum_does_not_confuse_bools_and_ints() -> None:
    with pytest.raises(ValueError):
        check_value({"enum": [1, 2]}, True, "p")
    with pytest.raises(ValueError):
        check_value({"enum": [True]}, False, "p")
    with pytest.raises(ValueError):
        check_value({"const": 0}, False, "p")
    check_value({"const": False}, False, "p")


def test_recursive_refs_terminate() -> None:
    schema = {
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
    }
    deep: dict[str, Any] = {}
    for _ in range(200):
        deep = {"next": deep}
    check_value(schema, deep, "p")
    with pytest.raises(TypeError):
        check_value(schema, {"next": {"next": 1}}, "p")


def test_parameter_identifiers_alias_only_what_needs_it() -> None:
    schema: dict[str, Any] = {"properties": {"a": {}, "user-name": {}, "class": {}, "a-b": {}, "a_b": {}, "1x": {}}}
    assert parameter_identifiers(schema) == {
        "a": "a",
        "a_b": "a_b",
        "user_name": "user-name",
        "class_": "class",
        "p_1x": "1x",
    }
