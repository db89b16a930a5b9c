"""pathad.forward_source: the lecture's statement doubling on Python source (CS701 notes, §2).

The generated functions are checked against tracing + a sweep and against the
complex step on the worked examples and on random programs with loops and
branches; every construct outside the subset is refused with its line; the
generated text is valid Python that ruff accepts.
"""

import ast
import itertools
import linecache
import math
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pathad
from pathad import ExpressionError, forward_source

_FILES = itertools.count()


def load(source, **names):
    """Run program text as a module (registered with linecache, as a file would be); its namespace."""
    filename = f"<test_transform {next(_FILES)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np, "math": math, "pathad": pathad, "_re": lambda z: z.real, **names}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def traced_derivative(f, wrt, *args):
    names = list(f.__code__.co_varnames[: f.__code__.co_argcount])
    position = names.index(wrt)

    def of_wrt(t):
        values = list(args)
        values[position] = t
        return f(*values)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pathad.derivative(pathad.trace(of_wrt, args[position]), "t")


def complex_step(f, wrt, *args, h=1e-30):
    names = list(f.__code__.co_varnames[: f.__code__.co_argcount])
    values = list(args)
    position = names.index(wrt)
    values[position] = complex(values[position], h)
    return complex(f(*values)).imag / h


def close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-3)


# --- the lecture's Prod (Examples 2.1, 2.2) ----------------------------------------------------

PROD = """\
def f(i, x):
    if i == 1:
        return np.sin(x)
    elif i == 2:
        return np.exp(x)
    elif i == 3:
        return x**2
    else:
        return np.cos(x)


def prod(x, k):
    ans = 1.0
    for i in range(1, k + 1):
        ans = ans * f(i, x)
    return ans
"""

PROD_PRIME = '''\
def d_prod(x, k, d_x=1.0):
    """The derivative of prod along d_x (by default d prod/dx), by statement doubling."""
    d_ans = 0.0
    ans = 1.0
    for i in range(1, k + 1):
        d_ans = d_ans * f(i, x) + ans * d_f(i, x, d_x)
        ans = ans * f(i, x)
    return d_ans
'''


def test_prod_prime_has_the_structure_of_example_2_1():
    d = forward_source(load(PROD)["prod"], wrt="x")
    assert d.source.startswith("from pathad.primitives import FLOAT as m\n\n\n" + PROD_PRIME)
    assert "def d_f(i, x, d_x):" in d.source  # f′_i generated from f_i by the same transformation
    assert d.name == "d_prod" and set(d.functions) == {"d_prod", "d_f"} and repr(d) == d.source.rstrip()


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_prod_prime_is_the_sum_of_products_of_example_2_2(k):
    program = load(PROD)
    prod, d_prod = program["prod"], forward_source(program["prod"])
    x = 0.7
    fs = [math.sin(x), math.exp(x), x * x, math.cos(x)][:k]
    dfs = [math.cos(x), math.exp(x), 2 * x, -math.sin(x)][:k]
    lecture = sum(dfs[i] * math.prod(fs[j] for j in range(k) if j != i) for i in range(k))
    assert close(d_prod(x, k), lecture, 1e-14)
    assert close(d_prod(x, k), traced_derivative(prod, "x", x, k), 1e-14)
    assert close(d_prod(x, k), complex_step(prod, "x", x, k), 1e-14)


# --- worked examples against tracing and the complex step ------------------------------------------

