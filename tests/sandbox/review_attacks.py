"""The independent review's attacks on the in-process sandbox, by class (see test_security_review).

`REFUSED` attacks must end in an error of one of the expected types (refused, not stopped at the
time limit); among them are attacks on the host process itself (GIL-holding native work, C-stack
overflows), which must fail while the host event loop keeps answering. `STOPPED` attacks must be
stopped at their limit. `{marker}` is a path that must never exist afterwards. `tools` is the test
bridge's namespace (`toy` in code mode).
"""

from __future__ import annotations

GEN = "def g():\n    yield 1\n"
ASYNC_GEN = "async def a():\n    yield 1\n"
HEX = "x = int('f' * 4000000, 16)\ny = int('e' * 2000000, 16)\n"

REFUSED: dict[str, str] = {
    # -- frames and tracebacks through public-looking names ----------------------------------------
    "gi_yieldfrom": "def g():\n    yield from iter([1])\nx = g()\nnext(x)\ny = getattr(x, 'gi_yieldfrom')",
    "cr_await literal": "import asyncio\nasync def c():\n    await asyncio.sleep(0)\nx = c().cr_await",
    "ag_await via getattr": ASYNC_GEN + "x = getattr(a(), 'ag_await')",
    "cr_origin via getattr": "async def c():\n    pass\nco = c()\nx = getattr(co, 'cr_origin')",
    "ag_code via getattr": ASYNC_GEN + "x = getattr(a(), 'ag_code')",
    "f_locals nfkc string": GEN + "x = getattr(g(), '\uff47\uff49_frame')\ny = getattr(x, '\uff46_locals')",
    "task exception traceback": (
        "import asyncio\nasync def bad():\n    1 / 0\nt = asyncio.create_task(bad())\n"
        "await asyncio.gather(t, return_exceptions=True)\ntb = getattr(t.exception(), '__traceback__')"
    ),
    "exception context": "try:\n    1 / 0\nexcept Exception as e:\n    c = getattr(e, '__context__')",
    "as_completed coroutine frame": (
        "import asyncio\nit = asyncio.as_completed([asyncio.sleep(0)])\nc = next(it)\nf = getattr(c, 'cr_frame')"
    ),
    "as_completed generator frame": "import asyncio\nit = asyncio.as_completed([])\nf = getattr(it, 'gi_frame')",
    "queue coroutine frame": "import asyncio\nq = asyncio.Queue()\nf = getattr(q.get(), 'cr_frame')",
    "asend frame": ASYNC_GEN + "x = getattr(a().asend(None), 'cr_frame')",
    "tb_next via getattr": "try:\n    1 / 0\nexcept Exception as e:\n    t = getattr(e, 'tb_next')",
    # -- dunder walks through what the sandbox hands out ----------------------------------------------
    "json error class init": "import json\nx = getattr(json.JSONDecodeError, '__init__')",
    "json decoder class": "import json\nd = json.JSONDecoder",
    "pattern method self": "import re\nx = getattr(re.compile('a').search, '__self__')",
    "datetime method self": "import datetime\nx = getattr(datetime.datetime.now, '__self__')",
    "ordered dict classmethod func": "import collections\nx = getattr(collections.OrderedDict.fromkeys, '__func__')",
    "decimal method self": "import decimal\nx = getattr(decimal.Decimal(1).adjusted, '__self__')",
    "random method func": "import random\nx = getattr(random.random, '__func__')",
    "hash object class": "import hashlib\nx = getattr(hashlib.sha256(), '__class__')",
    "uuid class literal": "import uuid\nx = uuid.uuid4().__class__",
    "semaphore loop literal": "import asyncio\nx = asyncio.Semaphore()._loop",
    "event waiters": "import asyncio\nx = getattr(asyncio.Event(), '_waiters')",
    "queue class get_loop": "import asyncio\nQ = type(asyncio.Queue())\nx = getattr(Q(), '_get_loop')()",
    "task get_coro": "import asyncio\nt = asyncio.create_task(asyncio.sleep(0))\nc = t.get_coro()",
    "namespace class call": "T = type(tools)\nx = T('os', 'os', {}, {})",
    "namespace stub globals": "g = tools.echo.__globals__",
    "function type without code": "F = type(print)\nf = F(None, {})",
    "mro of int": "m = int.mro()",
    "mro via getattr": "m = getattr(type(1), 'mro')()",
    "facade number base class via mro": "import decimal\nD = decimal.Decimal.mro()[1]",
    "super subclasses": "x = super(type, type).__subclasses__()",
    "getattr super dunder": "class A:\n    def f(self):\n        return getattr(super(), '__class__')\nA().f()",
    "object reduce": "x = getattr(1, '__reduce_ex__')(2)",
    # -- str.format and format specs -------------------------------------------------------------------
    "format item then attribute": "s = '{0[0].__class__}'.format([1])",
    "format public attribute": "s = '{0.real}'.format(1)",
    "format nested width": "s = '{!r:{}}'.format(1, 10 ** 9)",
    "format builtin huge width": "s = format(1, '9999999999')",
    "f-string huge width": "w = 10 ** 9\ns = f'{1:>{w}}'",
    "percent star width": "s = '%*s' % (10 ** 9, 'a')",
    "percent precision": "s = '%.999999999f' % 1.0",
    "strftime width": "import datetime\ns = datetime.date.today().strftime('%10000000000d')",
    "string template": "import string\nt = string.Template('$x')",
    # -- classes, metaclasses, descriptors -----------------------------------------------------------------
    "set_name hook": "class A:\n    def __set_name__(self, owner, name):\n        pass",
    "class_getitem hook": "class A:\n    def __class_getitem__(cls, item):\n        pass",
    "getattribute hook": "class A:\n    def __getattribute__(self, name):\n        return 1",
    "del finalizer": "class A:\n    def __del__(self):\n        pass",
    "descriptor get": "class D:\n    def __get__(self, obj, owner):\n        return 1",
    "repr override": "class A:\n    def __repr__(self):\n        return 'x'",
    "str override by setattr": "class E(Exception):\n    pass\nsetattr(E, '__str__', lambda s: 'x')",
    "format override by class body": "class A:\n    __format__ = None",
    "decimal subclass huge": "import decimal\nclass D(decimal.Decimal):\n    pass\nx = D('1e100000000')",
    # -- modules, files, secrets --------------------------------------------------------------------------
    "from time import": "from time import time",
    "import pathlib": "import pathlib\nx = pathlib.Path('/proc/self/environ').read_text()",
    "import sys": "import sys\nx = sys.modules",
    "uuid getnode": "import uuid\nx = uuid.getnode()",
    "uuid1 mac": "import uuid\nx = uuid.uuid1()",
    "hashlib file digest": "import hashlib\nx = hashlib.file_digest",
    "base64 file encode": "import base64\nx = base64.encode",
    "random system": "import random\nx = random.SystemRandom",
    "decimal getcontext": "import decimal\nc = decimal.getcontext()",
    "decimal localcontext": "import decimal\nc = decimal.localcontext()",
    "textwrap wrapper class": "import textwrap\nw = textwrap.TextWrapper",
    "collections abc": "import collections\nx = collections.abc",
    "statistics normal dist": "import statistics\nx = statistics.NormalDist",
    "json scanner": "from json import scanner",
    "math loader": "import math\nx = math.__loader__",
    "tool_namespaces write": "__tool_namespaces = 1",
    # -- limits: memory and size ------------------------------------------------------------------------
    "decimal huge exponent": "import decimal\nx = decimal.Decimal('1e999999999')",
    "decimal tiny exponent": "import decimal\nx = decimal.Decimal('1e-999999999')",
    "decimal long digits": "import decimal\nx = decimal.Decimal('1' * 1000000)",
    "decimal tuple exponent": "import decimal\nx = decimal.Decimal((0, (1,), 999999999))",
    "decimal via type of result": "import decimal\nD = type(decimal.Decimal(1) + 1)\nx = D('1e999999999')",
    "fraction huge exponent": "import fractions\nx = fractions.Fraction('1e1000000000')",
    "fraction via type of result": "import fractions\nF = type(fractions.Fraction(1, 2) * 2)\nx = F('1e100000000')",
    "fraction of huge ints": "import fractions\nx = fractions.Fraction(int('f' * 4000000, 16), 3)",
    "fraction squaring": "import fractions\nf = fractions.Fraction(3, 2)\nfor _ in range(40):\n    f = f * f",
    "round huge negative digits": "x = round(5, -10 ** 8)",
    "from_bytes huge": "x = int.from_bytes(b'\\xff' * 5000000, 'big')",
    "from_bytes on instance": "x = (5).from_bytes(b'\\xff' * 5000000, 'big')",
    "big floor division": HEX + "z = x // y",
    "big modulo": HEX + "z = x % y",
    "big divmod": HEX + "z = divmod(x, y)",
    "big augmented floor division": HEX + "x //= y",
    "big isqrt": HEX + "import math\nz = math.isqrt(x)",
    "big gcd": HEX + "import math\nz = math.gcd(x, y)",
    "big modular inverse": HEX + "z = pow(3, -1, x)",
    "big statistics": HEX + "import statistics\nz = statistics.mean([x, y])",
    "namedtuple huge": "import collections\nA = collections.namedtuple('A', ['f' + str(i) for i in range(200000)])",
    "integer result over 64 bits": "return 2 ** 100",
    "power tower": "x = 10 ** 10 ** 10",
    "factorial bomb": "import math\nx = math.factorial(10 ** 7)",
    "list of huge range": "x = list(range(10 ** 9))",
    # -- catastrophic regular expressions -------------------------------------------------------------------
    "regex nested plus": "import re\nx = re.match('(a+)+$', 'a' * 40 + 'b')",
    "regex overlapping alternation": "import re\nx = re.compile('(a|aa)*c').search('a' * 60)",
    "regex identical alternation": "import re\nx = re.findall('(a|a)*b', 'a' * 50)",
    "regex nested star fullmatch": "import re\nx = re.fullmatch('(a*)*b', 'a' * 50)",
    "regex words then end": "import re\nx = re.search(r'(\\w+\\s?)*$', 'word ' * 20 + '!')",
    "regex lookahead nested": "import re\nx = re.search('(?=(a+)+$)', 'a' * 40 + 'b')",
    "regex polynomial": "import re\nx = re.search(r'\\d+\\d+\\d+x', '1' * 5000)",
    "regex quadratic long": "import re\nx = re.search(r'\\d+-', '1' * 1000000)",
    "regex backreference": "import re\nx = re.search(r'(.*)\\1x', 'a' * 100000)",
    "regex fixed exponential": "import re\nx = re.match('(?:a|a)' * 60 + 'b', 'a' * 60)",
    "regex via match re": "import re\nm = re.match('(a+)+$', 'aaa')\nx = m.re.match('a' * 40 + 'b')",
    "regex via getattr re": "import re\nm = re.match('(a+)+$', 'aaa')\nx = getattr(m, 're').match('a' * 40 + 'b')",
    "regex sub": "import re\nx = re.sub('(a+)+$', '', 'a' * 40 + 'b')",
    "regex split": "import re\nx = re.split('(a+)+$', 'a' * 40 + 'b')",
    "regex finditer": "import re\nx = list(re.compile('(a+)+$').finditer('a' * 40 + 'b'))",
    "regex bytes": "import re\nx = re.match(b'(a+)+$', b'a' * 40 + b'b')",
    "regex recompile checked": "import re\np = re.compile('(a+)+$')\nx = re.compile(p).match('a' * 40 + 'b')",
    # -- C-stack depth: nested native iterators ----------------------------------------------------------
    "nested map": "it = iter([1])\nfor _ in range(200000):\n    it = map(abs, it)\nx = next(it)",
    "nested filter": "it = iter([1])\nfor _ in range(200000):\n    it = filter(None, it)\nx = next(it)",
    "nested zip": "it = iter([1])\nfor _ in range(200000):\n    it = zip(it)\nx = next(it)",
    "nested enumerate": "it = iter([1])\nfor _ in range(200000):\n    it = enumerate(it)\nx = next(it)",
    "nested chain": (
        "import itertools\nit = iter([1])\nfor _ in range(200000):\n    it = itertools.chain(it)\nx = next(it)"
    ),
    "nested chain from_iterable": (
        "import itertools\nit = iter([1])\nfor _ in range(200000):\n"
        "    it = itertools.chain.from_iterable([it])\nx = next(it)"
    ),
    "nested islice": (
        "import itertools\nit = iter([1])\nfor _ in range(200000):\n    it = itertools.islice(it, 5)\nx = next(it)"
    ),
    "nested tee": (
        "import itertools\nit = iter([1])\nfor _ in range(200000):\n    it = itertools.tee(it, 1)[0]\nx = next(it)"
    ),
    "nested starmap": (
        "import itertools\nit = iter([(1,)])\nfor _ in range(200000):\n"
        "    it = itertools.starmap(lambda v: (v,), it)\nx = next(it)"
    ),
    "nested json": "import json\nx = json.loads('[' * 100000 + ']' * 100000)",
    "huge program": "x = [" + "1," * 160000 + "]",
}

