"""Configuration: the `{"mcpServers": {name: {...}}}` format of mcp_use and desktop MCP clients.

Parses a file or dict once, at the edge, into typed pydantic models. Every string is expanded
for `${VAR}` (or `${VAR:-default}`) from the environment. A bad file or entry raises one
`ConfigError` that names the server and the field; nothing is started from a half-valid config.

```json
{"mcpServers": {
  "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/data"]},
  "github": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${GITHUB_TOKEN}"}},
  "legacy": {"url": "http://127.0.0.1:8000/sse", "transport": "sse"}
}}
```

In a dict given in code, an entry may instead be a server object: an `MCPServer`, a low-level
`mcp.server.lowlevel.Server`, or a connector. It becomes an `InProcessServerConfig` holding the
object as given, and is never written to a file.

This layer knows nothing of sessions or code.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError
from .limits import Limits

__all__ = [
    "CodeModeConfig",
    "HttpServerConfig",
    "InProcessServerConfig",
    "ServerConfig",
    "StdioServerConfig",
    "expand_env",
    "load_config",
    "parse_config",
    "parse_server",
]

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Transport = Literal["auto", "streamable_http", "sse"]
_TRANSPORT_ALIASES = {
    "auto": "auto",
    "http": "streamable_http",
    "streamable_http": "streamable_http",
    "streamable-http": "streamable_http",
    "streamablehttp": "streamable_http",
    "sse": "sse",
}


class _ServerBase(BaseModel):
    # Unknown keys are ignored: desktop clients add their own (`autoApprove`, `alwaysAllow`...).
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    connect_timeout: float = Field(default=30.0, gt=0, validation_alias=AliasChoices("connect_timeout", "timeout"))
    """Seconds to start the server and complete the MCP handshake."""
    request_timeout: float | None = Field(default=60.0, gt=0)
    """Default seconds one request may take before it fails; None waits forever."""
    disabled: bool = False
    """A disabled server is kept in the config but never started."""


class StdioServerConfig(_ServerBase):
    """A server started as a subprocess and spoken to over its stdin/stdout."""

    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] | None = None
    """Extra environment variables, added to a minimal safe environment (not the host's whole one)."""
    cwd: str | None = None


class HttpServerConfig(_ServerBase):
    """A remote server reached over streamable HTTP or SSE."""

    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    transport: Transport = Field(default="auto", validation_alias=AliasChoices("transport", "type"))
    """`streamable_http`, `sse`, or `auto` (streamable HTTP first, then SSE)."""
    sse_read_timeout: float = Field(default=300.0, gt=0)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("transport", mode="before")
    @classmethod
    def _normalise_transport(cls, value: object) -> object:
        if isinstance(value, str):
            return _TRANSPORT_ALIASES.get(value.strip().lower(), value)
        return value


class InProcessServerConfig(_ServerBase):
    """A server object given in place of an entry: an `MCPServer`, a low-level `Server`, or a connector.

    An `MCPServer` or `Server` runs in this process, reached without I/O, with the timeouts of a
    dict entry's defaults. A connector (anything with `name`, `connect_timeout`,
    `request_timeout`, `transports()` and `diagnostics()`, see `engine.Connector`) is used as it
    is, its own timeouts included; its `name` must be the entry's name.
    """

    server: Any
    """The object as given (not copied: the client connects to this very server)."""

    @property
    def is_connector(self) -> bool:
        """Whether `server` is a connector (else an `MCPServer` or low-level `Server`)."""
        return not isinstance(self.server, MCPServer | Server)


ServerConfig = Annotated[StdioServerConfig | HttpServerConfig | InProcessServerConfig, "one server entry"]

_CONNECTOR_PARTS = ("name", "connect_timeout", "request_timeout", "transports", "diagnostics")


def expand_env(value: Any, *, where: str, environ: Mapping[str, str] | None = None) -> Any:
    """Expand `${VAR}` and `${VAR:-default}` in every string inside `value`.

    Raises:
        ConfigError: a variable is not set and has no default; the message names `where`.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{where}: environment variable {name!r} is not set")

        return _ENV_PATTERN.sub(substitute, value)
    if isinstance(value, list):
        return [expand_env(item, where=where, environ=env) for item in value]
    if isinstance(value, dict):
        return {key: expand_env(item, where=f"{where}.{key}", environ=env) for key, item in value.items()}
    return value


def parse_server(name: str, entry: object, *, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """Validate one server entry. `command` makes it stdio, `url` makes it HTTP/SSE.

    A server object (an `MCPServer`, a low-level `Server`, or a connector) becomes an
    `InProcessServerConfig` holding it.
    """
    where = f"server {name!r}"
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("server names must be non-empty strings")
    if not isinstance(entry, dict):
        return _server_object(where, name, entry)
    if "command" in entry and "url" in entry:
        raise ConfigError(f"{where}: give either 'command' (stdio) or 'url' (HTTP/SSE), not both")
    model: type[StdioServerConfig] | type[HttpServerConfig]
    if "command" in entry:
        model = StdioServerConfig
    elif "url" in entry:
        model = HttpServerConfig
    else:
        raise ConfigError(f"{where}: needs 'command' (stdio) or 'url' (HTTP/SSE)")
    expanded = expand_env(entry, where=where, environ=environ)
    try:
        return model.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError(_describe(where, exc)) from None


def parse_config(data: object, *, environ: Mapping[str, str] | None = None) -> dict[str, ServerConfig]:
    """Validate a whole `{"mcpServers": {...}}` document; all entries or none."""
    if not isinstance(data, dict):
        raise ConfigError(f"config: expected an object with 'mcpServers', got {type(data).__name__}")
    servers = data.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise ConfigError("config: 'mcpServers' must be an object mapping names to server entries")
    return {name: parse_server(name, entry, environ=environ) for name, entry in servers.items()}


def _server_object(where: str, name: str, entry: object) -> InProcessServerConfig:
    """An entry that is an object: a server to run in-process, or a connector to use as given."""
    if isinstance(entry, MCPServer | Server):
        return InProcessServerConfig(server=entry)
    if isinstance(entry, type) or not hasattr(entry, "transports"):
        kind = f"the class {entry.__name__}" if isinstance(entry, type) else type(entry).__name__
        raise ConfigError(
            f"{where}: expected an object with 'command' or 'url', an MCPServer, a low-level mcp Server "
            f"or a connector, got {kind}"
        )
    missing = [part for part in _CONNECTOR_PARTS if not hasattr(entry, part)]
    missing += [m for m in ("transports", "diagnostics") if m not in missing and not callable(getattr(entry, m))]
    if missing:
        kind = type(entry).__name__
        raise ConfigError(f"{where}: the connector {kind} lacks {', '.join(missing)} (see engine.Connector)")
    connector_name: object = getattr(entry, "name")  # noqa: B009 - `entry` is any object here
    if connector_name != name:
        # The session, its errors and middleware go by the connector's name: two names would disagree.
        raise ConfigError(f"{where}: the connector is named {connector_name!r}; give it the entry's name")
    return InProcessServerConfig(server=entry)


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON config file into a dict (not yet validated: see `parse_config`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {str(file)!r}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {str(file)!r}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(file)!r}: expected a JSON object")
    return data


def _describe(where: str, exc: ValidationError) -> str:
    """One readable line per field problem, each naming the server and the field."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(entry)"
        problems.append(f"{where}: field {field!r}: {error['msg']}")
    return "; ".join(problems)


# -- the "codeMode" key -------------------------------------------------------------------------


_CODE_MODE_KEYS = (
    "executor", "executorOptions", "limits", "toolPolicy", "store", "approvalTimeout", "learnShapes", "check",
    "tokenize",
)


class CodeModeConfig(BaseModel):
    """The optional `codeMode` key of a config document: where programs run, and their limits.

    ```json
    {"mcpServers": {"inventory": {"command": "python", "args": ["-m", "engine.demo.servers.inventory"]}},
     "codeMode": {"executor": "process", "executorOptions": {"workers": 2},
                  "limits": {"timeout": 10, "maxToolCalls": 50},
                  "toolPolicy": {"inventory.delete_*": "ask"}, "store": "sqlite:///approvals.db"}}
    ```

    Keys are accepted in camelCase (the file format's style) or snake_case, here and inside
    `limits`. An unknown key is refused rather than ignored: a misspelt limit would otherwise
    silently leave the default in force. `MCPClient` takes these as the defaults of its
    `executor`, `executor_options` and `limits` arguments; `codemode` flags win over them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    executor: str = Field(default="restricted", min_length=1)
    """Where programs run: `restricted`, `process` or `e2b` (checked by the client, which knows the executors)."""
    executor_options: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("executorOptions", "executor_options")
    )
    """Keyword arguments of the executor (`docs/executors.md`); they apply to `executor` only."""
    limits: Limits = Field(default_factory=Limits)
    """The limits of every program, unless a call passes its own `timeout`."""
    tool_policy: dict[str, Any] | None = Field(default=None, validation_alias=AliasChoices("toolPolicy", "tool_policy"))
    """Per-tool actions, `{"server.tool pattern": "allow" | "ask" | "deny"}` (plus
    `"annotations": true` for defaults from the tools' annotations); see docs/approvals.md."""
    store: str | None = None
    """Where paused executions and learned shapes are kept: `memory://` (default), `sqlite:///path.db`,
    `redis://host:port/0`."""
    approval_timeout: float = Field(
        default=900.0, gt=0, validation_alias=AliasChoices("approvalTimeout", "approval_timeout")
    )
    """Seconds a paused execution waits for a decision before it is ended."""
    learn_shapes: bool = Field(default=True, validation_alias=AliasChoices("learnShapes", "learn_shapes"))
    """Learn the output shapes of tools without an `outputSchema` (docs/typed-results.md)."""
    check: Literal["types", "off"] = "off"
    """The pre-run type check of every program: `types` or `off` (docs/typed-results.md)."""
    tokenize: bool | list[str | dict[str, str]] = False
    """Personal data and secrets replaced by tokens in what leaves the engine: true (every built-in
    detector) or a list of detector names and `{"name", "pattern"}` entries (docs/results.md)."""

    @field_validator("tokenize")
    @classmethod
    def _detectors(cls, value: bool | list[str | dict[str, str]]) -> bool | list[str | dict[str, str]]:
        from .privacy import parse_detectors  # checked here, so a bad pattern is a config error

        parse_detectors(value)
        return value

    @classmethod
    def from_document(cls, data: object, *, environ: Mapping[str, str] | None = None) -> CodeModeConfig:
        """Validate the `codeMode` key of a whole config document (the defaults when it has none).

        Strings are expanded for `${VAR}` as in server entries (an E2B key in `executorOptions`).

        Raises:
            ConfigError: the key is not an object, has an unknown key, or a value is invalid; the
                message names each field (`config: codeMode.limits: timeout: ...`).
        """
        if not isinstance(data, dict):
            raise ConfigError(f"config: expected an object with 'mcpServers', got {type(data).__name__}")
        section = data.get("codeMode")
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise ConfigError(f"config: 'codeMode' must be an object with keys {', '.join(_CODE_MODE_KEYS)}")
        unknown = sorted(str(key) for key in section if key not in {*_CODE_MODE_KEYS, *cls.model_fields})
        if unknown:
            raise ConfigError(
                f"config: unknown key(s) in 'codeMode': {', '.join(unknown)}; known: {', '.join(_CODE_MODE_KEYS)}"
            )
        expanded = expand_env(section, where="codeMode", environ=environ)
        try:
            # Limits name each bad field themselves (and list the known ones for a typo).
            limits = Limits.parse(expanded.pop("limits", None))
        except ConfigError as exc:
            raise ConfigError(f"config: codeMode.{exc}") from None
        try:
            return cls.model_validate({**expanded, "limits": limits})
        except ValidationError as exc:
            problems = (f"config: codeMode.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError("; ".join(problems)) from None
