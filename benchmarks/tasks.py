"""Multi-step tasks against real MCP servers, each written twice: as one code-mode program and as
the sequence of direct tool calls a model would make.

A direct version is an async function that drives a `Turns` recorder: each `await turns.call(...)`
batch is one model round trip (calls in one batch are the parallel tool calls of one assistant
message); the Python between batches stands for the model reading the results and deciding what to
do next. Both versions must return the same answer; the harness checks that.

Paths are under `{root}`, the working directory `servers.prepare_workdir` filled; `team_lookup`
reads what `team_graph` stored, so the tasks run in this order.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["TASKS", "Task", "Turns"]


class Turns(Protocol):
    """One model round trip per `call`: the tool calls of one assistant message, run, results back."""

    async def call(self, *calls: tuple[str, str, dict[str, Any]]) -> list[Any]:
        """Run `(server, tool, arguments)` calls and return their values (as a program would see them)."""
        ...


Direct = Callable[[Turns, str], Awaitable[Any]]


@dataclass(frozen=True)
class Task:
    name: str
    request: str
    """What the user asks; the same prompt in both modes."""
    program: str
    """The code-mode program; `{root}` stands for the working directory (replaced, not `str.format`)."""
    direct: Direct
    small: bool = False
    """A task so small that direct calls may well cost fewer tokens."""


def _lines(value: Any) -> list[str]:
    text = value["content"] if isinstance(value, dict) else str(value)
    return [line for line in text.splitlines() if line.strip()]


# -- filesystem ----------------------------------------------------------------------------------


async def _todo_direct(turns: Turns, root: str) -> Any:
    (found,) = await turns.call(("filesystem", "search_files", {"path": f"{root}/project", "pattern": "**/*.py"}))
    paths = _lines(found)
    texts = await turns.call(*[("filesystem", "read_text_file", {"path": p}) for p in paths])
    counts = {p.rsplit("/", 1)[1]: t["content"].count("# TODO") for p, t in zip(paths, texts, strict=True)}
    return {name: n for name, n in sorted(counts.items()) if n}


TODO_PROGRAM = """\
import asyncio
found = await filesystem.search_files(path="{root}/project", pattern="**/*.py")
paths = [line for line in found["content"].splitlines() if line.strip()]
texts = await asyncio.gather(*[filesystem.read_text_file(path=p) for p in paths])
counts = {p.rsplit("/", 1)[1]: t["content"].count("# TODO") for p, t in zip(paths, texts)}
return {name: n for name, n in sorted(counts.items()) if n}
"""


async def _largest_direct(turns: Turns, root: str) -> Any:
    (listing,) = await turns.call(
        ("filesystem", "list_directory_with_sizes", {"path": f"{root}/assets", "sortBy": "size"})
    )
    return [line.split()[1] for line in _lines(listing) if line.startswith("[FILE]")][:2]


LARGEST_PROGRAM = """\
listing = await filesystem.list_directory_with_sizes(path="{root}/assets", sortBy="size")
return [line.split()[1] for line in listing["content"].splitlines() if line.startswith("[FILE]")][:2]
"""


def _revenue(csv_text: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for row in csv_text.splitlines()[1:]:
        if row.strip():
            _, region, _, units, price = row.split(",")
            totals[region] = totals.get(region, 0.0) + int(units) * float(price)
    return {region: round(total, 2) for region, total in sorted(totals.items())}


async def _sales_direct(turns: Turns, root: str) -> Any:
    (sales,) = await turns.call(("filesystem", "read_text_file", {"path": f"{root}/data/sales.csv"}))
    return _revenue(sales["content"])


SALES_PROGRAM = """\
sales = await filesystem.read_text_file(path="{root}/data/sales.csv")
totals = {}
for row in sales["content"].splitlines()[1:]:
    if row.strip():
        date, region, product, units, price = row.split(",")
        totals[region] = totals.get(region, 0.0) + int(units) * float(price)
