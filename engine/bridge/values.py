"""Turns an MCP `CallToolResult` into the plain value a program's `await ns.tool()` returns.

The rules, in order: `structuredContent` when present (without the Python SDK's `{"result": v}`
wrapper of non-object returns, when the unstructured content shows that bare `v`); otherwise no
content is `None`, one content item is that item converted, several items are a list of converted
items. A text item is its parsed JSON when the text is JSON, else the string. Images and audio become
`{"type", "mime_type", "data"}` with base64 `data`; embedded resources and resource links become dicts.
Everything returned is plain data (dict, list, str, int, float, bool, None).
"""

from __future__ import annotations

import json
from typing import Any

import mcp.types as types

__all__ = ["content_to_value", "error_text", "tool_result_to_value"]


def _refuse_constant(name: str) -> Any:
    # `NaN`/`Infinity` are not JSON; such a text stays a string.
    raise ValueError(name)


def _text_value(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return text
    try:
        return json.loads(stripped, parse_constant=_refuse_constant)
    except ValueError:
        return text


def _resource_contents(resource: types.TextResourceContents | types.BlobResourceContents) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "resource", "uri": resource.uri, "mime_type": resource.mime_type}
    if isinstance(resource, types.TextResourceContents):
        value["text"] = resource.text
    else:
        value["blob"] = resource.blob
    return value


def content_to_value(item: types.ContentBlock) -> Any:
    """Convert one content block to plain data."""
    if isinstance(item, types.TextContent):
        return _text_value(item.text)
    if isinstance(item, types.ImageContent | types.AudioContent):
        return {"type": item.type, "mime_type": item.mime_type, "data": item.data}
    if isinstance(item, types.EmbeddedResource):
        return _resource_contents(item.resource)
    if isinstance(item, types.ResourceLink):
        link: dict[str, Any] = {"type": "resource_link", "uri": item.uri, "name": item.name}
        for key in ("title", "description", "mime_type", "size"):
            field = getattr(item, key)
            if field is not None:
                link[key] = field
        return link
    # A content kind newer than this module: keep its JSON form rather than fail the call.
    dumped: Any = item.model_dump(mode="json", by_alias=True, exclude_none=True)  # type: ignore[unreachable]
    return dumped


_MISSING = object()


def _sdk_wrapped(result: types.CallToolResult) -> Any:
    """The bare value of an SDK-wrapped result, or `_MISSING`.

    Python SDK servers (`MCPServer`, FastMCP) return a non-object value `v` as structured content
    `{"result": v}` next to unstructured content that serialises `v` itself. Only when the content
    shows exactly that bare value is the wrapper dropped; a tool that really returns `{"result": ...}`
    serialises the whole object into its content and keeps it.
    """
    structured = result.structured_content
    if type(structured) is not dict or len(structured) != 1 or "result" not in structured:
        return _MISSING
    value = structured["result"]
    content = result.content
    if isinstance(value, str):
        only = content[0] if len(content) == 1 else None
        return value if isinstance(only, types.TextContent) and only.text == value else _MISSING
    if isinstance(value, list):
        return value if [content_to_value(item) for item in content] == value else _MISSING
    if not content:
        return value if value is None else _MISSING
    if len(content) == 1 and content_to_value(content[0]) == value:
        return value
    return _MISSING


def tool_result_to_value(result: types.CallToolResult) -> Any:
    """The value a successful tool call returns to the program."""
    if result.structured_content is not None:
        bare = _sdk_wrapped(result)
        return result.structured_content if bare is _MISSING else bare
    content = result.content
    if not content:
        return None
    if len(content) == 1:
        return content_to_value(content[0])
    return [content_to_value(item) for item in content]


def error_text(result: types.CallToolResult) -> str:
    """The message of a failed (`isError`) result: its text items, or a summary of what it held."""
    texts = [item.text for item in result.content if isinstance(item, types.TextContent)]
    if texts:
        return "\n".join(texts)
    if result.structured_content is not None:
        return json.dumps(result.structured_content, default=str)[:2000]
    if result.content:
        return "the tool failed and returned " + ", ".join(item.type for item in result.content)
    return "the tool failed without a message"
