"""Fixtures for the catalog tests: the realistic 500-tool fixture catalog and the labelled queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp.types
import pytest

from engine.catalog import ToolCatalog

DATA = Path(__file__).parent / "data"
QUERIES = Path(__file__).parents[2] / "benchmarks" / "data" / "search_queries.json"


def tool(name: str, description: str = "", *params: str, output: dict[str, Any] | None = None) -> mcp.types.Tool:
    """A real `mcp.types.Tool` with string parameters named `params`."""
    schema: dict[str, Any] = {"type": "object", "properties": {p: {"type": "string"} for p in params}}
    return mcp.types.Tool(name=name, description=description, input_schema=schema, output_schema=output)


@pytest.fixture(scope="session")
def catalog_data() -> dict[str, list[dict[str, Any]]]:
    servers: dict[str, list[dict[str, Any]]] = json.loads((DATA / "catalog.json").read_text())["servers"]
    return servers


@pytest.fixture(scope="session")
def labelled_queries() -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = json.loads(QUERIES.read_text())["queries"]
    return queries


@pytest.fixture(scope="session")
def big_catalog(catalog_data: dict[str, list[dict[str, Any]]]) -> ToolCatalog:
    """The fixture catalog loaded through `set_tools`, one server at a time. Do not mutate it."""
    catalog = ToolCatalog()
    for server, tools in catalog_data.items():
        catalog.set_tools(server, [mcp.types.Tool.model_validate(t) for t in tools])
    return catalog
