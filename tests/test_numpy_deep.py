"""The numpy backend on deep graphs: narrow levels go node by node (rows of numpy, or Python floats), never
changing a bit; deep replays equal re-tracing and the numba backend; domain errors still name the node."""

import math
import random

import networkx as nx
import numpy as np
import pytest

import pathad
import pathad.compiled.program as program_module
import pathad.compiled.schedule as schedule_module
from pathad import DomainError
from pathad.compiled import compile, numba_available
from pathad.compiled.schedule import ARRAY_SEMIRINGS, Schedule, levels, ranked_levels
from pathad.compiled.sweeps import sweep

NUMBA = pytest.mark.skipif(not numba_available(), reason="numba is not installed (pip install pathad[fast])")
NUMERIC = ("real", "boolean", "counting", "max-times", "min-plus", "max-plus")
HUGE = 1e9


# --- programs --------------------------------------------------------------------------------------


def squash(u):
    return pathad.tanh(u) * 0.9


def every_op(u, v):
    """Each primitive once, on arguments inside its domain for u, v in (-0.9, 0.9); the result back in there."""
    p = 1.5 + u  # in (0.6, 2.4)
    terms = [
        u + v, u - v, u * v, u / p, p**1.3, 2.0**u, (u + 2.0) % 0.7, (u + 2.0) // 0.7, pathad.fmod(u, 0.7),
        pathad.arctan2(u, p), pathad.hypot(u, v), pathad.logaddexp(u, v), pathad.logaddexp2(u, v),
        pathad.maximum(u, v), pathad.minimum(v, u), pathad.copysign(p, v), pathad.heaviside(u, 0.5),
        pathad.round(u, 2), -u, abs(u), pathad.exp(u), pathad.log(p), pathad.sqrt(p), pathad.sin(u),
        pathad.cos(u), pathad.tan(u), pathad.tanh(u), pathad.sigmoid(u), pathad.relu(u), pathad.softplus(u),
        pathad.erf(u), pathad.arcsin(0.9 * u), pathad.arccos(0.9 * u), pathad.arctan(u), pathad.sinh(u),
        pathad.cosh(u), pathad.arcsinh(u), pathad.arccosh(p + 0.5), pathad.arctanh(0.9 * u), pathad.log2(p),
        pathad.log10(p), pathad.log1p(u), pathad.exp2(u), pathad.expm1(u), pathad.square(u),
        pathad.reciprocal(p), pathad.cbrt(p), pathad.deg2rad(u), pathad.rad2deg(u), pathad.sign(u),
        pathad.floor(u), pathad.ceil(u), pathad.trunc(u), pathad.rint(u),
    ]  # fmt: skip
    total = terms[0]
    for t in terms[1:]:
        total = total * 0.5 + t * 0.1
    return squash(total)


def mixed(x, y, steps=6, width=48):
    """Deep runs of every op, and between them a wide level (``width`` independent nodes) and a loop sum."""
    u, v = squash(x), squash(y)
    for step in range(steps):
        u, v = every_op(u, v), squash(u * v + 0.25)
        if step % 3 == 1:
            wide = [pathad.sin(u * (i + 1)) * v for i in range(width)]
            s = wide[0]
            for w in wide[1:]:
                s = s + w
            v = squash(s * 0.05)
    return u + v


def chain_program(n_ops, window, seed=0):
    """benchmarks/bench_core.py's straight-line programs: averages, products and relus of recent values."""
    rng = random.Random(seed)
    steps = []
    for k in range(2, n_ops + 2):
        op = rng.choice(("average", "mul", "relu"))
        i = k - 1 if window <= 2 else k - 1 - rng.randrange(min(k, window))
        steps.append((op, i, k - 1 - rng.randrange(min(k, window))))

    def f(x, y):
        values = [x, y]
        for op, i, j in steps:
            a, b = values[i], values[j]
            values.append((a + b) * 0.5 if op == "average" else a * b if op == "mul" else pathad.relu(a))
        return values[-1]

    return f


def sin_chain(x, y, steps=600):
    for _ in range(steps):
        x = pathad.sin(x) * 1.0001 + 0.1 * x
    return x * y


def rooted_chain(x, y, steps=800):
    """Every node with two incoming edges: a deep forward sweep made of roots."""
    for _ in range(steps):
        x = x * 0.5 + pathad.sin(x * x) * y
    return x


PROGRAMS = {
    "chain": chain_program(1500, 2),
    "dag": chain_program(1500, 16),
    "sin": sin_chain,
    "rooted": rooted_chain,
    "mixed": mixed,
}