return {region: round(total, 2) for region, total in sorted(totals.items())}
"""


def _errors_by_component(log: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in log.splitlines():
        match = re.search(r" ERROR \[(\w+)\]", line)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return dict(sorted(counts.items()))


async def _log_direct(turns: Turns, root: str) -> Any:
    (log,) = await turns.call(("filesystem", "read_text_file", {"path": f"{root}/logs/app.log"}))
    return _errors_by_component(log["content"])


LOG_PROGRAM = """\
import re
log = await filesystem.read_text_file(path="{root}/logs/app.log")
counts = {}
for line in log["content"].splitlines():
    match = re.search(r" ERROR \\[(\\w+)\\]", line)
    if match:
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
return dict(sorted(counts.items()))
"""


async def _docs_direct(turns: Turns, root: str) -> Any:
    (listing,) = await turns.call(("filesystem", "list_directory", {"path": f"{root}/project/docs"}))
    names = sorted(line.split()[1] for line in _lines(listing) if line.startswith("[FILE]"))
    pages = await turns.call(*[("filesystem", "read_text_file", {"path": f"{root}/project/docs/{n}"}) for n in names])
    summary = "".join(f"{n}: {len(p['content'].splitlines())} lines\n" for n, p in zip(names, pages, strict=True))
    await turns.call(("filesystem", "write_file", {"path": f"{root}/docs_summary.txt", "content": summary}))
    (info,) = await turns.call(("filesystem", "get_file_info", {"path": f"{root}/docs_summary.txt"}))
    return int(re.search(r"size: (\d+)", info["content"]).group(1))  # type: ignore[union-attr]


DOCS_PROGRAM = """\
import asyncio, re
listing = await filesystem.list_directory(path="{root}/project/docs")
names = sorted(line.split()[1] for line in listing["content"].splitlines() if line.startswith("[FILE]"))
pages = await asyncio.gather(*[filesystem.read_text_file(path="{root}/project/docs/" + n) for n in names])
summary = "".join(f"{n}: {len(p['content'].splitlines())} lines\\n" for n, p in zip(names, pages))
await filesystem.write_file(path="{root}/docs_summary.txt", content=summary)
info = await filesystem.get_file_info(path="{root}/docs_summary.txt")
return int(re.search(r"size: (\\d+)", info["content"]).group(1))
"""

# -- memory --------------------------------------------------------------------------------------

_TEAM = [("Ada", "engineer", "Apollo"), ("Grace", "architect", "Apollo"), ("Linus", "engineer", "Hermes")]
_TEAM += [("Barbara", "manager", "Apollo"), ("Ken", "designer", "Hermes")]
_ENTITIES = [{"name": n, "entityType": "person", "observations": [f"role: {r}"]} for n, r, _ in _TEAM]
_ENTITIES += [{"name": p, "entityType": "project", "observations": []} for p in ("Apollo", "Hermes")]
_RELATIONS = [{"from": n, "to": p, "relationType": "works_on"} for n, _, p in _TEAM]


async def _team_direct(turns: Turns, root: str) -> Any:
    await turns.call(("memory", "create_entities", {"entities": _ENTITIES}))
    await turns.call(("memory", "create_relations", {"relations": _RELATIONS}))
    (graph,) = await turns.call(("memory", "read_graph", {}))
    return sorted(r["from"] for r in graph["relations"] if r["to"] == "Apollo" and r["relationType"] == "works_on")


TEAM_PROGRAM = f"""\
await memory.create_entities(entities={_ENTITIES!r})
await memory.create_relations(relations={_RELATIONS!r})
graph = await memory.read_graph()
return sorted(r["from"] for r in graph["relations"] if r["to"] == "Apollo" and r["relationType"] == "works_on")
"""


async def _role_direct(turns: Turns, root: str) -> Any:
    (found,) = await turns.call(("memory", "open_nodes", {"names": ["Grace"]}))
    return found["entities"][0]["observations"][0].split(": ", 1)[1]


ROLE_PROGRAM = """\
found = await memory.open_nodes(names=["Grace"])
return found["entities"][0]["observations"][0].split(": ", 1)[1]
"""

# -- git -----------------------------------------------------------------------------------------


def _authors(log: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in log.splitlines():
        if line.startswith("Author: "):
            author = line.removeprefix("Author: ").strip()
            counts[author] = counts.get(author, 0) + 1
    return dict(sorted(counts.items()))


async def _authors_direct(turns: Turns, root: str) -> Any:
    (log,) = await turns.call(("git", "git_log", {"repo_path": f"{root}/repo", "max_count": 12}))
    return _authors(log)


AUTHORS_PROGRAM = """\
log = await git.git_log(repo_path="{root}/repo", max_count=12)
counts = {}
for line in log.splitlines():
    if line.startswith("Author: "):
        author = line[len("Author: "):].strip()
        counts[author] = counts.get(author, 0) + 1
