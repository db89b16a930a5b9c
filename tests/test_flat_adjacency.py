"""The sweeps read a trace's own tape: the same answers as on ``Trace.graph``, without building it.

The oracle is the sweep over the networkx graph, whose order is Kahn's; on the
tape the sweep takes the edges in the order tracing recorded them.  The same
terms are added at every node, in another order: the reals agree to rounding,
the other semirings (max, min, counting, or) exactly.
"""

import gc
import math
import random
import tracemalloc
import warnings

import networkx as nx
import pytest

import pathad
from pathad import DomainError, solve
from pathad.errors import MissingWeightError, UnknownNodeError
from pathad.semirings import SEMIRINGS, influence
from pathad.tracing import Tape, Trace, resolve_node

SEEDS = range(24)
RINGS = [name for name in SEMIRINGS if name != "symbolic"]  # symbolic reads an attribute traces do not have


def random_program(seed, steps=40):
    """A function of x, y, z: random bounded steps over earlier values (shared operands, x·x, constants,
    unary functions, dead code), returning a tuple of a few of them and, for some seeds, a constant."""
    rng = random.Random(seed)
    plan = []
    for k in range(steps):
        op = rng.choice(["add", "mul", "square", "sub_const", "scale", "tanh", "sin", "relu", "average", "div"])
        plan.append((op, rng.randrange(k + 3), rng.randrange(k + 3)))
    picks = sorted(rng.sample(range(3, steps + 3), 3))
    constant = seed % 5 == 0

    def program(x, y, z):
        values = [x, y, z]
        for op, i, j in plan:
            a, b = values[i], values[j]
            if op == "add":
                values.append((a + b) * 0.5)
            elif op == "mul":
                values.append(a * b)
            elif op == "square":
                values.append(a * a)  # two parallel edges
            elif op == "sub_const":
                values.append(0.25 - a)
            elif op == "scale":
                values.append(a * 0.75)
            elif op == "tanh":
                values.append(pathad.tanh(a))
            elif op == "sin":
                values.append(pathad.sin(a))
            elif op == "relu":
                values.append(pathad.relu(a))
            elif op == "average":
                values.append(pathad.maximum(a, b) * 0.5 + b * 0.5)
            else:
                values.append(a / (2.0 + b * b))
        outputs = tuple(values[p] for p in picks)
        return (*outputs, 3.0) if constant else outputs

    return program


def traced(seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pathad.trace(random_program(seed), 0.3, -0.6, 0.9)


def same(a, b):
    """The same nodes with the same values: floats to rounding (sums formed in another order), the rest exactly."""
    assert set(a) == set(b)
    for node, x in a.items():
        assert close(x, b[node]), (node, x, b[node])


def close(x, y):
    if isinstance(x, tuple) and isinstance(y, tuple) and len(x) == len(y):  # DUAL's pairs: each part
        return all(map(close, x, y))
    if isinstance(x, float) and isinstance(y, float) and x != y:
        return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-300)
    return x == y


def sweeps(tr):
    """(start, direction, targets) cases: forward from inputs, backward from outputs, with and without targets."""
    inputs, outputs = list(tr.inputs.values()), tr.outputs
    yield "x", "forward", None
    yield inputs, "forward", None
    yield "y", "forward", outputs
    yield inputs, "forward", outputs[:1]
    yield outputs[0], "backward", None
    yield outputs, "backward", None
    yield outputs[-1], "backward", inputs
    yield outputs[1], "backward", ["z"]
    yield outputs[0], "backward", [outputs[0]]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ring", RINGS)
def test_every_semiring_sweeps_the_tape_as_the_graph(seed, ring):
    on_tape, on_graph = traced(seed), traced(seed)
    graph = on_graph.graph
    for start, direction, targets in sweeps(on_tape):
        found = solve(on_tape, start, direction=direction, semiring=ring, targets=targets)
        expected = solve(
            graph, ids(on_graph, start), direction=direction, semiring=ring, targets=ids(on_graph, targets)
        )
        same(found, expected)
    assert "graph" not in on_tape.__dict__


def ids(tr, refs):
    """The node ids of references (one or a list; None stays None), for the plain graph."""
    if refs is None:
        return None
    return [resolve_node(tr, r) for r in (refs if isinstance(refs, list) else [refs])]