WORKED = {
    "h": (
        """\
def h(x, y):
    a = x + 4 * y
    b = (x + y) * y
    return a * b
""",
        [(3.0, 5.0)],
    ),
    "loop_sum": (
        """\
def loop_sum(x, n):
    s = 0.0
    for i in range(n):
        s += np.sin(i * x) / (i + 1)
    return s * x
""",
        [(0.4, 5), (-1.3, 3)],
    ),
    "branch": (
        """\
def branch(x, c):
    if x * c > 1.0:
        y = np.exp(x) / c
    elif x > 0:
        y = np.sqrt(x) * c
    else:
        y = -x ** 3
    return y * y
""",
        [(2.0, 1.5), (0.3, 1.5), (-0.8, 1.5)],
    ),
    "newton_sqrt": (
        """\
def newton_sqrt(x, steps):
    r = 1.0
    j = 0
    while j < steps:
        r = (r + x / r) / 2
        j += 1
    return r
""",
        [(2.0, 6), (9.0, 8)],
    ),
    "helper": (
        """\
def sq(u):
    return u * u


def g(u, v):
    w = sq(u) + np.tanh(v)
    return w * v


def helper(x, y):
    t = g(x, y) + g(y, x * x)
    t *= sq(np.cos(t))
    return t - g(2.0, y)
""",
        [(0.5, 1.2), (-0.7, 0.3)],
    ),
    "lists": (
        """\
def lists(x, cs):
    total = 0.0
    for c in cs:
        total = total + c * x
    for p in [x, x * x, 2.5]:
        total = total * p + 1.0
    xs = [np.log(x), x]
    a, b = xs[0], xs[1]
    a, b = b, a + b
    return total + a * b + sum(xs)
""",
        [(1.3, [1.0, -2.0, 0.5])],
    ),
}


@pytest.mark.parametrize("name", sorted(WORKED))
def test_worked_examples_match_tracing_and_the_complex_step(name):
    source, points = WORKED[name]
    f = load(source)[name]
    parameters = f.__code__.co_varnames[: f.__code__.co_argcount]
    for wrt in parameters:
        for point in points:
            if not isinstance(point[parameters.index(wrt)], float):
                continue
            d = forward_source(f, wrt=wrt)
            ours = d(*point)
            assert close(ours, traced_derivative(f, wrt, *point)), (wrt, point, d.source)
            if name != "branch":  # comparisons do not take complex numbers
                assert close(ours, complex_step(f, wrt, *point)), (wrt, point, d.source)


def test_h_is_the_lecture_s_155_and_459():
    f = load(WORKED["h"][0])["h"]
    assert forward_source(f, wrt="x")(3.0, 5.0) == 155.0
    assert forward_source(f, wrt="y")(3.0, 5.0) == 459.0


def test_the_derivative_of_a_constant_is_zero_and_unused_companions_are_not_written():
    f = load("def f(x, n):\n    m = n * 2\n    y = x * 3.0\n    if y > 1:\n        return 3.0\n    return float(n)\n")[
        "f"
    ]
    d = forward_source(f)
    assert d(1.0, 2) == 0.0 and d(0.1, 2) == 0.0
    assert "d_y" not in d.source and "d_m" not in d.source  # y feeds a test only; m is an integer


def test_direction_and_names_from_math_numpy_pathad_and_builtins():
    f = load("""\
from math import atan2 as angle


def f(x, y):
    return math.sin(x) * np.exp(y) + pathad.sigmoid(x * y) + angle(y, x) + max(x, y) + abs(y) + x ** y
""")["f"]
    d = forward_source(f, wrt="y")
    x, y = 0.8, 1.4
    expected = (math.sin(x) * math.exp(y) + x * math.exp(-x * y) / (1 + math.exp(-x * y)) ** 2
                + x / (x * x + y * y) + 1.0 + 1.0 + x ** y * math.log(x))  # fmt: skip
    assert close(d(x, y), expected, 1e-13)
    assert close(d(x, y, d_y=2.0), 2 * expected, 1e-13)


def test_globals_are_read_when_the_generated_function_runs():
    program = load("K = 2.0\n\n\ndef f(x):\n    return K * x * x\n")
    d = forward_source(program["f"])
    assert d(3.0) == 12.0
    program["K"] = 5.0
    assert d(3.0) == 30.0


def test_the_partials_come_from_the_primitive_table():
    d = forward_source(load("def f(x):\n    return np.tanh(x) + np.sqrt(x) + np.arcsin(x / 2)\n")["f"])
    assert "m.sech2(x) * d_x" in d.source  # the table's rule for tanh, not 1 - tanh²
    assert "d_x / (2 * np.sqrt(x))" in d.source  # sqrt's 1/(2r), r being the call itself
    assert "m.sqrt(1 - x / 2 * (x / 2))" in d.source  # arcsin's 1/√(1 - a²)


# --- random programs with loops and branches -------------------------------------------------------

FUNCTIONS = ["np.sin", "np.cos", "np.tanh"]


