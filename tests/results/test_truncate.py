"""Structural truncation: valid plain data of the same shape within the budget, the largest parts
cut first, every cut said, and hostile values (cycles, deep nesting, huge strings) bounded."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from engine.results import MAX_DEPTH, msgpack_size, result_ceiling, truncate


def size(value: Any) -> int:
    return len(msgpack.packb(value, use_bin_type=True))


def test_a_value_that_fits_is_returned_as_it_is() -> None:
    value = {"a": [1, 2, 3], "b": "text"}
    cut = truncate(value, 1000)
    assert cut.value is value and not cut.cut and cut.size == size(value)


def test_five_megabytes_of_nested_data_is_cut_to_the_budget_keeping_its_shape() -> None:
    value = {"count": 20000, "orders": [
        {"id": i, "customer": {"name": f"c{i}"}, "lines": [{"sku": f"S{j}", "qty": j} for j in range(8)],
         "note": "n" * 110} for i in range(20000)
    ]}
    assert size(value) > 5_000_000
    cut = truncate(value, 100_000)
    assert size(cut.value) == cut.size <= 100_000
    assert cut.size > 90_000  # the budget is used, not wasted
    assert cut.value["count"] == 20000
    orders = cut.value["orders"]
    kept = [o for o in orders if isinstance(o, dict)]
    assert kept[0] == value["orders"][0]  # small items are whole
    assert orders[-1] == f"… {20000 - len(kept)} more items"
    assert cut.cuts[0] == {"path": "['orders']", "keys": ["orders"], "kind": "list", "kept": len(kept),
                           "dropped": 20000 - len(kept)}


def test_the_largest_parts_are_cut_first() -> None:
    value = {"small": "s" * 40, "big": "b" * 50_000, "list": list(range(5))}
    cut = truncate(value, 2_000)
    assert cut.value["small"] == "s" * 40 and cut.value["list"] == [0, 1, 2, 3, 4]
    assert cut.value["big"].startswith("bbb") and cut.value["big"].endswith(" chars]")
    assert [c["path"] for c in cut.cuts] == ["['big']"]
    assert cut.size <= 2_000


def test_mappings_with_many_keys_say_how_many_were_dropped() -> None:
    value = {f"k{i}": i for i in range(10_000)}
    cut = truncate(value, 1_000)
    assert cut.size <= 1_000 and cut.value["…"].endswith("more keys")
    assert cut.cuts[0]["kind"] == "mapping"


def test_a_cycle_becomes_a_marker() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    cut = truncate(loop, 100)
    assert cut.value == [1, "<cycle>"] and msgpack_size(loop) is None


def test_nesting_100000_deep_is_summarised_in_bounded_work() -> None:
    top: dict[str, Any] = {}
    node = top
    for _ in range(100_000):
        node["a"] = {}
        node = node["a"]
    cut = truncate(top, 500)
    assert cut.size <= 500 and size(cut.value) == cut.size
    depth, node = 0, cut.value
    while isinstance(node, dict):
        node, depth = node["a"], depth + 1
    assert depth == MAX_DEPTH and node == "<dict of 1 keys>"
    assert cut.cuts[0]["kind"] == "nesting"


def test_a_100_megabyte_string_is_cut_with_a_marker() -> None:
    cut = truncate("y" * 100_000_000, 1_000)
    assert cut.size <= 1_000 and cut.value.endswith(f"… [+{100_000_000 - cut.cuts[0]['kept']} chars]")


def test_values_that_are_not_plain_data_are_named_not_run() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise AssertionError("never called")

        __str__ = __repr__

    cut = truncate({"x": Hostile(), 3: b"\x00" * 10, "s": {1, 2}}, 1_000)
    assert cut.value == {"x": "<Hostile>", "3": "<10 bytes>", "s": "<set>"}


def test_a_budget_too_small_for_anything_gives_none() -> None:
    assert truncate(list(range(1000)), 3).value is None
    summary = truncate(list(range(1000)), 40)
    assert isinstance(summary.value, str | list) and summary.size <= 40


@pytest.mark.parametrize("cap", [0, 1_000, 1_000_000, 10**9])
def test_the_ceiling_is_a_bounded_multiple_of_the_cap(cap: int) -> None:
    ceiling = result_ceiling(cap)
    assert cap <= ceiling <= max(cap, 48 * 1024 * 1024) and ceiling >= min(16 * cap, 16 * 1024 * 1024)