@pytest.mark.parametrize("seed", SEEDS[:8])
@pytest.mark.parametrize(
    "weight",
    [
        "partial",
        "arg",
        lambda u, v, data: data["partial"] * 2.0 - data["arg"],
        influence(lambda u, v, d: -d["partial"]),
    ],
)
def test_other_weights_read_the_edge_attributes_the_graph_has(seed, weight):
    on_tape, on_graph = traced(seed), traced(seed)
    ring = "max-times" if not isinstance(weight, str) and weight.__name__ == "scored" else "real"
    for start, direction, targets in sweeps(on_tape):
        found = solve(on_tape, start, direction=direction, semiring=ring, weight=weight, targets=targets)
        expected = solve(
            on_graph.graph,
            ids(on_graph, start),
            direction=direction,
            semiring=ring,
            weight=weight,
            targets=ids(on_graph, targets),
        )
        same(found, expected)
    assert "graph" not in on_tape.__dict__


def test_a_missing_attribute_is_named_alike():
    on_tape, on_graph = traced(1), traced(1)
    for semiring, weight in (("real", "symbolic"), ("symbolic", None), ("min-plus", "cost")):
        with pytest.raises(MissingWeightError) as from_tape:
            solve(on_tape, "x", semiring=semiring, weight=weight)
        with pytest.raises(MissingWeightError) as from_graph:
            solve(on_graph.graph, 0, semiring=semiring, weight=weight)
        assert str(from_tape.value) == str(from_graph.value)
    assert "graph" not in on_tape.__dict__


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_the_derivative_functions_do_not_build_the_graph(seed):
    on_tape, on_graph = traced(seed), traced(seed)
    on_graph.graph  # noqa: B018 - built first: the functions then read the graph
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for of in on_tape.outputs:
            same(pathad.gradient(on_tape, of), pathad.gradient(on_graph, of))
            same(pathad.gradient(on_tape, of, mode="forward"), pathad.gradient(on_graph, of, mode="forward"))
            for wrt in ("x", "y", "z"):
                for mode in ("forward", "backward"):
                    assert close(
                        pathad.derivative(on_tape, wrt, of, mode=mode), pathad.derivative(on_graph, wrt, of, mode=mode)
                    )
        same(pathad.derivatives_from(on_tape, "y"), pathad.derivatives_from(on_graph, "y"))
        for mode in ("forward", "backward", "colored-forward", "colored-backward"):
            found, expected = pathad.jacobian(on_tape, mode=mode).matrix, pathad.jacobian(on_graph, mode=mode).matrix
            assert all(map(close, found.ravel().tolist(), expected.ravel().tolist()))
        assert on_tape.constant_outputs == on_graph.constant_outputs
    assert "graph" not in on_tape.__dict__
    # mode="auto" counts elimination too, on the graph: it builds it (up to PLAN_LIMIT edges), and agrees
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant output says so, as above
        found, expected = pathad.jacobian(on_tape).matrix, pathad.jacobian(on_graph).matrix
    assert all(map(close, found.ravel().tolist(), expected.ravel().tolist()))


def test_warnings_and_constant_outputs_come_from_the_tape():
    tr = pathad.trace(lambda x: (x * 2.0, 5.0), 1.0)
    with pytest.warns(UserWarning, match=r"<lambda>\[1\] does not depend on any input"):
        assert pathad.gradient(tr, "<lambda>[1]") == {"x": 0.0}
    assert tr.constant_outputs == ("<lambda>[1]",)
    assert solve(tr, tr.outputs[1], direction="backward", targets="x") == {}
    assert solve(tr, ["x", tr.outputs[1]], targets=tr.outputs) == {0: 1.0, 2: 1.0, 1: 2.0}
    assert "graph" not in tr.__dict__


@pytest.mark.parametrize("program", ["overflowing", "dead_overflow", "dead_adjoint"])
def test_non_finite_path_values_are_explained_alike(program):
    f = {
        "overflowing": lambda x: pathad.sin(x * 1e200) * 1e200,
        "dead_overflow": lambda x: pathad.relu(-pathad.sin(x * 1e200) * 1e200) + x,
        "dead_adjoint": lambda x: pathad.relu(x - 2.0) * 1e200 * 1e200 + x,
    }[program]
    on_tape, on_graph = pathad.trace(f, x=0.5), pathad.trace(f, x=0.5)
    t = on_tape.output
    for start, direction, targets in (
        ("x", "forward", None),
        (t, "backward", None),
        ("x", "forward", t),
        (t, "backward", "x"),
    ):
        outcomes = []
        for G in (on_tape, on_graph.graph):  # the graph resolves "x" as a label
            try:
                outcomes.append(solve(G, start, direction=direction, targets=targets))
            except DomainError as error:
                outcomes.append(str(error))
        assert outcomes[0] == outcomes[1]
    assert "graph" not in on_tape.__dict__


