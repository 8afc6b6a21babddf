"""Settings of the `codemode` command: the config file, its `codeMode` key, and command-line flags.

The config file is the usual `{"mcpServers": {...}}` document. An optional top-level `codeMode`
key chooses the executor and the limits; flags given on the command line win over it:

```json
{"mcpServers": {"inventory": {"command": "python", "args": ["-m", "engine.demo.servers.inventory"]}},
 "codeMode": {"executor": "restricted", "limits": {"timeout": 10, "maxToolCalls": 50}}}
```

Exposes `Settings` (what a command needs to build its `MCPClient`) and `add_settings_arguments`
(the shared flags). Everything is validated here, before any server starts.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any

from engine import CodeModeConfig, ConfigError, Limits, MCPClient, load_config

__all__ = ["CONFIG_ENV", "Settings", "add_settings_arguments", "load_settings"]

CONFIG_ENV = "CODEMODE_CONFIG"
"""Environment variable naming the config file when `--config` is not given."""

# Flag name -> Limits field. `--max-memory-mb` is converted to bytes.
_LIMIT_FLAGS = {
    "timeout": "timeout",
    "cpu_time": "cpu_time",
    "max_tool_calls": "max_tool_calls",
    "max_concurrent_tool_calls": "max_concurrent_tool_calls",
    "max_output_chars": "max_output_chars",
    "max_result_bytes": "max_result_bytes",
}


@dataclass
class Settings:
    """Everything needed to build the client of one `codemode` command."""

    config_path: str
    servers: dict[str, Any]
    """The `mcpServers` document, as given (validated, `${VAR}` not yet expanded)."""
    executor: str = "restricted"
    executor_options: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    allowed_servers: list[str] | None = None
    code_mode: dict[str, Any] = field(default_factory=dict)
    """The file's other `codeMode` keys (tool policy, store, learned shapes, type check), as written."""

    def client(self, *, check_default: str = "off") -> MCPClient:
        """A code-mode client for these settings (no server is started yet). `check_default`: the
        pre-run type check when the file's `codeMode` does not say (`codemode serve` turns it on)."""
        return MCPClient(
            {"mcpServers": self.servers, "codeMode": self.code_mode},
            allowed_servers=self.allowed_servers,
            code_mode=True,
            executor=self.executor,
            executor_options=self.executor_options,
            limits=self.limits,
            check=None if "check" in self.code_mode else check_default,
        )


def add_settings_arguments(parser: argparse.ArgumentParser, *, limits: bool = True) -> None:
    """The flags every command shares (`--config`, `--server`), and the executor/limit flags."""
    parser.add_argument(
        "-c", "--config", metavar="FILE", help=f'the servers file, {{"mcpServers": {{...}}}} (default: ${CONFIG_ENV})'
    )
    parser.add_argument(
        "-s", "--server", metavar="NAME", action="append", dest="servers",
        help="use only this server (repeatable); default: every enabled server",
    )
    if not limits:
        return
    group = parser.add_argument_group("code mode (override the config file's \"codeMode\" key)")
    group.add_argument("--executor", metavar="NAME",
                       help="where programs run: restricted, process or e2b (default: process for `serve`, "
                            "restricted otherwise; docs/executors.md)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit per program (default 30)")
    group.add_argument("--cpu-time", type=float, metavar="SECONDS", help="CPU limit per program (default: timeout)")
    group.add_argument("--max-tool-calls", type=int, metavar="N", help="tool calls per program (default 100)")
    group.add_argument("--max-concurrent-tool-calls", type=int, metavar="N", help="tool calls in flight (default 8)")
    group.add_argument("--max-output-chars", type=int, metavar="N", help="print output kept (default 50000)")
    group.add_argument("--max-result-bytes", type=int, metavar="N", help="encoded result size (default 1000000)")
    group.add_argument("--max-memory-mb", type=int, metavar="MB", help="memory a program may add (default 512)")


_FLAGGED = frozenset({"executor", "executorOptions", "executor_options", "limits"})
# The codeMode keys merged with the command's flags above; the others go to the client as written.


def load_settings(args: argparse.Namespace, *, default_executor: str | None = None) -> Settings:
    """Read and validate the config file and merge the flags over its `codeMode` key.
    `default_executor`: the executor when neither the flags nor the file name one (None: the
    file format's default, `restricted`; `codemode serve` passes `process`).

    Raises:
        ConfigError: no config file was named, it cannot be read, or an entry or option is invalid.
        CodeModeError: the executor is unknown.
    """
    path = args.config or os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(f"no configuration: pass --config servers.json (or set ${CONFIG_ENV})")
    document = load_config(path)
    code_mode = CodeModeConfig.from_document(document)
    servers = document.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise ConfigError("config: 'mcpServers' must be an object mapping names to server entries")
    allowed: list[str] | None = getattr(args, "servers", None)
    if allowed:
        unknown = sorted(set(allowed) - set(servers))
        if unknown:
            names = ", ".join(map(repr, unknown))
            raise ConfigError(f"--server: no server named {names}; configured: {sorted(servers)}")

    executor = getattr(args, "executor", None) or (
        code_mode.executor if default_executor is None or "executor" in code_mode.model_fields_set else default_executor
    )
    # The file's options are for the file's executor; another one given by flag starts from none.
    options = code_mode.executor_options if executor == code_mode.executor else {}
    flags: dict[str, Any] = {
        name: value for flag, name in _LIMIT_FLAGS.items() if (value := getattr(args, flag, None)) is not None
    }
    memory_mb = getattr(args, "max_memory_mb", None)
    if memory_mb is not None:
        flags["max_memory_bytes"] = memory_mb * 1024 * 1024
    limits = Limits.parse({**code_mode.limits.model_dump(), **flags}) if flags else code_mode.limits
    settings = Settings(
        config_path=str(path),
        servers=dict(servers),
        executor=executor,
        executor_options=dict(options),
        limits=limits,
        allowed_servers=list(allowed) if allowed else None,
        code_mode={key: value for key, value in (document.get("codeMode") or {}).items() if key not in _FLAGGED},
    )
    settings.client()  # every server entry and the executor are checked now, before any server starts
    return settings
