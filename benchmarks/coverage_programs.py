"""The language-coverage programs: one feature each, the same source for every contender.

Each program sets `result`; a contender runs it with the ending its dialect wants (`return result`
for engine and FastMCP's `execute`, a last expression `result` for Monty, pydantic-ai-harness and
smolagents). What counts as right is what CPython gives for the same source (`expected`).
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from engine.sandbox import ALLOWED_MODULES

__all__ = ["FEATURES", "MODULES", "expected", "programs"]

FEATURES: dict[str, str] = {
    "async comprehension (`async for` over an async generator)": """
import asyncio

async def numbers(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i

result = [i * 2 async for i in numbers(4)]
""",
    "classes with inheritance and `super()`": """
class Shape:
    def __init__(self, name):
        self.name = name

    def area(self):
        return 0

    def describe(self):
        return self.name + ":" + str(self.area())

class Square(Shape):
    def __init__(self, side):
        super().__init__("square")
        self.side = side

    def area(self):
        return self.side * self.side

shapes = [Shape("dot"), Square(3)]
result = [s.describe() for s in shapes] + [isinstance(shapes[1], Shape)]
""",
    "generators (`yield`, `yield from`, generator expressions)": """
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        yield a
        a, b = b, a + b

def chained():
    yield from fib(5)
    yield -1

result = [list(fib(8)), sum(x * x for x in range(5)), list(chained())]
""",
    "`match` (mapping, sequence, class and guard patterns)": """
def kind(value):
    match value:
        case {"type": "point", "x": x, "y": y}:
            return "point " + str(x) + "," + str(y)
        case [first, *rest]:
            return "list of " + str(1 + len(rest)) + " from " + str(first)
        case int(n) if n > 10:
            return "big"
        case _:
            return "other"

result = [kind({"type": "point", "x": 1, "y": 2}), kind([5, 6, 7]), kind(42), kind("x")]
""",
    "`try/except*` with an ExceptionGroup": """
caught = []
try:
    raise ExceptionGroup("many", [ValueError("bad value"), TypeError("bad type")])
except* ValueError as group:
    caught.append(str(group.exceptions[0]))
except* TypeError as group:
    caught.append(type(group.exceptions[0]).__name__)
result = caught
""",
    "f-strings (conversions, format specs, expressions)": """
price = 1234.5678
name = "widget"
items = [1, 2, 3]
result = f"{name!r:>10}|{price:,.2f}|{len(items):03d}|{items[-1] * 2}|{'yes' if price > 1000 else 'no'}"
""",
    "`str.format` (alignment, names, indexes, exponent)": """
result = [
    "{:>6}|{:<4}|{:^7}".format("a", "b", "c"),
    "{name} has {count:d} items".format(name="box", count=3),
    "{0}{1}{0}".format("x", "y"),
    "{:.3e}".format(12345.678),
]
""",
    "`async with asyncio.Lock()`": """
import asyncio

lock = asyncio.Lock()
async with lock:
    held = lock.locked()
result = [held, lock.locked()]
""",
    "`async with` on a class of the program's (`__aenter__`/`__aexit__`)": """
import asyncio

class Resource:
    def __init__(self):
        self.log = []

    async def __aenter__(self):
        await asyncio.sleep(0)
        self.log.append("open")
        return self

    async def __aexit__(self, *exc):
        self.log.append("close")
        return False

async with Resource() as res:
    res.log.append("use")
result = res.log
""",
    "dataclasses (`@dataclass`, `field`, generated `__eq__`)": """
from dataclasses import dataclass, field

@dataclass
class Item:
    name: str
    price: float
    tags: list = field(default_factory=list)

    def total(self, n):
        return self.price * n

item = Item("pen", 1.5)
result = [item.name, item.total(4), item.tags, item == Item("pen", 1.5)]
""",
}

# One small use of each module engine's sandbox provides.
_MODULE_USES: dict[str, str] = {
    "asyncio": "async def f(x):\n    return x\nresult = await asyncio.gather(f(1), f(2))",
    "base64": 'result = base64.b64encode(b"hi").decode()',
    "collections": 'result = [collections.Counter("aab").most_common(1)[0][0], list(collections.deque([1, 2], 1))]',
    "datetime": "result = (datetime.date(2024, 1, 2) + datetime.timedelta(days=30)).isoformat()",
    "decimal": 'result = str(decimal.Decimal("1.10") + decimal.Decimal("2.20"))',
    "fractions": "result = str(fractions.Fraction(1, 3) + fractions.Fraction(1, 6))",
    "hashlib": 'result = hashlib.sha256(b"x").hexdigest()[:8]',
    "itertools": "result = list(itertools.islice(itertools.count(5), 3))",
    "json": 'result = json.loads(json.dumps({"a": [1, 2]}))',
    "math": "result = [math.sqrt(16), math.floor(2.7), math.gcd(12, 18)]",
    "random": "random.seed(7)\nresult = 0 <= random.random() < 1",
    "re": 'result = re.findall(r"\\d+", "a1b22c333")',
    "statistics": "result = statistics.mean([1, 2, 3, 4])",
    "string": "result = string.ascii_lowercase[:5]",
    "textwrap": 'result = textwrap.wrap("aaa bbb ccc", 7)',
    "uuid": "result = len(str(uuid.uuid4()))",
}
if set(_MODULE_USES) != set(ALLOWED_MODULES):
    raise RuntimeError(f"coverage_programs names {sorted(_MODULE_USES)}, the sandbox provides {ALLOWED_MODULES}")
MODULES: dict[str, str] = {f"`import {name}`": f"import {name}\n{use}\n" for name, use in _MODULE_USES.items()}


def programs() -> dict[str, str]:
    """Every program, by the row name of the table: the features, then one per provided module."""
    return {**FEATURES, **MODULES}


async def expected(source: str) -> Any:
    """What CPython gives for `source`, as JSON would carry it (tuples become lists)."""
    body = textwrap.indent(textwrap.dedent(source).strip(), "    ")
    namespace: dict[str, Any] = {}
    exec(compile(f"async def _program():\n{body}\n    return result\n", "<coverage>", "exec"), namespace)
    return json.loads(json.dumps(await namespace["_program"]()))