def test_nodes_are_named_by_the_tape_as_by_the_graph():
    def f(x, y):
        a = (x * y).named("a")
        b = (a + x).named("twin")
        return (a * b).named("twin") + y * (x - 1.0)  # nodes 5 and 6 unnamed: v5, v6

    on_tape, on_graph = pathad.trace(f, 2.0, 3.0), pathad.trace(f, 2.0, 3.0)
    on_graph.graph  # noqa: B018
    for ref in ("x", "f", "a", "v5", "v6", 3, 0, 5.0):
        assert resolve_node(on_tape, ref) == resolve_node(on_graph, ref)
    with pytest.raises(TypeError, match="bool True"):  # True == 1, but a bool names no node (issue 17)
        resolve_node(on_tape, True)
    with pytest.raises(TypeError, match="bool True"):
        resolve_node(on_graph, True)
    for ref in ("twin", "v2", "v3", "v05", "v9", "nope", 99, -1, 2.5, (1, 2), math.nan):
        with pytest.raises(UnknownNodeError) as from_tape:
            resolve_node(on_tape, ref)
        with pytest.raises(UnknownNodeError) as from_graph:
            resolve_node(on_graph, ref)
        assert str(from_tape.value) == str(from_graph.value)
    assert "graph" not in on_tape.__dict__


def test_tape_edge_blocks():
    tr = traced(3)
    tape = tr.tape
    ends = tape.in_edges()
    assert len(ends) == len(tape.ops) + 1 and ends[-1] == len(tape.src)
    for v in range(len(tape.ops)):
        assert all(tape.dst[k] == v for k in range(ends[v], ends[v + 1]))
    starts, heads, edges = tape.out_edges()
    for u in range(len(tape.ops)):
        block = list(edges[starts[u] : starts[u + 1]])
        assert block == [k for k in range(len(tape.src)) if tape.src[k] == u]
        assert list(heads[starts[u] : starts[u + 1]]) == [tape.dst[k] for k in block]
    assert list(tr.graph.succ[0]) == list(dict.fromkeys(heads[starts[0] : starts[1]]))


def test_a_tape_filled_by_hand_is_read_through_its_graph():
    tape = Tape()
    tape.ops += ["input", "input", "mul"]
    tape.values += [2.0, 3.0, 6.0]
    tape.labels.update({0: "x", 1: "y"})
    tape.src += [1, 0]  # not in operand order: the graph sorts it out
    tape.dst += [2, 2]
    tape.arg += [1, 0]
    tape.partial += [2.0, 3.0]
    tr = Trace("f", tape, {"x": 0, "y": 1}, [2], None)
    assert tape.in_edges() is None and tape.out_edges() is None
    assert pathad.gradient(tr) == {"x": 3.0, "y": 2.0}
    assert "graph" in tr.__dict__


def test_a_value_used_after_tracing_grows_the_tape_consistently():
    kept = []

    def f(x):
        kept.append(x * 3.0)
        return kept[-1] + x

    tr = pathad.trace(f, 2.0)
    assert pathad.gradient(tr) == {"x": 4.0}
    later = kept[0] * kept[0]  # records on the same tape, after the trace
    assert later.value == 36.0 and tr.tape.in_edges() is not None
    assert pathad.gradient(tr) == {"x": 4.0}
    assert solve(tr, "x")[later.node] == 36.0
    assert solve(tr, "x") == solve(tr.graph, 0)


def test_the_memory_a_trace_holds_after_its_gradient():
    """A loose regression bound: the tape and what gradient keeps, well under the networkx graph's ~2 kB/op."""
    n = 60_000  # program steps: 80,000 operations
    rng = random.Random(0)
    plan = [(rng.choice("amr"), k + 1 - rng.randrange(min(k + 2, 16)), k + 1 - rng.randrange(min(k + 2, 16)))
            for k in range(n)]  # fmt: skip

    def program(x, y):
        values = [x, y]
        for op, i, j in plan:
            a, b = values[i], values[j]
            values.append((a + b) * 0.5 if op == "a" else a * b if op == "m" else pathad.relu(a))
        return values[-1]

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tr = pathad.trace(program, 0.3, -0.7)
        pathad.gradient(tr)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert "graph" not in tr.__dict__
    per_operation = held / len(tr.tape.ops)
    assert per_operation < 600, f"{per_operation:.0f} bytes per operation"


