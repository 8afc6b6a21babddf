"""Configuration: the mcpServers format, ${VAR} expansion, and errors that name server and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import ConfigError, MCPClient
from engine.config import HttpServerConfig, StdioServerConfig, load_config, parse_config


def test_stdio_and_remote_entries_are_parsed_into_typed_models() -> None:
    servers = parse_config(
        {
            "mcpServers": {
                "files": {"command": "npx", "args": ["-y", "pkg"], "env": {"A": "1"}, "cwd": "."},
                "remote": {"url": "https://example.com/mcp", "headers": {"X": "y"}},
                "legacy": {"url": "http://127.0.0.1:1/sse", "type": "sse"},
                "pinned": {"url": "http://127.0.0.1:1/mcp", "transport": "streamable-http"},
            }
        }
    )
    files = servers["files"]
    assert isinstance(files, StdioServerConfig)
    assert (files.command, files.args, files.env, files.cwd) == ("npx", ["-y", "pkg"], {"A": "1"}, ".")
    remote = servers["remote"]
    assert isinstance(remote, HttpServerConfig) and remote.transport == "auto" and remote.headers == {"X": "y"}
    assert isinstance(servers["legacy"], HttpServerConfig) and servers["legacy"].transport == "sse"
    assert isinstance(servers["pinned"], HttpServerConfig) and servers["pinned"].transport == "streamable_http"


def test_env_variables_are_expanded_with_defaults() -> None:
    environ = {"TOKEN": "s3cret", "BIN": "/usr/bin/tool"}
    servers = parse_config(
        {
            "mcpServers": {
                "a": {"command": "${BIN}", "args": ["--port", "${PORT:-8080}"], "env": {"T": "${TOKEN}"}},
                "b": {"url": "https://x.test/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
            }
        },
        environ=environ,
    )
    a, b = servers["a"], servers["b"]
    assert isinstance(a, StdioServerConfig) and isinstance(b, HttpServerConfig)
    assert a.command == "/usr/bin/tool" and a.args == ["--port", "8080"] and a.env == {"T": "s3cret"}
    assert b.headers["Authorization"] == "Bearer s3cret"


def test_a_missing_variable_names_the_server_and_the_field() -> None:
    with pytest.raises(ConfigError, match=r"server 'gh'.*headers\.Authorization.*'GH_TOKEN' is not set"):
        parse_config({"mcpServers": {"gh": {"url": "https://x.test", "headers": {"Authorization": "${GH_TOKEN}"}}}},
                     environ={})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"args": ["x"]}, r"server 'bad': needs 'command' \(stdio\) or 'url'"),
        ({"command": "x", "url": "http://a"}, r"server 'bad': give either 'command'"),
        ({"command": ""}, r"server 'bad': field 'command'"),
        ({"command": "x", "args": "not-a-list"}, r"server 'bad': field 'args'"),
        ({"url": "ftp://x"}, r"server 'bad': field 'url': .*http://"),
        ({"url": "http://x", "transport": "carrier-pigeon"}, r"server 'bad': field 'transport'"),
        ({"command": "x", "timeout": -1}, r"server 'bad': field 'timeout'"),
        ("just a string", r"server 'bad': expected an object"),
    ],
)
def test_a_bad_entry_gives_one_clear_error(entry: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"mcpServers": {"good": {"command": "ok"}, "bad": entry}})


def test_a_bad_entry_means_no_client_at_all() -> None:
    with pytest.raises(ConfigError, match="server 'bad'"):
        MCPClient({"mcpServers": {"good": {"command": "ok"}, "bad": {"nothing": 1}}})


def test_config_files_invalid_json_and_missing_files_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"mcpServers": {', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"invalid JSON at line 1"):
        load_config(broken)
    with pytest.raises(ConfigError, match=r"config file .*missing\.json"):
        MCPClient(str(tmp_path / "missing.json"))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}}), encoding="utf-8")
    assert MCPClient(str(good)).get_server_names() == ["a"]
    assert MCPClient.from_config_file(str(good)).get_server_names() == ["a"]


def test_unknown_desktop_client_keys_are_ignored_but_mcp_servers_must_be_an_object() -> None:
    servers = parse_config({"mcpServers": {"a": {"command": "x", "autoApprove": ["t"], "alwaysAllow": []}}})
    assert isinstance(servers["a"], StdioServerConfig)
    with pytest.raises(ConfigError, match="'mcpServers' must be an object"):
        parse_config({"mcpServers": ["a"]})