def force_forward(monkeypatch, way):
    """Make every level of the numpy replay go ``way``: "groups", "rows" or "scalar"."""
    costs = {"groups": ("_ROW_COST", "_SCALAR_COST"), "rows": ("_GROUP_COST", "_SCALAR_COST"),
             "scalar": ("_GROUP_COST", "_ROW_COST")}[way]  # fmt: skip
    for name in costs:
        monkeypatch.setattr(program_module, name, HUGE)
    monkeypatch.setattr(program_module, "_ROWS_FROM", 10**9)


def force_sweep(monkeypatch, way):
    """Make every level of the numpy sweeps go ``way``: "numpy", "rows" or "python"."""
    costs = {"numpy": ("_ROW_COST", "_PYTHON_COST"), "rows": ("_LEVEL_COST", "_PYTHON_COST"),
             "python": ("_LEVEL_COST", "_ROW_COST")}[way]  # fmt: skip
    for name in costs:
        monkeypatch.setattr(schedule_module, name, HUGE if name != "_LEVEL_COST" else HUGE * 10)
    monkeypatch.setattr(schedule_module, "_ROWS_FROM", 10**9)
    if way == "numpy":
        monkeypatch.setattr(schedule_module, "_LEVEL_COST", 0.0)


def points(batch, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.8, 0.8, size=(2, batch))


def replay(tr, batch):
    tape = compile(tr, backend="numpy")
    at = points(batch)
    values = tape._program.forward_values(at)
    grads = tape.gradient(*at) if batch > 1 else tape.gradient(*at[:, 0])
    return values, grads


# --- every way of evaluating a level gives the same bits ---------------------------------------------


@pytest.mark.parametrize("batch", [1, 3, 17])
def test_groups_rows_and_python_floats_give_the_same_bits(monkeypatch, batch):
    tr = pathad.trace(mixed, 0.3, -0.2)
    found = {}
    for way in ("groups", "rows", "scalar"):
        with monkeypatch.context() as m:
            force_forward(m, way)
            program = compile(tr, backend="numpy")._program
            program._plan_numpy()
            kinds = {type(step).__name__ for step in program._forward_plan(batch).steps}
            assert kinds == {"groups": {"_GroupStep"}, "rows": {"_RowSegment"}, "scalar": {"_ScalarSegment"}}[way]
            found[way] = replay(tr, batch)
    default = replay(tr, batch)
    for way, (values, grads) in [*found.items(), ("default", default)]:
        assert np.array_equal(values, found["groups"][0]), way
        assert all(np.array_equal(grads[k], found["groups"][1][k]) for k in grads), way


def test_the_default_plans_go_node_by_node_where_levels_are_narrow():
    tr = pathad.trace(mixed, 0.3, -0.2)
    program = compile(tr, backend="numpy")._program
    program._plan_numpy()
    one = [type(step).__name__ for step in program._forward_plan(1).steps]
    many = [type(step).__name__ for step in program._forward_plan(100).steps]
    assert "_ScalarSegment" in one and "_GroupStep" in one  # the wide levels stay grouped
    assert "_RowSegment" in many and "_GroupStep" in many and "_ScalarSegment" not in many
    chain = compile(pathad.trace(PROGRAMS["chain"], 0.3, -0.7), backend="numpy")
    chain._program._plan_numpy()
    assert [type(s).__name__ for s in chain._program._forward_plan(1).steps] == ["_ScalarSegment"]
    plan = chain._plan_from([chain.outputs[0]], False)
    assert {way for _, _, way in plan.steps(1)} == {"python"}
    by_rows = sum(hi - lo for lo, hi, way in plan.steps(100) if way == "rows")
    assert by_rows > 0.9 * plan.depth  # the few levels of ten numbers or more stay in numpy


def test_plans_do_not_flap_between_ways_from_level_to_level():
    """A chain whose levels cost alike either way (a batch of 2, 3, ...) is still one segment, one run."""
    tape = compile(pathad.trace(sin_chain, 0.3, 0.5), backend="numpy")
    tape._program._plan_numpy()
    plan = tape._plan_from([tape.outputs[0]], False)
    for batch in range(1, 20):
        assert len(tape._program._forward_plan(batch).steps) == 1, batch
        assert len(plan.steps(batch)) == 1, batch


def test_a_loop_sum_stays_one_cumulative_sum():
    def loop_sum(*xs):
        total = 0.0
        for i, x in enumerate(xs):
            total = total + x * (i % 7 - 3.0)
        return total * total

    tape = compile(pathad.trace(loop_sum, *np.linspace(-1, 1, 400)), backend="numpy")
    tape._program._plan_numpy()
    for batch in (1, 100):
        steps = tape._program._forward_plan(batch).steps
        assert any(isinstance(s, program_module._GroupStep) and s.buckets for s in steps)