@st.composite
def programs(draw):
    """Source text of def f(x, y) with assignments, augmented assignments, for, while, if, a helper call."""
    counter = itertools.count()

    def expression(names, depth):
        choice = draw(st.integers(0, 5 if depth < 2 else 1))
        if choice == 0:
            return draw(st.sampled_from(names))
        if choice == 1:
            return draw(st.sampled_from(["0.5", "1.5", "2.0", "y"]))
        if choice == 2:
            op = draw(st.sampled_from(["+", "-", "*"]))
            return f"({expression(names, depth + 1)} {op} {expression(names, depth + 1)})"
        if choice == 3:
            return f"{draw(st.sampled_from(FUNCTIONS))}({expression(names, depth + 1)})"
        if choice == 4:
            return f"({expression(names, depth + 1)} / (1.5 + {expression(names, depth + 1)} ** 2))"
        return f"g({expression(names, depth + 1)}, {expression(names, depth + 1)})"

    def block(names, indent, depth):
        lines = []
        names = list(names)
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.integers(0, 5 if depth < 2 else 1))
            pad = "    " * indent
            if kind == 0:
                target = draw(st.sampled_from([*names, f"v{next(counter)}"]))
                lines.append(f"{pad}{target} = {expression(names, 0)}")
                if target not in names:
                    names.append(target)
            elif kind == 1:
                op = draw(st.sampled_from(["+=", "-=", "*="]))
                lines.append(f"{pad}{draw(st.sampled_from(names))} {op} np.tanh({expression(names, 0)})")
            elif kind == 2:
                i = f"i{next(counter)}"
                lines.append(f"{pad}for {i} in range({draw(st.integers(0, 3))}):")
                lines += block([*names, i], indent + 1, depth + 1)
            elif kind == 3:
                test = expression(names, 1)
                lines.append(f"{pad}if {test} > {draw(st.sampled_from(['0.0', '0.3', '-0.5']))}:")
                lines += block(names, indent + 1, depth + 1)
                lines.append(f"{pad}else:")
                lines += block(names, indent + 1, depth + 1)
            elif kind == 4:
                j = f"j{next(counter)}"
                lines.append(f"{pad}{j} = 0")
                lines.append(f"{pad}while {j} < {draw(st.integers(0, 3))}:")
                lines += block(names, indent + 1, depth + 1)
                lines.append(f"{pad}    {j} += 1")
            else:
                lines.append(f"{pad}for c in [{expression(names, 1)}, 0.5, {expression(names, 1)}]:")
                lines += block([*names, "c"], indent + 1, depth + 1)
        return lines

    body = block(["x", "v"], 1, 0)
    returned = expression(["x", "v"], 1)
    return "\n".join(["def f(x, y):", "    v = x * y", *body, f"    return {returned} + v * x"])


HELPER = "def g(u, w):\n    return np.sin(u) * w + u / (1.0 + w * w)\n\n\n"


