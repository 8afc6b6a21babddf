"""Converting real `mcp.types.CallToolResult`s into the plain values programs receive."""

from __future__ import annotations

import mcp.types as types
import pytest

from engine.bridge.values import error_text, tool_result_to_value


def result(*content: types.ContentBlock, structured: object = None, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), structured_content=structured, is_error=is_error)


def test_structured_content_wins_over_text() -> None:
    value = tool_result_to_value(result(types.TextContent(text='{"a": 1}'), structured={"a": 2}))
    assert value == {"a": 2}


def test_empty_content_is_none() -> None:
    assert tool_result_to_value(result()) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"rows": [1, 2]}', {"rows": [1, 2]}),
        ("[1, 2]", [1, 2]),
        ("42", 42),
        ("  true ", True),
        ("null", None),
        ("plain words", "plain words"),
        ("{not json", "{not json"),
        ("NaN", "NaN"),
        ("", ""),
    ],
)
def test_one_text_item_is_its_json_or_the_string(text: str, expected: object) -> None:
    assert tool_result_to_value(result(types.TextContent(text=text))) == expected


def test_several_items_are_a_list_of_converted_items() -> None:
    value = tool_result_to_value(result(types.TextContent(text="[1]"), types.TextContent(text="two")))
    assert value == [[1], "two"]


def test_image_and_audio_become_dicts_with_base64_data() -> None:
    image = types.ImageContent(data="aGk=", mime_type="image/png")
    audio = types.AudioContent(data="AAA=", mime_type="audio/wav")
    assert tool_result_to_value(result(image)) == {"type": "image", "mime_type": "image/png", "data": "aGk="}
    assert tool_result_to_value(result(audio)) == {"type": "audio", "mime_type": "audio/wav", "data": "AAA="}


def test_embedded_text_and_blob_resources_become_dicts() -> None:
    text = types.EmbeddedResource(
        resource=types.TextResourceContents(uri="file:///a.txt", mime_type="text/plain", text="hi")
    )
    blob = types.EmbeddedResource(resource=types.BlobResourceContents(uri="file:///b.bin", blob="AAE="))
    assert tool_result_to_value(result(text, blob)) == [
        {"type": "resource", "uri": "file:///a.txt", "mime_type": "text/plain", "text": "hi"},
        {"type": "resource", "uri": "file:///b.bin", "mime_type": None, "blob": "AAE="},
    ]


def test_resource_links_become_dicts_without_empty_fields() -> None:
    link = types.ResourceLink(name="readme", uri="file:///README.md", mime_type="text/markdown", size=12)
    assert tool_result_to_value(result(link)) == {
        "type": "resource_link",
        "uri": "file:///README.md",
        "name": "readme",
        "mime_type": "text/markdown",
        "size": 12,
    }


def test_error_text_joins_text_items_or_describes_the_content() -> None:
    assert error_text(result(types.TextContent(text="a"), types.TextContent(text="b"), is_error=True)) == "a\nb"
    image = types.ImageContent(data="aGk=", mime_type="image/png")
    assert "image" in error_text(result(image, is_error=True))
    assert error_text(result(is_error=True)) == "the tool failed without a message"
    assert error_text(result(structured={"code": 7}, is_error=True)) == '{"code": 7}'


def text(value: str) -> types.TextContent:
    return types.TextContent(text=value)


@pytest.mark.parametrize(
    ("content", "structured", "expected"),
    [
        ([text("via mcp")], {"result": "via mcp"}, "via mcp"),
        ([text("3")], {"result": 3}, 3),
        ([text("false")], {"result": False}, False),
        ([text("1"), text("2")], {"result": [1, 2]}, [1, 2]),
        ([], {"result": []}, []),
        ([], {"result": None}, None),
        ([text("42")], {"result": "42"}, "42"),
    ],
    ids=["str", "int", "bool", "list", "empty list", "none", "numeric-looking str"],
)
def test_the_sdk_result_wrapper_is_dropped_when_the_content_shows_the_bare_value(
    content: list[types.ContentBlock], structured: object, expected: object
) -> None:
    assert tool_result_to_value(result(*content, structured=structured)) == expected


@pytest.mark.parametrize(
    ("content", "structured"),
    [
        ([text('{"result": 5}')], {"result": 5}),
        ([text("other")], {"result": "value"}),
        ([], {"result": 5}),
        ([text("5")], {"result": 5, "more": 1}),
    ],
    ids=["object that has a result key", "content disagrees", "no content", "more keys"],
)
def test_a_real_result_key_is_kept(content: list[types.ContentBlock], structured: object) -> None:
    assert tool_result_to_value(result(*content, structured=structured)) == structured