# --- deep replays equal re-tracing and numba --------------------------------------------------------


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_deep_replays_equal_tracing_again(name):
    f = PROGRAMS[name]
    tape = compile(pathad.trace(f, 0.3, -0.2), backend="numpy")
    at = points(5, seed=1)
    batch_values, batch_grads = tape.evaluate(*at), tape.gradient(*at)
    for b in range(at.shape[1]):
        x, y = at[:, b]
        fresh = pathad.trace(f, x, y)
        expected = pathad.gradient(fresh)
        one = tape.gradient(x, y)
        assert math.isclose(tape.evaluate(x, y), fresh.value, rel_tol=1e-12, abs_tol=1e-300)
        assert math.isclose(batch_values[b], fresh.value, rel_tol=1e-12, abs_tol=1e-300)
        for k in expected:
            assert math.isclose(one[k], expected[k], rel_tol=1e-9, abs_tol=1e-12), (k, one[k], expected[k])
            assert one[k] == batch_grads[k][b]  # alone or in a batch: the same bits


@NUMBA
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_deep_replays_equal_numba(name):
    tr = pathad.trace(PROGRAMS[name], 0.3, -0.2)
    plain, fast = compile(tr, backend="numpy"), compile(tr, backend="numba")
    at = points(4, seed=2)
    for args in (at[:, 0], at):
        a, b = plain.gradient(*args), fast.gradient(*args)
        assert all(np.allclose(a[k], b[k], rtol=1e-9, atol=1e-12) for k in a)
        assert np.allclose(plain.evaluate(*args), fast.evaluate(*args), rtol=1e-12, atol=0)


# --- sweeps: numpy levels, rows and Python numbers agree ----------------------------------------------


def deep_dag(n, window, seed, zeros=True):
    """A DiGraph-like MultiDiGraph on 0..n-1: each node takes 1-3 edges from its ``window`` predecessors."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    for v in range(1, n):
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            u = v - 1 - rng.randrange(min(v, window))
            w = rng.choice((0.0, -0.5, 1.5, 2.0)) if zeros else rng.uniform(-1.5, 1.5)
            G.add_edge(u, v, partial=w, weight=rng.choice((1.0, 2.0, 3.0)))
    return G


@pytest.mark.parametrize("seed", range(4))
def test_sweep_ways_agree_on_every_semiring(monkeypatch, seed):
    G = deep_dag(300, 3 + 4 * seed, seed, zeros=seed % 2 == 0)
    starts = {"forward": [0, 150], "backward": [299, 120]}  # a second seed inside: a forced root
    found = {}
    for way in ("numpy", "rows", "python"):
        with monkeypatch.context() as m:
            force_sweep(m, way)
            tape = compile(G, backend="numpy")
            for direction in ("forward", "backward"):
                ways = {w for _, _, w in tape._plan_from(starts[direction], direction == "forward").steps(1)}
                assert way in ways and ways <= {way, "numpy"}  # (a root of more than 8 edges stays in numpy)
                for semiring in NUMERIC:
                    result = tape.solve(starts[direction], direction=direction, semiring=semiring).values
                    found.setdefault((direction, semiring), []).append(result)
    for key, results in found.items():
        assert all(np.array_equal(r, results[0]) for r in results[1:]), key


@pytest.mark.parametrize("batch", [2, 5])
def test_sweep_ways_agree_on_a_batch(monkeypatch, batch):
    n = 400
    G = deep_dag(n, 6, 7)
    factors = np.random.default_rng(3).choice([0.0, 1.0, -2.0], size=(G.number_of_edges(), batch))
    found = []
    for way in ("numpy", "rows", "python"):
        with monkeypatch.context() as m:
            force_sweep(m, way)
            tape = compile(G, backend="numpy")
            weights = tape.partial[:, None] * factors
            plan = tape._plan_from([n - 1], False)
            found.append(sweep(plan, weights, [n - 1], ARRAY_SEMIRINGS["real"], batch))
    assert all(np.array_equal(f, found[0]) for f in found[1:])


def test_python_sweep_repeats_reduceat_on_roots_of_up_to_eight_edges():
    """A root with 2..8 incoming edges: numpy's add.reduceat adds the first term to the sum of the others."""
    G = nx.MultiDiGraph()
    rng = random.Random(5)
    for d in range(1, 9):
        for copy in range(20):
            root = f"r{d}_{copy}"
            for k in range(d):
                G.add_edge("s", f"m{root}_{k}", partial=rng.uniform(0.5, 2.0))
                G.add_edge(f"m{root}_{k}", root, partial=rng.uniform(-2.0, 2.0))
            G.add_edge(root, f"t{root}", partial=1.0)
    tape = compile(G, backend="numpy")
    plan = tape._plan_from([tape.position("s")], True)
    weights = tape.partial[:, None]
    ways = {}
    for cost in ("_PYTHON_COST", "_LEVEL_COST"):
        plan._steps.clear()
        old = getattr(schedule_module, cost)
        setattr(schedule_module, cost, 0.0)
        try:
            ways[cost] = sweep(plan, weights, [tape.position("s")], ARRAY_SEMIRINGS["real"])
        finally:
            setattr(schedule_module, cost, old)
    assert np.array_equal(ways["_PYTHON_COST"], ways["_LEVEL_COST"])


