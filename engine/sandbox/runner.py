"""Run one compiled program on a worker thread with its own event loop, and build its envelope.

`execute` is the worker-thread half: it binds the thread to the run, builds a fresh event loop,
binds the program's names (`names.bind(send)`), runs `__agent_main__` as a task, then cancels and awaits every task
the program left behind, closes the loop and converts the result to plain data. Nothing the
program created leaves this thread except plain data and strings.

`make_send` builds the program's `send` (on the host; it is awaited on the worker): it schedules
`host_channel(frame)` on the host loop and awaits the reply on the worker loop; cancelling that
await cancels the host-side call.
"""

from __future__ import annotations

import asyncio
import contextvars
import decimal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgpack

from ..kernel.names import Names
from ..kernel.program import MAIN_NAME, CompiledProgram
from ..kernel.protocol import HostChannel, Send
from ..kernel.report import ErrorInfo, error_info, plain_error, to_plain
from .context import DISCARDED, Interrupt, RunState, StopExecution, current, set_current
from .guards import deny_value_type
from .hints import add_hint
from .loop import WorkerLoop, report_quietly
from .numbers import decimal_context
from .policy import READABLE_DUNDER_GLOBALS
from .shown import neutral, text_size

__all__ = ["Outcome", "execute", "make_send", "use_loop"]

_CLEANUP_GRACE = 0.5


@dataclass
class Outcome:
    """What the worker hands back: plain data only."""

    result: Any = None
    error: ErrorInfo | None = None
    result_bytes: int = 0
    cpu_time: float = 0.0


class _HostCall:
    """One frame sent to the host: started on the host loop, answered on the worker loop.

    Two `call_soon_threadsafe` hand-offs and no more (no concurrent future, no wrapper task on
    the worker side). Only bytes or an error message cross back: never a host object."""

    __slots__ = ("channel", "frame", "reply", "task", "cancelled")

    def __init__(self, channel: HostChannel, frame: bytes, reply: asyncio.Future[bytes]) -> None:
        self.channel = channel
        self.frame = frame
        self.reply = reply
        """Awaited by the program on its worker loop."""
        self.task: asyncio.Task[None] | None = None
        self.cancelled = False

    def start(self) -> None:  # on the host loop
        if not self.cancelled:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def cancel(self) -> None:  # on the host loop
        self.cancelled = True
        if self.task is not None:
            self.task.cancel()

    async def _run(self) -> None:
        try:
            answer: bytes | str = await self.channel(self.frame)
            if not isinstance(answer, (bytes, bytearray)):
                answer = "host channel returned a non-bytes reply"
            else:
                answer = bytes(answer)
        except asyncio.CancelledError:
            # Cancelled on the host (its loop shutting down, say), not at the program's request:
            # the program must not wait for a reply that will never come.
            if not self.cancelled:
                self._deliver("the host cancelled the call")
            raise
        except Exception as exc:
            # Never let a host exception object (and its traceback) into the sandbox.
            answer = f"host channel failed: {type(exc).__name__}: {exc}"
        self._deliver(answer)

    def _deliver(self, answer: bytes | str) -> None:
        try:
            self.reply.get_loop().call_soon_threadsafe(self._settle, answer)
        except RuntimeError:  # the worker loop is closed: the program is over
            pass

    def _settle(self, answer: bytes | str) -> None:  # on the worker loop
        if self.reply.done():
            return
        if type(answer) is bytes:
            self.reply.set_result(answer)
        else:
            self.reply.set_exception(RuntimeError(answer))


def make_send(
    host_channel: HostChannel | None,
    host_loop: asyncio.AbstractEventLoop,
    host_context: contextvars.Context,
    wake: Callable[[], None] | None = None,
) -> Send:
    """The program's `send`: each frame goes to `host_channel`, run as a task on `host_loop` in
    `host_context` (the caller's context variables), and the reply comes back to the program's loop.
    `wake` is called before anything is posted to `host_loop` (`Handback.release`: the host thread
    may be blocked waiting for the run instead of running its loop)."""

    async def send(frame: bytes) -> bytes:
        if host_channel is None:
            raise RuntimeError("this execution has no host channel: tools are not available")
        if type(frame) is not bytes:
            raise TypeError("send() takes bytes")
        call = _HostCall(host_channel, frame, asyncio.get_running_loop().create_future())
        if wake is not None:
            wake()
        try:
            # The host's context: tool calls see the caller's context variables, not the worker's.
            host_loop.call_soon_threadsafe(call.start, context=host_context)
        except RuntimeError:
            raise RuntimeError("the host is gone") from None
        try:
            return await call.reply
        except asyncio.CancelledError:
            # Cancelling this await cancels the host-side call.
            if wake is not None:
                wake()
            try:
                host_loop.call_soon_threadsafe(call.cancel, context=host_context)
            except RuntimeError:
                pass
            raise

    return send


def _stop_error(run: RunState, exc: BaseException | None, lines: tuple[str, ...]) -> ErrorInfo:
    message = run.stop_reason or "the program was stopped"
    if exc is not None:
        return error_info(exc, lines, type_name=run.stop_type, message=message)
    return plain_error(run.stop_type, message)