STOPPED: dict[str, str] = {
    # -- the stop cannot be swallowed, outlived or hidden ---------------------------------------------
    "except BaseException in a loop": (
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    ),
    "finally spins": "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass",
    "bare except re-enters": (
        "while True:\n    try:\n        while True:\n            pass\n    except:\n        continue"
    ),
    "cancellation swallowed in a task": (
        "import asyncio\nasync def w():\n    while True:\n        try:\n            await asyncio.sleep(10)\n"
        "        except asyncio.CancelledError:\n            pass\n"
        "t = asyncio.create_task(w())\nawait asyncio.sleep(100)"
    ),
    "sorted key spins": "def k(x):\n    while True:\n        pass\nsorted([1, 2], key=k)",
    "max key spins": "def k(x):\n    while True:\n        pass\nmax([1, 2], key=k)",
    "json default spins": "import json\ndef d(o):\n    while True:\n        pass\njson.dumps(object(), default=d)",
    "wait_for forever": "import asyncio\nawait asyncio.wait_for(asyncio.Event().wait(), None)",
    "gather swallowing": (
        "import asyncio\nasync def w():\n    while True:\n        try:\n            await asyncio.sleep(1)\n"
        "        except BaseException:\n            pass\nawait asyncio.gather(w(), w())"
    ),
    "memory growth in small steps": "x = []\nwhile True:\n    x.append([0] * 100000)",
    "join of a generator": "s = ''.join(str(i) for i in range(10 ** 9))",
    "dict fromkeys long range": "d = dict.fromkeys(range(10 ** 9))",
}