return dict(sorted(counts.items()))
"""


def _commits(log: str) -> list[str]:
    return [line.split()[1] for line in log.splitlines() if line.startswith("Commit: ")]


def _changed(show: str) -> list[str]:
    return sorted(line[6:] for line in show.splitlines() if line.startswith("+++ b/"))


async def _changed_direct(turns: Turns, root: str) -> Any:
    (log,) = await turns.call(("git", "git_log", {"repo_path": f"{root}/repo", "max_count": 3}))
    shows = await turns.call(
        *[("git", "git_show", {"repo_path": f"{root}/repo", "revision": c}) for c in _commits(log)]
    )
    return [_changed(s) for s in shows]


CHANGED_PROGRAM = """\
import asyncio
log = await git.git_log(repo_path="{root}/repo", max_count=3)
commits = [line.split()[1] for line in log.splitlines() if line.startswith("Commit: ")]
shows = await asyncio.gather(*[git.git_show(repo_path="{root}/repo", revision=c) for c in commits])
return [sorted(line[6:] for line in s.splitlines() if line.startswith("+++ b/")) for s in shows]
"""


async def _changelog_direct(turns: Turns, root: str) -> Any:
    (log,) = await turns.call(("git", "git_log", {"repo_path": f"{root}/repo", "max_count": 5}))
    messages = [line.removeprefix("Message: ") for line in log.splitlines() if line.startswith("Message: ")]
    text = "# Changelog\n\n" + "".join(f"- {m}\n" for m in messages)
    await turns.call(("filesystem", "write_file", {"path": f"{root}/CHANGELOG.md", "content": text}))
    (back,) = await turns.call(("filesystem", "read_text_file", {"path": f"{root}/CHANGELOG.md"}))
    return len([line for line in back["content"].splitlines() if line.startswith("- ")])


CHANGELOG_PROGRAM = """\
log = await git.git_log(repo_path="{root}/repo", max_count=5)
messages = [line[len("Message: "):] for line in log.splitlines() if line.startswith("Message: ")]
text = "# Changelog\\n\\n" + "".join("- " + m + "\\n" for m in messages)
await filesystem.write_file(path="{root}/CHANGELOG.md", content=text)
back = await filesystem.read_text_file(path="{root}/CHANGELOG.md")
return len([line for line in back["content"].splitlines() if line.startswith("- ")])
"""

# -- time and everything ---------------------------------------------------------------------------

_ZONES = ("Asia/Tokyo", "Europe/London")


async def _clock_direct(turns: Turns, root: str) -> Any:
    args = [{"source_timezone": "America/New_York", "time": "09:00", "target_timezone": z} for z in _ZONES]
    results = await turns.call(*[("time", "convert_time", a) for a in args])
    return {z: r["target"]["datetime"][11:16] for z, r in zip(_ZONES, results, strict=True)}


CLOCK_PROGRAM = f"""\
import asyncio
zones = {list(_ZONES)!r}
results = await asyncio.gather(*[
    time.convert_time(source_timezone="America/New_York", time="09:00", target_timezone=z) for z in zones
])
return {{z: r["target"]["datetime"][11:16] for z, r in zip(zones, results)}}
"""

_PAIRS = [(3, 4), (10, 20), (7, 8), (100, 1), (55, 45), (9, 9), (12, 30), (2, 2)]


async def _sums_direct(turns: Turns, root: str) -> Any:
    results = await turns.call(*[("everything", "get-sum", {"a": a, "b": b}) for a, b in _PAIRS])
    return max(int(float(re.findall(r"[-\d.]+", str(r))[-1].rstrip("."))) for r in results)


SUMS_PROGRAM = f"""\
import asyncio, re
pairs = {_PAIRS!r}
results = await asyncio.gather(*[everything["get-sum"](a=a, b=b) for a, b in pairs])
return max(int(float(re.findall(r"[-\\d.]+", str(r))[-1].rstrip("."))) for r in results)
"""


async def _echo_direct(turns: Turns, root: str) -> Any:
    (reply,) = await turns.call(("everything", "echo", {"message": "hello"}))
    return reply


ECHO_PROGRAM = 'return await everything.echo(message="hello")\n'


TASKS: Sequence[Task] = (
    Task("todo_per_file", "Count the TODO comments in each Python file under project/.", TODO_PROGRAM, _todo_direct),
    Task("largest_assets", "Which two files in assets/ are the largest?", LARGEST_PROGRAM, _largest_direct, small=True),
    Task(
        "sales_by_region", "Total revenue (units × price) per region in data/sales.csv.", SALES_PROGRAM, _sales_direct
    ),
    Task("log_errors", "How many ERROR lines per component are in logs/app.log?", LOG_PROGRAM, _log_direct),
    Task(
        "docs_summary",
        "Write docs_summary.txt with the line count of each page in project/docs/, then report its size.",
        DOCS_PROGRAM,
        _docs_direct,
    ),
    Task(
        "team_graph",
        "Record the team (people, roles, projects) in memory; who works on Apollo?",
        TEAM_PROGRAM,
        _team_direct,
    ),
    Task("team_lookup", "What is Grace's role?", ROLE_PROGRAM, _role_direct, small=True),
    Task(
        "commits_by_author", "How many of the last 12 commits did each author make?", AUTHORS_PROGRAM, _authors_direct
    ),
    Task("changed_files", "Which files did each of the last 3 commits change?", CHANGED_PROGRAM, _changed_direct),
    Task(
        "changelog",
        "Write CHANGELOG.md from the last 5 commit messages and check how many entries it has.",
        CHANGELOG_PROGRAM,
        _changelog_direct,
    ),
    Task(
        "world_clock",
        "09:00 in New York: what time is it in Tokyo and London?",
        CLOCK_PROGRAM,
        _clock_direct,
        small=True,
    ),
    Task("largest_sum", "Add these 8 pairs with the get-sum tool; which sum is largest?", SUMS_PROGRAM, _sums_direct),
    Task("echo", "Echo 'hello' with the echo tool.", ECHO_PROGRAM, _echo_direct, small=True),
)