_MESSAGE_BUDGET = 100_000
"""Characters an exception's arguments may come to before the engine formats its message."""

_ARGS = BaseException.__dict__["args"]


def _bounded_message(exc: BaseException) -> str | None:
    """None (let `error_info` format the message) unless the exception's arguments are too big as
    text: `str()` of an argument that holds one big string many times, or nests a list in itself
    many times, is one C call that runs for as long as the program likes (`shown`)."""
    args = _ARGS.__get__(exc)
    if all(type(arg) in (str, int, float, bool) for arg in args):
        return None
    if text_size(args, _MESSAGE_BUDGET) > _MESSAGE_BUDGET:
        return f"<the message of this {type(exc).__name__} is too big to show>"
    try:
        return neutral(str(exc))  # no addresses or engine names (`KeyError(tools.echo)`)
    except Exception:  # a broken __str__: error_info says so
        return None


_DISCARDED_NOTICE = (
    "note: this code session's previous program did not stop (stuck in native code) and was abandoned; "
    "its variables were discarded, and this program starts with none\n"
)


def _bound_send(run: RunState, send: Send) -> Send:
    """`send` for the names of this run only: a tool function kept in a code session and called by
    a later run fails at once, instead of reaching the earlier run's host channel (where its call
    would escape the current run's limits and trace)."""

    async def bound(frame: bytes) -> bytes:
        if current() is not run:
            raise RuntimeError(
                "this tool function belongs to an earlier run of this code session, which is over: read it "
                "again by its name in this run (`github.get_issue`, not a copy saved in a variable)"
            )
        return await send(frame)

    return bound


_thread = threading.local()


def use_loop(factory: Callable[[], asyncio.AbstractEventLoop]) -> None:
    """Run the calling thread's programs on loops made by `factory` instead of `WorkerLoop`s.

    For a thread that is also its process's link to the host (a `process` worker): its programs'
    loop watches the channel, so a reply wakes the program without a hand-off between threads."""
    _thread.factory = factory


def _thread_loop() -> asyncio.AbstractEventLoop:
    """The worker thread's event loop: reused while runs leave it clean, else replaced."""
    loop: asyncio.AbstractEventLoop | None = getattr(_thread, "loop", None)
    if loop is None or loop.is_closed():
        loop = getattr(_thread, "factory", WorkerLoop)()
        loop.set_exception_handler(report_quietly)
        deny_value_type(type(loop))
        _thread.loop = loop
    return loop


def _is_clean(loop: Any) -> bool:
    """Nothing of the last run is left in the loop: no callbacks, timers or async generators."""
    try:
        return not (loop.is_running() or loop._ready or loop._scheduled or loop._asyncgens)
    except AttributeError:  # not the stock loop: never reuse it
        return False


def _drop_loop(loop: asyncio.AbstractEventLoop) -> None:
    _thread.loop = None
    try:
        if not loop.is_closed():
            loop.close()
    except BaseException:  # noqa: S110 - a broken loop is discarded either way
        pass


def execute(
    run: RunState,
    program: CompiledProgram,
    names: Names | None,
    send: Send,
) -> Outcome:
    """Run `program` on the calling (worker) thread. Never raises (but see `Interrupt`).

    `names.bind(send)` gives the names the program sees; `send` comes from `make_send`."""
    cpu0 = time.thread_time()
    set_current(run)
    thread_id = threading.get_ident()
    run.begin(thread_id)
    # cpu_start first: the watchdog reads the clock as soon as cpu_clock is set.
    run.cpu_start = cpu0
    try:
        run.cpu_clock = time.pthread_getcpuclockid(thread_id)
    except (AttributeError, OSError):
        run.cpu_clock = None
    # A fresh decimal context per run: nothing a previous run on this thread did carries over,
    # and exponents stay within what converts to an integer quickly (see `numbers`).
    decimal.setcontext(decimal_context())
    loop = _thread_loop()
    run.loop = loop
    outcome = Outcome()
    try:
        outcome = _execute(run, program, names, send, loop)
    except BaseException as exc:  # a stop that landed in engine code, or an engine bug
        if run.stop_reason is not None:
            outcome = Outcome(error=_stop_error(run, None, program.source_lines))
        else:
            outcome = Outcome(error=plain_error("InternalError", f"{type(exc).__name__}: {exc}"))
    finally:
        while True:  # an interrupt still pending may fire in here: finish until it is cleared
            try:
                run.finish()
                break
            except Interrupt:
                continue
        run.globals["_stop_"] = True
        run.cancel_main = None
        run.loop = None
        if not _is_clean(loop):
            _drop_loop(loop)
        run.tasks.clear()
        if not run.keep_globals:
            # Free what the program built here, on this thread's deep stack: freeing a deep chain
            # recurses in C, and on the host thread's ordinary stack it could crash the process.
            _free_globals(run)
        set_current(None)
        outcome.cpu_time = time.thread_time() - cpu0
    return outcome


