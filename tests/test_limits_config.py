"""`Limits` from a dict, as `MCPClient(limits=...)` and the config file give them."""

from __future__ import annotations

import pytest

from engine import ConfigError, Limits, MCPClient


def test_snake_case_and_camel_case_are_both_accepted() -> None:
    assert Limits.parse({"maxOutputChars": 2000}).max_output_chars == 2000
    assert Limits.parse({"max_output_chars": 2000}).max_output_chars == 2000
    mixed = Limits.parse({"timeout": 2, "maxToolCalls": 3, "max_concurrent_tool_calls": 4, "cpuTime": 1.5})
    assert (mixed.timeout, mixed.max_tool_calls, mixed.max_concurrent_tool_calls, mixed.cpu_time) == (2, 3, 4, 1.5)
    assert Limits.parse(None) == Limits()
    assert Limits.parse(mixed) is mixed
    assert "max_output_chars" in Limits.parse({"maxOutputChars": 1}).as_dict()  # reported in snake_case


def test_the_client_takes_limits_in_either_spelling() -> None:
    assert MCPClient(limits={"maxOutputChars": 2000}).limits.max_output_chars == 2000
    assert MCPClient(limits={"max_output_chars": 2000}).limits.max_output_chars == 2000
    assert MCPClient(limits=Limits(timeout=2)).limits.timeout == 2


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"maxOutputChars": -1}, r"limits: maxOutputChars: Input should be greater than or equal to 0 \(got -1\)"),
        ({"timeout": "soon"}, r"limits: timeout: .*\(got 'soon'\)"),
        ({"maxOutput": 10}, r"limits: maxOutput: unknown limit \(known, in snake_case or camelCase: cpu_time, "),
        ({"timeout": 0, "max_tool_calls": -1}, r"limits: timeout: .*; max_tool_calls: "),
        ([("timeout", 1)], r"limits: expected a dict or Limits, got list"),
    ],
    ids=["negative", "not a number", "unknown key", "two problems", "not a dict"],
)
def test_a_bad_limit_is_a_config_error_naming_the_field(limits: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Limits.parse(limits)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        MCPClient(limits=limits)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # a ConfigError is a ValueError
        Limits.parse(limits)  # type: ignore[arg-type]