@NUMBA
def test_a_deep_forward_sweep_of_roots_equals_numba_and_the_generic_sweep():
    tr = pathad.trace(rooted_chain, 0.3, 0.5)
    plain, fast = compile(tr, backend="numpy"), compile(tr, backend="numba")
    a, b = plain.solve("x").values, fast.solve("x").values
    assert np.allclose(a, b, rtol=1e-9, atol=1e-300)
    generic = pathad.solve(tr, "x")
    assert math.isclose(a[tr.outputs[0]], generic[tr.outputs[0]], rel_tol=1e-9)


# --- domain errors in Python-float segments ------------------------------------------------------------


def fragile(x, y):
    u = x
    for _ in range(30):
        u = pathad.sin(u) * 1.0001 + 0.1 * u
    return pathad.log(u + y) + 1.0 / (u - y) + pathad.sqrt(y) + pathad.reciprocal(y - 0.5) * u


@pytest.mark.parametrize("y, op", [(-5.0, "log"), (0.5, "reciprocal"), (-0.25, "sqrt")])
def test_domain_errors_in_a_python_segment_name_the_node(monkeypatch, y, op):
    tr = pathad.trace(fragile, 0.3, 0.7)
    messages = {}
    for way in ("groups", "scalar"):
        with monkeypatch.context() as m:
            force_forward(m, way)
            tape = compile(tr, backend="numpy")
            for batch in (1, 2):
                xs, ys = (0.3, y) if batch == 1 else (np.array([0.3, 0.3]), np.array([0.7, y]))
                with pytest.raises(DomainError, match=f"{op} at node") as error:
                    tape.gradient(xs, ys)
                messages[way, batch] = str(error.value)
    assert messages["groups", 1] == messages["scalar", 1]
    assert messages["groups", 2] == messages["scalar", 2] and "batch element 1" in messages["scalar", 2]


def test_a_division_by_zero_is_inf_as_numpy_says():
    def f(x, y):
        u = x
        for _ in range(20):
            u = u * 0.5 + y
        return 1.0 / (u - 2.0 * y)  # Python's 1.0 / 0.0 raises; numpy's is inf

    tape = compile(pathad.trace(f, 0.3, 0.2), backend="numpy")
    with pytest.raises(DomainError, match=r"div at node .*: the result is inf"):
        tape.evaluate(0.8, 0.4)


# --- levels -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_ranked_levels_equal_kahns(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    tail = rng.integers(0, n - 1, size=3 * n)
    head = np.minimum(tail + rng.integers(1, 4 if seed % 2 else 50, size=3 * n), n - 1)
    keep = tail < head
    tail, head = tail[keep], head[keep]
    nodes = np.arange(n)
    plain = levels(n, tail, head, nodes)
    assert np.array_equal(ranked_levels(n, tail, head, nodes, np.arange(n)), plain)
    assert np.array_equal(levels(n, tail, head, nodes, rank=np.arange(n)), plain)
    assert np.array_equal(levels(n, tail, head, nodes, rank=-np.arange(n)), plain)  # not a rank: Kahn only


def test_a_cycle_is_still_found_with_a_rank():
    with pytest.raises(nx.NetworkXUnfeasible):
        levels(3, np.array([0, 1, 2]), np.array([1, 2, 1]), np.arange(3), rank=np.arange(3))


def test_schedule_levels_of_a_deep_chain_of_roots():
    n = 5000  # each node has two edges from its predecessor: every node a root, one per level
    src = np.repeat(np.arange(n - 1), 2)
    plan = Schedule(n, gather=src + 1, other=src)
    assert plan.depth == n and plan.root_nodes.tolist() == list(range(1, n))
    back = Schedule(n, gather=src, other=src + 1)
    assert back.depth == n and back.root_nodes.tolist() == list(range(n - 2, -1, -1))
