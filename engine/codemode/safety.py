"""Code mode's side of context-safe results: truncation, handles and tokens around each execution.

`ResultSafety` plugs into an execution at three points, and owns none of the mechanisms
(`engine.results`, `engine.privacy`):

- before: the executor's result limit is raised to `result_ceiling(max_result_bytes)`, so an
  oversized result reaches the host instead of being refused; the execution's `Hooks` get the
  `open_result` engine function (`results.open` in the program) and, with tokenization, a
  `rewrite` that puts this session's tokens back to real values just before a tool is called;
- during: printed lines are tokenized before they are relayed;
- after: a result over `max_result_bytes` is truncated structurally to it and kept whole as a
  handle; the envelope says what was cut and how to get more (`truncation`, `handles`); with
  tokenization, everything in it that can hold data (result, logs, errors, pending calls,
  handles) is tokenized. The program itself always sees real values.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from contextvars import ContextVar
from typing import Any

import anyio

from ..bridge.hooks import Hooks
from ..envelope import Envelope
from ..errors import ToolError
from ..kernel.stubs import OPEN_RESULT, open_arguments
from ..limits import Limits
from ..privacy import Detector, RestoreLimitError, TokenError, Vault, parse_detectors
from ..results import HandleRegistry, msgpack_size, result_ceiling, truncate
from ..results.output import cut_lines, output_ceiling
from ..store import Store

__all__ = ["TOOL_HANDLE_BYTES", "ResultSafety"]

TOOL_HANDLE_BYTES = 256 * 1024
"""A tool result at least this large (msgpack bytes) is also kept as a handle, listed in the
envelope, so a later program can reopen it without calling the tool again."""
_TOOL_HANDLES = 8
"""Tool results kept as handles per execution, at most."""

_KEPT: ContextVar[list[tuple[str, Any]] | None] = ContextVar("engine_kept_tool_results", default=None)
# The large tool results of the execution running in this context: set when its hooks are made
# (in the task that runs it; its tool calls run in copies of that context), read by `finish`.
_OPENED: ContextVar[set[str] | None] = ContextVar("engine_opened_handle_servers", default=None)
# The servers of every handle the execution running in this context opened (set with `_KEPT`): a
# result made from a reopened value came from them, so its own handle must require them too.
_RELAY: ContextVar[_Lines | None] = ContextVar("engine_tokenized_relay", default=None)

_LINE_BUFFER = 65_536
"""Characters of printed text held while waiting for a newline; past it the text is relayed as is."""

_MAX_VAULTS = 10_000
_PLAIN_KEYS = ("status", "execution_time", "usage", "tool_calls", "execution_id", "truncated")
# Envelope keys that never hold program or server data: not tokenized.


class ResultSafety:
    """Truncation, handles and tokens for one `CodeMode`; see the module docstring.

    Args:
        tokenize: True (every built-in detector), False/None, or a list of detector names and
            `{"name", "pattern"}` entries (`engine.privacy.parse_detectors`).
        store: where handles live when it is durable (SQLite, Redis); else in memory here.
    """

    def __init__(self, tokenize: Any = None, store: Store | None = None, *, handle_ttl: float | None = None) -> None:
        self.detectors: tuple[Detector, ...] = parse_detectors(tokenize)
        self.handles = HandleRegistry(store) if handle_ttl is None else HandleRegistry(store, ttl=handle_ttl)
        self._vaults: OrderedDict[str | None, Vault] = OrderedDict()
        self._run_limits: tuple[Limits, Limits] | None = None
        """The last limits `run_limits` was given, and its answer."""
        # A paused execution's id -> its session and the large tool results it has made so far.
        self._paused: OrderedDict[
            str, tuple[str | None, list[tuple[str, Any]] | None, set[str] | None]
        ] = OrderedDict()

    @property
    def tokenizing(self) -> bool:
        return bool(self.detectors)

    def vault(self, scope: str | None) -> Vault:
        """The vault of a code session (None: the executions without one), made on first use."""
        vault = self._vaults.get(scope)
        if vault is None:
            vault = self._vaults[scope] = Vault(self.detectors)
            if len(self._vaults) > _MAX_VAULTS:
                self._vaults.popitem(last=False)  # its tokens stop resolving: refused, never misread
        else:
            self._vaults.move_to_end(scope)
        return vault

    # -- before and during --------------------------------------------------------------------

    def run_limits(self, limits: Limits) -> Limits:
        """The limits the executor gets: the result and output limits raised to their ceilings."""
        # Printed output too: output over the cap reaches us, to be cut to it and kept as a handle.
        last = self._run_limits
        if last is not None and last[0] is limits:  # frozen: the same object, the same answer
            return last[1]
        update = {"max_result_bytes": result_ceiling(limits.max_result_bytes),
                  "max_output_chars": output_ceiling(limits.max_output_chars)}
        raised = limits
        if not all(getattr(limits, key) == value for key, value in update.items()):
            raised = limits.model_copy(update=update)
        self._run_limits = (limits, raised)
        return raised

    def hooks(self, scope: str | None, allowed: Collection[str] | None, limits: Limits,
              base: Hooks | None = None) -> Hooks:
        """`base` (another layer's hooks) plus `open_result` and, when tokenizing, the `rewrite`."""
        handles = self.handles
        most = limits.max_tool_result_bytes
        opened: set[str] = set()
        _OPENED.set(opened)

        async def open_result(arguments: dict[str, Any]) -> Any:
            checked = open_arguments(arguments.get("handle"), arguments.get("path"), arguments.get("start"),
                                     arguments.get("stop"))
            try:
                value, servers = await handles.open_with_servers(
                    checked["handle"], scope=scope, allowed=allowed, path=checked["path"], start=checked["start"],
                    stop=checked["stop"],
                )
            except PermissionError as exc:
                # The dispatcher passes only TypeError/ValueError/LookupError to the program as they are.
                raise ValueError(f"results.open(): {exc}") from None
            opened.update(servers)
            size = msgpack_size(value) or 0
            if size > most:
                raise ValueError(
                    f"results.open(): that part is {size} bytes, over max_tool_result_bytes ({most}); "
                    "open a smaller part (path=[...], start=..., stop=...)"
                )
            return value

        kept: list[tuple[str, Any]] = []
        _KEPT.set(kept)
        then = (base or Hooks()).observe

        def observe(server: str, tool: str, value: Any) -> None:
            if then is not None:
                then(server, tool, value)
            if len(kept) < _TOOL_HANDLES and isinstance(value, dict | list | str):
                size = msgpack_size(value)
                if size is not None and size >= TOOL_HANDLE_BYTES:
                    kept.append((f"{server}.{tool}", value))

        base = base or Hooks()
        functions = {**base.functions, OPEN_RESULT: open_result}
        rewrite = base.rewrite
        if self.tokenizing:
            rewrite = self._restorer(self.vault(scope), rewrite)
        return Hooks(observe=observe, rewrite=rewrite, functions=functions)  # every field (a `replace` costs more)

    @staticmethod
    def _restorer(
        vault: Vault, then: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None
    ) -> Callable[[str, str, dict[str, Any]], dict[str, Any]]:
        def restore(server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            try:
                arguments = vault.restore(arguments)
            except (TokenError, RestoreLimitError) as exc:
                raise ToolError(server, tool, str(exc)) from None
            return then(server, tool, arguments) if then is not None else arguments

        return restore

    def relay(self, on_log: Callable[[str, str], None] | None, scope: str | None) -> Callable[[str, str], None] | None:
        """`on_log` that is handed tokenized text a line at a time (a value printed in two pieces is
        still found); what is left of a last line is relayed by `finish`."""
        if on_log is None or not self.tokenizing:
            return on_log
        lines = _Lines(on_log, self.vault(scope))
        _RELAY.set(lines)
        return lines

    # -- after --------------------------------------------------------------------------------

    def scope_of(self, execution_id: str) -> str | None:
        """The session of a paused execution that passed through `finish` here (None if unknown);
        its large tool results so far become the current ones, for `finish` of its resumed envelope."""
        scope, kept, opened = self._paused.get(execution_id, (None, None, None))
        _KEPT.set(kept)
        _OPENED.set(opened)
        return scope

    async def finish(self, envelope: Envelope, scope: str | None, limits: Limits) -> Envelope:
        """The envelope as it leaves the engine: cut to `limits.max_result_bytes`, kept as a handle,
        tokenized; its `usage.limits` shows the real cap."""
        lines = _RELAY.get()
        if lines is not None:
            _RELAY.set(None)
            lines.flush()
        cap = limits.max_result_bytes
        usage_limits = envelope["usage"]["limits"]
        if isinstance(usage_limits, dict) and "max_result_bytes" in usage_limits:
            usage_limits["max_result_bytes"] = cap
        if isinstance(usage_limits, dict) and "max_output_chars" in usage_limits:
            usage_limits["max_output_chars"] = limits.max_output_chars
        if envelope.get("status") == "paused" and "execution_id" in envelope:
            self._paused[envelope["execution_id"]] = (scope, _KEPT.get(), _OPENED.get())
            if len(self._paused) > _MAX_VAULTS:
                self._paused.popitem(last=False)
        if envelope["status"] == "ok" and envelope["result"] is not None:
            # Measured here: a guest's own `result_bytes` is not to be trusted (a forged `done` frame).
            size = msgpack_size(envelope["result"])
            if size is not None and size != envelope["usage"]["result_bytes"]:
                envelope["usage"]["result_bytes"] = size
            if size is None or size > cap:
                await self._cut(envelope, scope, cap)
        await self._cut_output(envelope, scope, limits.max_output_chars)
        if envelope["status"] != "paused":
            _OPENED.set(None)  # this execution's: never counted for a later one in this context
        kept = _KEPT.get()
        if kept and envelope["status"] != "paused":
            _KEPT.set(None)
            for source, value in kept:
                server = source.split(".", 1)[0]
                entry = await self.handles.keep(value, scope=scope, servers=[server], source=source)
                envelope.setdefault("handles", []).append(entry)
        if self.tokenizing:
            # Scanning a result of up to the cap is CPU work: off the event loop.
            await anyio.to_thread.run_sync(_redact, envelope, self.vault(scope))
        return envelope

    @staticmethod
    def _servers(envelope: Envelope) -> list[str]:
        # The namespaces the program's data may have come from: an opener elsewhere must be allowed them all.
        # A value reopened through results.open keeps the servers of its handle.
        return sorted({call["tool"].split(".", 1)[0] for call in envelope["tool_calls"]} | (_OPENED.get() or set()))

    async def _cut_output(self, envelope: Envelope, scope: str | None, cap: int) -> None:
        """`logs` over `cap` characters cut to their first and last lines, every line kept as a handle."""
        lines = envelope["logs"]
        cut = cut_lines(lines, cap)
        if cut is None:
            return
        entry = await self.handles.keep(lines, scope=scope, servers=self._servers(envelope), source="output")
        handle = entry.get("id")
        hidden = f"{cut.cut_lines} of {cut.lines} lines ({cut.chars - cut.kept_chars} of {cut.chars} characters)"
        first = len(cut.head) - (1 if cut.partial else 0)
        if handle is None:
            how = f"The whole output was not kept ({entry.get('reason')}): print less (a summary, a sample)."
        else:
            how = (
                f"Every line is kept as handle {handle!r} for {entry['expires_in']:g} s: in a next execute_code "
                f"(same session) `await results.open({handle!r}, start={first}, stop={first + 100})` returns "
                f"lines {first} to {first + 99}; work on them there and print or return only what you need."
            )
        envelope["logs"] = [*cut.head, f"... [output cut: {hidden} not shown. {how}]", *cut.tail]
        envelope["truncated"] = True
        envelope.setdefault("truncation", {})["output"] = {
            "lines": cut.lines,
            "chars": cut.chars,
            "kept_chars": cut.kept_chars,
            "limit": cap,
            "cut_lines": cut.cut_lines,
            "first_cut_line": first,
            "tail_start": cut.tail_start,
            "handle": handle,
            "how_to_get_more": how,
        }
        envelope.setdefault("handles", []).append(entry)

    async def _cut(self, envelope: Envelope, scope: str | None, cap: int) -> None:
        full = envelope["result"]
        cut = await anyio.to_thread.run_sync(truncate, full, cap)  # up to a dozen passes: off the event loop
        servers = self._servers(envelope)
        entry = await self.handles.keep(full, scope=scope, servers=servers, source="result")
        envelope["result"] = cut.value
        handle = entry.get("id")
        first = next((c for c in cut.cuts if c["kind"] in ("list", "mapping", "string")), None)
        if handle is None:
            how = f"The full result was not kept ({entry.get('reason')}): return less (filter, aggregate, page)."
        elif first is not None:
            how = (
                f"The full result is kept as handle {handle!r} for {entry['expires_in']:g} s. In a next "
                f"execute_code (same session), `await results.open({handle!r}, path={first['keys']!r}, "
                f"start={first['kept']}, stop={first['kept'] + 100})` returns the next part; work on it "
                "there and return only what you need."
            )
        else:
            how = (
                f"The full result is kept as handle {handle!r}: `await results.open({handle!r})` in a next "
                "execute_code (same session) returns it; work on it there and return only what you need."
            )
        envelope["truncation"] = {
            "result_bytes": cut.original_size if cut.original_size is not None else envelope["usage"]["result_bytes"],
            "kept_bytes": cut.size,
            "limit": cap,
            "cuts": cut.cuts,
            "more_cuts": cut.more_cuts,
            "handle": handle,
            "how_to_get_more": how,
        }
        envelope["handles"] = [entry]


def _redact(envelope: Envelope, vault: Vault) -> None:
    for key in list(envelope):
        if key not in _PLAIN_KEYS:
            envelope[key] = vault.redact(envelope[key])  # type: ignore[literal-required]


class _Lines:
    """Relays printed text tokenized, a line at a time; safe from any thread."""

    def __init__(self, on_log: Callable[[str, str], None], vault: Vault) -> None:
        self._on_log = on_log
        self._vault = vault
        self._partial: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, text: str, stream: str) -> None:
        with self._lock:
            buffered = self._partial.get(stream, "") + text
            head, newline, rest = buffered.rpartition("\n")
            if not newline:
                if len(buffered) < _LINE_BUFFER:
                    self._partial[stream] = buffered
                    return
                head, rest = buffered, ""
            else:
                head += newline
            self._partial[stream] = rest
            self._on_log(self._vault.redact_text(head), stream)

    def flush(self) -> None:
        with self._lock:
            left, self._partial = self._partial, {}
            for stream, rest in left.items():
                if rest:
                    self._on_log(self._vault.redact_text(rest), stream)
