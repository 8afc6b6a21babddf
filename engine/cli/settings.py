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
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..client import MCPClient
from ..config import load_config, parse_config
from ..errors import ConfigError
from ..executors.registry import EXECUTORS
from ..limits import Limits

__all__ = ["CONFIG_ENV", "Settings", "add_settings_arguments", "load_settings"]

CONFIG_ENV = "CODEMODE_CONFIG"
"""Environment variable naming the config file when `--config` is not given."""

_CODE_MODE_KEYS = {"executor", "executorOptions", "executor_options", "limits"}

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

    def client(self) -> MCPClient:
        """A code-mode client for these settings (no server is started yet)."""
        return MCPClient(
            {"mcpServers": self.servers},
            allowed_servers=self.allowed_servers,
            code_mode=True,
            executor=self.executor,
            executor_options=self.executor_options,
            limits=self.limits,
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
    group.add_argument("--executor", choices=sorted(EXECUTORS), help="where programs run (default: restricted)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit per program (default 30)")
    group.add_argument("--cpu-time", type=float, metavar="SECONDS", help="CPU limit per program (default: timeout)")
    group.add_argument("--max-tool-calls", type=int, metavar="N", help="tool calls per program (default 100)")
    group.add_argument("--max-concurrent-tool-calls", type=int, metavar="N", help="tool calls in flight (default 8)")
    group.add_argument("--max-output-chars", type=int, metavar="N", help="print output kept (default 50000)")
    group.add_argument("--max-result-bytes", type=int, metavar="N", help="encoded result size (default 1000000)")
    group.add_argument("--max-memory-mb", type=int, metavar="MB", help="memory a program may add (default 512)")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def load_settings(args: argparse.Namespace) -> Settings:
    """Read and validate the config file and merge the flags over its `codeMode` key.

    Raises:
        ConfigError: no config file was named, it cannot be read, or an entry or option is invalid.
    """
    path = args.config or os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(f"no configuration: pass --config servers.json (or set ${CONFIG_ENV})")
    document = load_config(path)
    parse_config(document)  # every server entry is checked now, all at once
    servers = document.get("mcpServers", {})
    if not isinstance(servers, dict):  # pragma: no cover - parse_config already refused it
        raise ConfigError("config: 'mcpServers' must be an object")
    allowed: list[str] | None = getattr(args, "servers", None)
    if allowed:
        unknown = sorted(set(allowed) - set(servers))
        if unknown:
            names = ", ".join(map(repr, unknown))
            raise ConfigError(f"--server: no server named {names}; configured: {sorted(servers)}")

    code_mode = document.get("codeMode", {})
    if not isinstance(code_mode, dict):
        raise ConfigError("config: 'codeMode' must be an object with 'executor' and/or 'limits'")
    extra = sorted(set(code_mode) - _CODE_MODE_KEYS)
    if extra:
        raise ConfigError(f"config: unknown key(s) in 'codeMode': {', '.join(extra)}; known: {sorted(_CODE_MODE_KEYS)}")
    executor = getattr(args, "executor", None) or code_mode.get("executor", "restricted")
    if executor not in EXECUTORS:
        known = sorted(EXECUTORS)
        raise ConfigError(f"config: codeMode.executor: unknown executor {executor!r}; choose one of {known}")
    options = code_mode.get("executorOptions", code_mode.get("executor_options", {}))
    if not isinstance(options, dict):
        raise ConfigError("config: codeMode.executorOptions must be an object")

    raw_limits = code_mode.get("limits", {})
    if not isinstance(raw_limits, dict):
        raise ConfigError("config: codeMode.limits must be an object")
    merged: dict[str, Any] = {_snake(key): value for key, value in raw_limits.items()}
    for flag, name in _LIMIT_FLAGS.items():
        value = getattr(args, flag, None)
        if value is not None:
            merged[name] = value
    memory_mb = getattr(args, "max_memory_mb", None)
    if memory_mb is not None:
        merged["max_memory_bytes"] = memory_mb * 1024 * 1024
    try:
        limits = Limits.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'limits'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"limits: {problems}") from None
    return Settings(
        config_path=str(path),
        servers=dict(servers),
        executor=str(executor),
        executor_options=dict(options),
        limits=limits,
        allowed_servers=list(allowed) if allowed else None,
    )