def test_networkx_graphs_still_sweep_as_before():
    G = nx.MultiDiGraph([("x", "u", {"partial": 2.0}), ("x", "u", {"partial": 2.0}), ("u", "t", {"partial": 5.0})])
    assert solve(G, "x") == {"x": 1.0, "u": 4.0, "t": 20.0}
    D = nx.DiGraph([("s", "a", {"partial": 2.0}), ("a", "t", {"partial": 3.0}), ("s", "t", {"partial": 1.0})])
    assert solve(D, "s") == {"s": 1.0, "a": 2.0, "t": 7.0}
    assert solve(D, "t", direction="backward", semiring="counting") == {"t": 1, "a": 1, "s": 2}


# --- the fast recorders write the tape the step-by-step recording writes ------------------------------


def _tape_state(tape):
    return (tape.ops, tape.values, tape.labels, tape.consts, tape.src, tape.dst, tape.arg, tape.partial, tape._ends)


def _outcome(record, tape, operands):
    try:
        result = record(*operands)
    except Exception as error:  # the same type and message, and nothing half recorded
        return type(error).__name__, str(error), _tape_state(tape)
    shown = (result.value, result.node) if isinstance(result, pathad.Traced) else result
    return shown, _tape_state(tape)


@pytest.mark.parametrize("name", sorted(pathad.PRIMITIVES))
def test_the_fast_recorders_record_what_apply_records(name):
    from pathad.tracing import _RECORDERS, _apply

    primitive = pathad.PRIMITIVES[name]
    numbers = [0.0, -0.0, 1.0, -2.5, 0.5, 3, True, 1e308, -1e-320, math.inf, math.nan, 10**400]

    def operands(tape, other):
        x, y = tape.add_input("x", 0.7), tape.add_input("y", -0.3)
        zero = tape.add_input("z", 0.0)
        traced = [x, y, zero, tape.add_input("w", 2.0), other.add_input("q", 1.5)]
        pool = traced + numbers + ["text", None]
        if primitive.arity == 1:
            return [(a,) for a in traced[:4]]
        return [(a, b) for a in pool for b in pool if isinstance(a, pathad.Traced) or isinstance(b, pathad.Traced)]

    fast_tape, slow_tape = Tape(), Tape()
    record = _RECORDERS[name][2]
    for fast_args, slow_args in zip(operands(fast_tape, Tape()), operands(slow_tape, Tape())):
        assert _outcome(record, fast_tape, fast_args) == _outcome(lambda *a: _apply(primitive, a), slow_tape, slow_args)


# --- gradient(tr) the short way: the same answers as the general path and as the graph ----------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_the_short_gradient_is_the_general_one(seed):
    def single(x, y, z):
        return sum(random_program(seed)(x, y, z)[:3])

    on_tape, on_graph = pathad.trace(single, 0.3, -0.6, 0.9), pathad.trace(single, 0.3, -0.6, 0.9)
    short = pathad.gradient(on_tape)  # of, wrt and mode left alone: the short way
    general = pathad.gradient(on_tape, wrt=["x", "y", "z"])  # names given: the general way
    assert short == general and list(short) == ["x", "y", "z"]
    on_graph.graph  # noqa: B018 - built: the gradient then sweeps it in Kahn's order
    same(short, pathad.gradient(on_graph))
    assert "graph" not in on_tape.__dict__


def test_the_short_gradient_leaves_the_hard_cases_to_the_general_path():
    # an intermediate adjoint overflows on a path to no input (relu is off): the gradient is finite all the same
    dead = pathad.trace(lambda x: pathad.relu(x - 2.0) * 1e200 * 1e200 + x, x=0.5)
    assert pathad.gradient(dead) == {"x": 1.0}
    with pytest.raises(DomainError, match="not finite|beyond the floats"):
        pathad.gradient(pathad.trace(lambda x: pathad.sin(x * 1e200) * 1e200, x=0.5))
    with pytest.warns(UserWarning, match="does not depend on any input"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="no output")
            assert pathad.gradient(pathad.trace(lambda x: 5.0, 1.0)) == {"x": 0.0}
    assert pathad.gradient(pathad.trace(lambda x, y: x, 1.0, 2.0)) == {"x": 1.0, "y": 0.0}
    assert pathad.gradient(pathad.trace(lambda x, y: y, x=1.0, y=2.0)) == {"x": 0.0, "y": 1.0}
