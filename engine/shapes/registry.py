"""`ShapeRegistry`: the learned output shape of each (server, tool), fed by the bridge, kept in a store.

`observe(server, tool, value)` is the bridge's `Hooks.observe`: it runs on the host loop for every
successful result, so it only queues the value (a deque append and, for the first of a batch, a
`call_soon`: 2-4 µs measured, docs/benchmarks.md) and the shape is worked out in a callback after
the reply has gone to the program. Shapes are merged
(`infer.merge`, order-independent) and written to the store in the background, one key per tool:

    shapes:<sha256 of [server, tool]>  ->  {"server", "tool", "results", "shape"} as JSON

`sync(tools)` writes what is pending and, at most every `refresh` seconds, reads the tools' shapes
back, so clients that share a store (SQLite file, Redis) see what the others learned and a restart
starts from what was learned before. What another host wrote is checked (`valid_shape`) before it
is used; a bad record is ignored and logged. A shape this client has only read from the store (it
saw no result of that tool itself yet) is one another client's server of the same name may have
written: `snapshot` marks its TypedDicts (`SHARED_NOTE`, their docstring), and the type check
then warns about a key such a type lacks instead of refusing the run (the run goes ahead, and its
results are learned from). Two hosts that write one tool's shape at the same
moment may lose one of their updates (shapes are hints; the next result adds it again).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import StoreError
from ..store import MemoryStore, Store
from .infer import Shape, merge, settle, shape_of, to_json_schema, valid_shape

__all__ = ["SHARED_NOTE", "Learned", "ShapeRegistry", "shape_key"]

logger = logging.getLogger("engine.shapes")

UNREACHABLE_BACKOFF = 30.0
"""Seconds before a store that could not be read is read again."""

MAX_QUEUED = 256
"""Results waiting to be looked at; past that, new ones are not learned from until the queue drains."""

SHARED_NOTE = ("Learned only from results other clients sharing the store saw, none yet here; "
               "other keys may exist (a key it lacks is a warning, not a refusal).")
"""The docstring of a TypedDict learned only from the store: what the type check reads it by."""


@dataclass(frozen=True, slots=True)
class Learned:
    """A tool's learned output shape: a JSON Schema (`description` says it was observed) and how many
    results it was learned from."""

    schema: dict[str, Any]
    results: int


def shape_key(server: str, tool: str) -> str:
    """The store key of one tool's shape (a digest: server and tool names are arbitrary text)."""
    digest = hashlib.sha256(json.dumps([server, tool]).encode("utf-8", "surrogatepass")).hexdigest()
    return f"shapes:{digest[:40]}"


