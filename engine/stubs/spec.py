"""Tool specs: the plain-data description of one tool that stubs and rendered source are built from.

A `ToolSpec` keeps the server's original names (they go on the wire) next to the sanitised Python
identifiers a program uses (`my-github` -> `my_github`, `list-issues` -> `list_issues`, `class` ->
`class_`). Two names that sanitise to the same identifier are an error naming both originals, never
a silent overwrite.
"""

from __future__ import annotations

import builtins
import keyword
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import mcp.types as types

__all__ = [
    "NameCollisionError",
    "ToolSpec",
    "namespace_identifier",
    "sanitize_identifier",
    "specs_for_server",
]

_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


class NameCollisionError(ValueError):
    """Two server or tool names map to the same Python identifier."""


def sanitize_identifier(name: str, *, fallback: str) -> str:
    """A valid, non-reserved Python identifier for `name`.

    NFKC-normalised (as Python normalises identifiers in source), every character that cannot be
    part of an identifier replaced by `_`, leading underscores dropped (the sandbox refuses `_` names),
    `fallback` prefixed when nothing is left or it starts with a digit, and a trailing `_` added to
    keywords and builtins (`list` -> `list_`).
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c if ("a" + c).isidentifier() else "_" for c in text).lstrip("_")
    if not text:
        return fallback
    if not text[0].isidentifier():
        text = f"{fallback}_{text}"
    # NFKC can change once more after replacement; keep going until it is a fixed point.
    text = unicodedata.normalize("NFKC", text)
    if not text.isidentifier():
        text = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in text).lstrip("_") or fallback
        if text[0].isdigit():
            text = f"{fallback}_{text}"
    if text in _RESERVED:
        text += "_"
    return text


def namespace_identifier(server: str) -> str:
    """The Python name a program uses for `server`'s namespace (`my-github` -> `my_github`)."""
    return sanitize_identifier(server, fallback="server")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool, as plain data: original names, the Python identifier, description and schemas."""

    server: str
    """The server's name as configured (sent on the wire)."""
    name: str
    """The tool's original name (sent on the wire)."""
    identifier: str
    """The sanitised Python identifier of the stub (`ns.<identifier>`); empty when two tool names
    map to the same identifier, so that the tool is reachable only as `ns["<name>"]`."""
    description: str = ""
    input_schema: Mapping[str, Any] | None = None
    output_schema: Mapping[str, Any] | None = None
    clashes: str = ""
    """When `identifier` is empty: the identifier this tool's name and another's both map to."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for shipping to a guest (msgpack-safe)."""
        return {
            "server": self.server,
            "name": self.name,
            "identifier": self.identifier,
            "description": self.description,
            "input_schema": dict(self.input_schema) if self.input_schema is not None else None,
            "output_schema": dict(self.output_schema) if self.output_schema is not None else None,
            "clashes": self.clashes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolSpec:
        """The inverse of `to_dict`."""
        return cls(
            server=str(data["server"]),
            name=str(data["name"]),
            identifier=str(data["identifier"]),
            description=str(data.get("description") or ""),
            input_schema=data.get("input_schema"),
            output_schema=data.get("output_schema"),
            clashes=str(data.get("clashes") or ""),
        )


def specs_for_server(
    server: str, tools: Sequence[types.Tool], *, on_collision: Literal["error", "original_only"] = "error"
) -> list[ToolSpec]:
    """Specs for every tool of one server, in the server's order.

    Args:
        on_collision: what to do when two tool names sanitise to the same identifier. `"error"`
            raises; `"original_only"` gives neither of them the identifier (an empty `identifier`),
            so `ns.<identifier>` is an error that names both, while each stays reachable by its
            original name, `ns["original-name"]`. Never a silent overwrite either way.

    Raises:
        NameCollisionError: two tool names sanitise to the same identifier (with `"error"`).
    """
    identifiers = [sanitize_identifier(tool.name, fallback="tool") for tool in tools]
    seen: dict[str, str] = {}
    clashing: set[str] = set()
    for tool, identifier in zip(tools, identifiers, strict=True):
        if identifier in seen:
            if on_collision == "error":
                raise NameCollisionError(
                    f"server {server!r}: tools {seen[identifier]!r} and {tool.name!r} both map to {identifier!r}"
                )
            clashing.add(identifier)
        seen.setdefault(identifier, tool.name)
    return [
        ToolSpec(
            server=server,
            name=tool.name,
            identifier="" if identifier in clashing else identifier,
            description=tool.description or "",
            input_schema=tool.input_schema,
            output_schema=tool.output_schema,
            clashes=identifier if identifier in clashing else "",
        )
        for tool, identifier in zip(tools, identifiers, strict=True)
    ]
