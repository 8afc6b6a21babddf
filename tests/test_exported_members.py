"""The public API: everything in `engine.__all__` exists, and nothing public is missing from it."""

from __future__ import annotations

import engine


def test_all_names_exist_and_are_sorted_case_insensitively() -> None:
    for name in engine.__all__:
        assert hasattr(engine, name), name
    assert list(engine.__all__) == sorted(engine.__all__, key=lambda n: (n.lower(), n))


def test_public_classes_and_functions_are_exported() -> None:
    public = {
        name
        for name, value in vars(engine).items()
        if not name.startswith("_") and getattr(value, "__module__", "") == "engine"
    }
    assert public <= set(engine.__all__)
    assert {"MCPClient", "MCPSession", "Limits", "ToolError", "ToolCatalog", "CodeMode"} <= set(engine.__all__)