def _complex_version(source):
    """The same program with each test on real parts (complex numbers do not compare)."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("if ") and stripped.endswith(":"):
            test, bound = stripped[3:-1].rsplit(" > ", 1)
            line = f"{line[: len(line) - len(stripped)]}if _re({test}) > {bound}:"
        lines.append(line)
    return "\n".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.floats(-1.5, 1.5), st.floats(0.2, 1.5))
def test_random_programs_match_tracing_and_the_complex_step(source, x, y):
    f = load(HELPER + source)["f"]
    with np.errstate(all="ignore"):
        value = f(x, y)
    assume(math.isfinite(value) and abs(value) < 1e50)
    d = forward_source(f)
    ours = d(x, y)
    assert close(ours, traced_derivative(f, "x", x, y), 1e-8), d.source
    f_complex = load(HELPER + _complex_version(source))["f"]
    assert close(ours, complex_step(f_complex, "x", x, y), 1e-8), d.source
    ast.parse(d.source)
    if "y" in source:
        assert close(forward_source(f, wrt="y")(x, y), traced_derivative(f, "y", x, y), 1e-8)


# --- outside the subset: refused, naming the line and the construct -------------------------------

REFUSED = [
    ("    with open('f') as h:\n        y = x\n", 2, "'with' statement"),
    ("    try:\n        y = x\n    except ValueError:\n        y = 0.0\n", 2, "'try' statement"),
    ("    g = lambda t: t * x\n", 2, "lambda"),
    ("    ys = [t * x for t in range(3)]\n", 2, "list comprehension"),
    ("    s = sum(t * x for t in range(3))\n", 2, "generator expression"),
    ("    global G\n", 2, "'global' statement"),
    ("    class C:\n        pass\n", 2, "class definition"),
    ("    def inner(t):\n        return t\n", 2, "nested function definition"),
    ("    yield x\n", 2, "'yield'"),
    ("    import os\n", 2, "import"),
    ("    del x\n", 2, "'del' statement"),
    ("    if (y := x) > 0:\n        pass\n", 2, "assignment expression"),
    ("    y = 1.0\n    y.attr = x\n", 3, "attribute"),
    ("    ys = [0.0, 1.0]\n    ys[0] = x\n", 3, "item"),
    ("    y = x\n    y += 1\n    return unknown(y)\n", 4, "not defined"),
    ("    y = print(x)\n", 2, "the call of print"),
    ("    n = int(x)\n", 2, "int() of a value that depends on x"),
    ("    for i in range(int(x)):\n        pass\n", 2, "range() of a value that depends on x"),
    ("    n = 2.0 * x\n    for i in range(n):\n        pass\n", 3, "range() of a value that depends on x"),
    ("    y = x and 2.0\n", 2, "'and'/'or'"),
    ("    y = x @ x\n", 2, "operator"),
    ("    y = {x: 1}\n    return y\n", 2, "dict"),
    ("    return x, x\n", 2, "returning a tuple"),
    ("    return\n", 2, "return without a value"),
    ("    y = math.log(x, 2)\n", 2, "with 2 arguments"),
    ("    a, b = divmod(x, 2.0)\n", 2, "unpacking"),
    ("    y = x.real\n", 2, "attribute"),
]


@pytest.mark.parametrize("body, line, construct", REFUSED, ids=[r[2] for r in REFUSED])
def test_constructs_outside_the_subset_are_refused_with_line_and_construct(body, line, construct):
    program = load("\n\n\ndef f(x):\n" + body + "    return x\n")
    with pytest.raises(ExpressionError) as info:
        forward_source(program["f"])
    message = str(info.value)
    assert f"line {line + 3}" in message and construct in message and message.startswith("f (<test_transform")


def test_a_helper_outside_the_subset_is_named_with_its_own_line():
    program = load("def g(u):\n    with open('f'):\n        return u\n\n\ndef f(x):\n    return g(x) * 2\n")
    with pytest.raises(ExpressionError, match=r"^g \(<test_transform \d+>, line 2\): a 'with' statement"):
        forward_source(program["f"])


def test_what_is_not_a_function_or_not_a_parameter_is_refused():
    with pytest.raises(TypeError):
        forward_source(math.sin)
    with pytest.raises(ExpressionError, match="lambda"):
        forward_source(lambda x: x)
    with pytest.raises(ExpressionError, match="no parameter 'z'"):
        forward_source(load("def f(x):\n    return x\n")["f"], wrt="z")
    with pytest.raises(ExpressionError, match=r"line 1\): the parameter \*args"):
        forward_source(load("def f(x, *args):\n    return x\n")["f"])
    with pytest.raises(ExpressionError, match="not available"):
        namespace = {}
        exec("def f(x):\n    return x\n", namespace)
        forward_source(namespace["f"])


# --- the generated text is valid Python that ruff accepts ----------------------------------------


def _ruff():
    if shutil.which("ruff"):
        return ["ruff"]
    probe = subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True)
    return [sys.executable, "-m", "ruff"] if probe.returncode == 0 else None


@pytest.mark.parametrize("name", sorted(WORKED) + ["prod"])
def test_the_generated_source_parses_and_ruff_accepts_it(name, tmp_path):
    source = PROD if name == "prod" else WORKED[name][0]
    program = load(source)
    d = forward_source(program[name])
    ast.parse(d.source)
    compile(d.source, "generated", "exec")
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed")
    path = tmp_path / "generated.py"
    path.write_text(d.source)
    free = sorted({"np", "math", "pathad", *(n for n in program if not n.startswith("__"))})
    result = subprocess.run(
        [*ruff, "check", "--no-cache", "--isolated", "--select", "E,F,W,B,I,UP", "--ignore", "B905",  # as pyproject
         "--line-length", "120", "--config", f"builtins = {free!r}".replace("'", '"'), str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr + d.source