def _free_globals(run: RunState) -> None:
    while True:  # an interrupt still pending may fire in here
        try:
            run.globals.clear()
            run.globals["_stop_"] = True
            return
        except Interrupt:
            continue


async def _cleanup(loop: asyncio.AbstractEventLoop, leftovers: list[asyncio.Task[Any]]) -> None:
    for task in leftovers:
        task.cancel()
    if leftovers:
        await asyncio.wait(leftovers, timeout=_CLEANUP_GRACE)
    await loop.shutdown_asyncgens()


def _one_turn(loop: asyncio.AbstractEventLoop) -> None:
    """Run exactly one turn of `loop` (asyncio's documented meaning of `stop` before `run_forever`)."""
    loop.stop()
    loop.run_forever()


def _execute(
    run: RunState,
    program: CompiledProgram,
    names: Names | None,
    send: Send,
    loop: asyncio.AbstractEventLoop,
) -> Outcome:
    lines = program.source_lines
    if run.globals.pop(DISCARDED, False):
        run.output.write(_DISCARDED_NOTICE)
    if names is not None:
        bound = _bound_send(run, send)
        run.extras["send"] = bound  # tells this run's tool coroutines from others' (`hints`)
        injected: Mapping[str, object] = names.bind(bound)
        for name, value in injected.items():
            # The sandbox's own guarantee, whatever the names: a program never sees a private name
            # it could bind, and `_`-names are engine state.
            if not name.isidentifier() or (name.startswith("_") and name not in READABLE_DUNDER_GLOBALS):
                raise ValueError(f"a program name is not allowed: {name!r}")
            run.globals[name] = value
    exec(program.code, run.globals)
    main = run.globals.pop(MAIN_NAME)
    main_task: asyncio.Task[Any] = loop.create_task(main())
    run.tasks.add(main_task)

    def cancel_all() -> None:
        for task in list(run.tasks):
            task.cancel()

    run.cancel_main = cancel_all
    if run.stopped:
        cancel_all()
    try:
        # One turn first: a program that never waits ends in it, without the turn
        # `run_until_complete` spends stopping.
        _one_turn(loop)
        if not main_task.done():
            loop.run_until_complete(main_task)
        elif len(run.tasks) > 1:
            _one_turn(loop)  # tasks it started get the turn `run_until_complete` would have given them
    except BaseException:  # noqa: S110 - the task's outcome is read below
        pass
    # The program is over: any of its code that still runs (leftover tasks, async generator
    # finalizers) stops at its next check; leftover tasks are cancelled and awaited.
    run.globals["_stop_"] = True
    leftovers = [t for t in run.tasks if not t.done()]
    if leftovers or not _is_clean(loop):
        try:
            loop.run_until_complete(_cleanup(loop, leftovers))
        except BaseException:  # noqa: S110 - the loop is discarded if anything is left
            pass
    if not main_task.done():
        return Outcome(error=_stop_error(run, None, lines))
    if main_task.cancelled():
        if run.stop_reason is not None:
            return Outcome(error=_stop_error(run, None, lines))
        return Outcome(error=plain_error("CancelledError", "the program was cancelled"))
    exc = main_task.exception()
    if exc is not None:
        if run.stop_reason is not None and isinstance(exc, (StopExecution, Interrupt, asyncio.CancelledError)):
            return Outcome(error=_stop_error(run, exc, lines))
        if isinstance(exc, StopExecution):
            return Outcome(error=error_info(exc, lines, type_name="StopExecution"))
        if type(exc) is RecursionError and str(exc).startswith("maximum recursion depth exceeded"):
            message = f"maximum recursion depth of {run.limits.max_recursion_depth} exceeded"
            return Outcome(error=error_info(exc, lines, message=message))
        add_hint(exc)  # "did you forget `await`?" and the like
        return Outcome(error=error_info(exc, lines, message=_bounded_message(exc)))
    if run.stop_reason is not None:
        return Outcome(error=_stop_error(run, None, lines))
    try:
        result = to_plain(main_task.result(), run.limits.max_result_bytes)
    except ValueError as exc:
        # Refused while copying: the encoding would be over the limit (by how much is not measured).
        limit = run.limits.max_result_bytes
        message = f"{exc}: its encoding is over the limit of {limit} bytes"
        return Outcome(error=plain_error("ValueError", message), result_bytes=limit + 1)
    except TypeError as exc:
        return Outcome(error=plain_error("TypeError", str(exc)))
    except RecursionError:
        return Outcome(error=plain_error("TypeError", "result: nested too deeply"))
    try:
        size = len(msgpack.packb(result, use_bin_type=True))
    except (OverflowError, ValueError) as exc:  # an integer outside 64 bits, for one
        return Outcome(error=plain_error("TypeError", f"the result cannot be encoded: {exc}"))
    if size > run.limits.max_result_bytes:
        message = f"the result is {size} bytes encoded, over the limit of {run.limits.max_result_bytes}"
        return Outcome(error=plain_error("ValueError", message), result_bytes=size)
    return Outcome(result=result, result_bytes=size)
