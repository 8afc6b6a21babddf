"""`ToolPolicy`: which tool calls run, which wait for a person, which are refused.

Rules map patterns over `server.tool` (the servers' and tools' own names, `*` and `?` as in shell
globs) to an action: `allow`, `ask` or `deny`. The most specific matching rule wins: a rule that
names its server exactly beats one with a wildcard server part; then the one with the most literal
characters; on a tie the stricter action (`deny` over `ask` over `allow`), so the order of the
rules never matters. A call no rule matches is allowed, or, with `annotations=True`,
decided by the tool's MCP annotations: `readOnlyHint: true` allows it; otherwise it is asked
unless `destructiveHint: false` says it only adds. Annotations are the server's own claims, so they
are opt-in and a rule always wins over them.

```python
policy = ToolPolicy({"github.close_*": "ask", "admin.*": "deny"})
policy.action("github", "close_issue")  # "ask"
```
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Literal

import mcp.types as types

from ..errors import ApprovalError

__all__ = ["ACTIONS", "Action", "ToolPolicy"]

Action = Literal["allow", "ask", "deny"]
ACTIONS: tuple[Action, ...] = ("allow", "ask", "deny")
_STRICTNESS = {"allow": 0, "ask": 1, "deny": 2}
_MAX_RULES = 1000
_MAX_PATTERN = 300


class _Rule:
    __slots__ = ("pattern", "action", "regex", "weight")

    def __init__(self, pattern: str, action: Action) -> None:
        self.pattern = pattern
        self.action = action
        # fnmatch's translation is linear-time for `*`/`?` patterns: no backtracking blow-up.
        self.regex = re.compile(fnmatch.translate(pattern), re.DOTALL)
        literal = sum(1 for char in pattern if char not in "*?")
        server = pattern.partition(".")[0]
        # A rule that names its server exactly beats any rule with a wildcard server part: tool
        # names are the server's own choice (untrusted), so `*.list_*: allow` must never reach
        # into a server that `db.*: deny` closes.
        exact_server = not any(char in server for char in "*?[")
        self.weight = (exact_server, literal, _STRICTNESS[action])


class ToolPolicy:
    """Per-tool actions; see the module docstring.

    Args:
        rules: `{"server.tool pattern": "allow" | "ask" | "deny"}`.
        annotations: decide unmatched calls from the tools' MCP annotations (off: allow them).

    Raises:
        ApprovalError: a rule is malformed (not `server.tool`, an unknown action, too long).
    """

    def __init__(self, rules: Mapping[str, str] | None = None, *, annotations: bool = False) -> None:
        rules = dict(rules or {})
        if len(rules) > _MAX_RULES:
            raise ApprovalError(f"a tool policy has at most {_MAX_RULES} rules, got {len(rules)}")
        self._rules: list[_Rule] = []
        for pattern, action in rules.items():
            self._rules.append(_Rule(_check_pattern(pattern), _check_action(pattern, action)))
        # Most specific first: the first match is the winner.
        self._rules.sort(key=lambda rule: rule.weight, reverse=True)
        self.annotations = bool(annotations)
        self.rules: dict[str, Action] = {rule.pattern: rule.action for rule in self._rules}

    @classmethod
    def parse(cls, value: object) -> ToolPolicy | None:
        """A policy from what a user passed: a `ToolPolicy`, a dict of rules (with an optional
        `"annotations": true` entry, as in a config file), or None for none."""
        if value is None or isinstance(value, ToolPolicy):
            return value
        if not isinstance(value, Mapping):
            raise ApprovalError(
                f"tool_policy must be a dict of 'server.tool' patterns to actions, got {type(value).__name__}"
            )
        rules = dict(value)
        annotations = rules.pop("annotations", False)
        if not isinstance(annotations, bool):
            raise ApprovalError(f"tool_policy's 'annotations' must be true or false, got {annotations!r}")
        return cls(rules, annotations=annotations)

    @property
    def asks(self) -> bool:
        """Whether any call can need approval (an `ask` rule, or annotations on)."""
        return self.annotations or any(rule.action == "ask" for rule in self._rules)

    def action(
        self,
        server: str,
        tool: str,
        annotations: types.ToolAnnotations | None = None,
        *,
        dry_run: bool = False,
    ) -> Action:
        """The action for one call of `tool` on `server`. In a dry run only calls the tool's
        annotations say are read-only are allowed; every other call that is not denied is `ask`
        (planned, not run)."""
        read_only = annotations is not None and annotations.read_only_hint is True
        name = f"{server}.{tool}"
        for rule in self._rules:
            if rule.regex.match(name):
                if dry_run and rule.action == "allow" and not read_only:
                    return "ask"  # allowed, but not known to change nothing: planned, not run
                return rule.action
        if dry_run:
            return "allow" if read_only else "ask"
        if not self.annotations:
            return "allow"
        if read_only or (annotations is not None and annotations.destructive_hint is False):
            return "allow"
        return "ask"

    def check_against(self, tools: Mapping[str, Iterable[str]]) -> None:
        """Refuse rules that name a loaded server but match none of its tools (a typo would
        otherwise silently allow what it meant to guard). `tools`: server -> its tool names.

        Rules over servers that are not loaded are left alone: they may load later.
        """
        for rule in self._rules:
            server_part, _, tool_part = rule.pattern.partition(".")
            if any(char in server_part for char in "*?["):
                continue
            if server_part not in tools:
                same = [name for name in tools if name.casefold() == server_part.casefold()]
                if same:  # `GitHub.delete_*` guards nothing when the server is `github`
                    raise ApprovalError(
                        f"tool policy rule {rule.pattern!r} names server {server_part!r}; did you mean {same[0]!r}? "
                        "(server names are matched exactly)"
                    )
                continue
            names = list(tools[server_part])
            if not any(fnmatch.fnmatchcase(name, tool_part) for name in names):
                close = difflib.get_close_matches(tool_part, names, n=1)
                hint = f"; did you mean {server_part}.{close[0]!r}?" if close else ""
                raise ApprovalError(
                    f"tool policy rule {rule.pattern!r} matches no tool of server {server_part!r}{hint}"
                )

    def __repr__(self) -> str:
        return f"ToolPolicy({self.rules!r}, annotations={self.annotations})"


def _check_pattern(pattern: object) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise ApprovalError(f"a tool policy pattern must be a non-empty string, got {pattern!r}")
    if len(pattern) > _MAX_PATTERN:
        raise ApprovalError(f"tool policy pattern is over {_MAX_PATTERN} characters: {pattern[:40]!r}...")
    if pattern != "*" and "." not in pattern:
        raise ApprovalError(
            f"tool policy pattern {pattern!r} must be 'server.tool' (globs allowed: 'github.close_*', 'admin.*')"
        )
    return pattern


def _check_action(pattern: str, action: object) -> Action:
    if action not in ACTIONS:
        raise ApprovalError(
            f"tool policy rule {pattern!r} has an unknown action {action!r}; use one of {', '.join(ACTIONS)}"
        )
    return action  # narrowed by the check against ACTIONS