class ShapeRegistry:
    """Learned output shapes per (server, tool); see the module docstring.

    Args:
        store: where shapes are kept (a fresh `MemoryStore` when None).
        enabled: False: `observe` does nothing (shapes already in the store are still shown).
        refresh: seconds between reads of the store in `sync` (what other clients learned).
    """

    def __init__(self, store: Store | None = None, *, enabled: bool = True, refresh: float = 1.0) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.enabled = enabled
        self.refresh = refresh
        self.version = 0
        """Bumped whenever a shape or a count changes: what caches of rendered stubs key on."""
        self.shape_version = 0
        """Bumped only when a shape changes (not a count): what the type check's stubs key on."""
        self._known: dict[tuple[str, str], tuple[Shape, int]] = {}
        self._delta: dict[tuple[str, str], tuple[Shape, int]] = {}
        self._rendered: dict[tuple[str, str], dict[str, Any]] = {}
        self._writing: set[tuple[str, str]] = set()
        self._queue: deque[tuple[str, str, Any]] = deque()
        self._scheduled = False
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()
        self._flush: asyncio.Task[None] | None = None
        self._schemas: dict[tuple[str, str], tuple[int, Learned]] = {}
        self._local: set[tuple[str, str]] = set()
        """Tools this registry saw a result of itself (not only read from the store)."""
        self.dropped = 0
        """Results not learned from because the queue was full."""

    # -- the hot path --------------------------------------------------------------------------

    def observe(self, server: str, tool: str, value: Any) -> None:
        """Queue one successful result (the bridge's `Hooks.observe`); never raises, never blocks."""
        if not self.enabled:
            return
        if len(self._queue) >= MAX_QUEUED:
            self.dropped += 1
            return
        self._queue.append((server, tool, value))
        if not self._scheduled:
            self._scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.drain)
            except RuntimeError:  # no loop (a synchronous caller): work it out now
                self.drain()

    def drain(self) -> None:
        """Merge the queued results into the shapes (also done before every read)."""
        self._scheduled = False
        if not self._queue:
            return
        batch: dict[tuple[str, str], tuple[Shape, int]] = {}
        while self._queue:
            server, tool, value = self._queue.popleft()
            key = (server, tool)
            shape, results = batch.get(key, ({}, 0))
            batch[key] = (merge(shape, shape_of(value)), results + 1)
        for key, (shape, results) in batch.items():
            if key not in self._local:  # its type is this client's own now: the checked stubs change
                self._local.add(key)
                self.shape_version += 1
            shape = settle(shape)
            self._set(key, _add(self._known.get(key), shape, results))
            self._delta[key] = _add(self._delta.get(key), shape, results)
        self.version += 1
        self._start_flush()

    def _set(self, key: tuple[str, str], known: tuple[Shape, int]) -> None:
        self._known[key] = known
        # Counts live inside a shape (how often each key was seen); what is rendered is the schema.
        schema = to_json_schema(known[0])
        if self._rendered.get(key) != schema:
            self._rendered[key] = schema
            self.shape_version += 1

    # -- reading -------------------------------------------------------------------------------

    def learned(self, server: str, tool: str) -> Learned | None:
        """The learned shape of one tool, or None when none was seen."""
        self.drain()
        key = (server, tool)
        found = self._known.get(key)
        if found is None:
            return None
        cached = self._schemas.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        shape, results = found
        schema = to_json_schema(shape)
        plural = "result" if results == 1 else "results"
        schema["description"] = f"Observed in {results} {plural}; not declared by the server (other keys may exist)."
        learned = Learned(schema=schema, results=results)
        self._schemas[key] = (self.version, learned)
        return learned

    def snapshot(self, tools: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Learned]:
        """`{(server, tool): Learned}` for those of `tools` that have a learned shape; a shape only
        read from the store has its objects marked with `SHARED_NOTE` (see the module docstring)."""
        out: dict[tuple[str, str], Learned] = {}
        for server, tool in tools:
            learned = self.learned(server, tool)
            if learned is not None:
                if (server, tool) not in self._local:
                    learned = Learned(schema=_shared(learned.schema), results=learned.results)
                out[(server, tool)] = learned
        return out

    # -- the store -----------------------------------------------------------------------------

    async def sync(self, tools: Iterable[tuple[str, str]], *, force: bool = False) -> None:
        """Read `tools`' shapes from the store, at most every `refresh` seconds (or now, when `force`);
        what this client learned is written in the background meanwhile. A store that cannot be
        reached is logged, never raised, and not read again for `UNREACHABLE_BACKOFF` seconds."""
        self.drain()  # its writes go on in the background: a slow store never holds up a check
        loop = asyncio.get_running_loop()
        if not force and self._loaded_at is not None and loop.time() - self._loaded_at < self.refresh:
            return
        self._loaded_at = loop.time()
        changed = False
        # Not under the writers' lock: a write stuck on a slow store must not hold up this read.
        for server, tool in tools:
            key = (server, tool)
            try:
                stored = await self._read(server, tool)
            except StoreError as exc:
                logger.warning("learned shapes could not be read from %s: %s", self.store.url, exc)
                # An unreachable store is not asked again for a while (each try may take its timeout).
                self._loaded_at = loop.time() + UNREACHABLE_BACKOFF
                return
            if stored is None or key in self._writing:  # a write in flight sets the shape itself
                continue
            pending = self._delta.get(key)
            current = _add(stored, *pending) if pending is not None else stored
            if current != self._known.get(key):
                self._set(key, current)
                changed = True
        if changed:
            self.version += 1

    async def flush(self) -> None:
        """Write every pending shape to the store (merged with what is there)."""
        self.drain()
        flushing = self._flush
        if flushing is not None and not flushing.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(flushing)
        await self._write()

    async def aclose(self) -> None:
        """Write what is pending; the store itself belongs to whoever opened it."""
        with contextlib.suppress(Exception):
            await self.flush()

    def _start_flush(self) -> None:
        if self._flush is None or self._flush.done():
            try:
                self._flush = asyncio.get_running_loop().create_task(self._write())
            except RuntimeError:
                self._flush = None

    async def _write(self) -> None:
        async with self._lock:
            while self._delta:
                key, (shape, results) = self._delta.popitem()
                self._writing.add(key)
                try:
                    stored = await self._read(*key)
                    total = _add(stored, shape, results)
                    record = {"server": key[0], "tool": key[1], "results": total[1], "shape": total[0]}
                    await self.store.put(shape_key(*key), json.dumps(record, separators=(",", ":")).encode())
                except Exception as exc:  # noqa: BLE001 - a store fault never reaches a program
                    logger.warning("learned shapes could not be written to %s: %s", self.store.url, exc)
                    return
                finally:
                    self._writing.discard(key)
                pending = self._delta.get(key)
                self._set(key, _add(total, *pending) if pending is not None else total)
                self.version += 1

    async def _read(self, server: str, tool: str) -> tuple[Shape, int] | None:
        raw = await self.store.get(shape_key(server, tool))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if (
            type(record) is not dict
            or record.get("server") != server
            or record.get("tool") != tool
            or type(record.get("results")) is not int
            or record["results"] < 1
            or not valid_shape(record.get("shape"))
        ):
            logger.warning("the learned shape of %s.%s in %s is not valid: ignored", server, tool, self.store.url)
            return None
        return record["shape"], record["results"]


def _add(known: tuple[Shape, int] | None, shape: Shape, results: int) -> tuple[Shape, int]:
    if known is None:
        return settle(shape), results
    return settle(merge(known[0], shape)), known[1] + results


def _shared(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every object of it described by `SHARED_NOTE`, inside a one-option `anyOf`
    (the same type; the outer description is the one a reader of the stubs may drop)."""
    outer = {"anyOf": [_marked(schema)]}
    if "description" in schema:
        outer["description"] = schema["description"]
    return outer


def _marked(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {key: _marked(value) for key, value in out["properties"].items()}
        out["description"] = SHARED_NOTE
    else:
        out.pop("description", None)
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _marked(out[key])
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [_marked(option) for option in out["anyOf"]]
    return out
