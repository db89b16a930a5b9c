"""pathad.compiled: compiled sweeps against the generic solver, replay against re-tracing and complex steps."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import complex_gradient, sample_points

import pathad
import pathad.compiled.program as compiled_program
from pathad import DomainError, MissingWeightError, solve
from pathad.compiled import compile, numba_available
from pathad.errors import BranchError, ReplayError
from pathad.primitives import ARRAY, FLOAT, PRIMITIVES

NUMBA = pytest.mark.skipif(not numba_available(), reason="numba is not installed (pip install pathad[fast])")
BACKENDS = pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=NUMBA)])

NUMERIC = ("real", "boolean", "counting", "max-times", "min-plus", "max-plus")
DYADIC = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0)  # products and sums of these are exact in float64


@st.composite
def dags(draw, exact=True, max_nodes=10):
    """A random MultiDiGraph (parallel edges allowed) on shuffled string nodes, in a non-topological node order."""
    n = draw(st.integers(1, max_nodes))
    pairs = st.tuples(st.integers(0, max(n - 2, 0)), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1])
    edges = draw(st.lists(pairs, max_size=3 * n)) if n > 1 else []
    floats = st.floats(-3, 3).filter(lambda w: w == 0 or abs(w) > 1e-3)  # no products deep in the subnormals
    values = st.sampled_from(DYADIC) if exact else floats
    partials = draw(st.lists(values, min_size=len(edges), max_size=len(edges)))
    costs = draw(st.lists(st.sampled_from((1.0, 2.0, 5.0)), min_size=len(edges), max_size=len(edges)))
    names = draw(st.permutations([f"n{i}" for i in range(n)]))
    G = nx.MultiDiGraph()
    G.add_nodes_from(reversed(names))
    for k, ((u, v), p, c) in enumerate(zip(edges, partials, costs)):
        G.add_edge(names[u], names[v], key=k, partial=p, weight=c)
    return G


def compare(expected, got, semiring, exact, scale=None):
    """Exact equality, or for float sums equality up to 1e-12 of the sum of the terms' magnitudes (``scale``)."""
    assert set(got) == set(expected)
    for node, want in expected.items():
        have = got[node]
        if semiring == "max-times" and not exact:
            assert (have.edges is None) == (want.edges is None)
            if want.edges is not None:
                assert math.isclose(have.score, want.score, rel_tol=1e-12)
                assert_valid_path(have)
        elif exact or semiring in ("boolean", "counting"):
            assert have == want and type(have) is type(want), (node, want, have)
        else:
            assert abs(have - want) <= 1e-12 * scale[node], (node, want, have)


def assert_valid_path(scored):
    edges = list(scored.edges)
    assert all(a[1] == b[0] for a, b in zip(edges, edges[1:]))
    assert math.isclose(math.prod(abs(w) for _, _, w in edges), scored.score, rel_tol=1e-12)


# --- compile ----------------------------------------------------------------------


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def test_compile_from_the_tape_equals_compile_from_the_graph():
    fast = compile(pathad.trace(h, 3.0, 5.0))
    tr = pathad.trace(h, 3.0, 5.0)
    tr.graph  # noqa: B018 - once the graph exists, compile must read it (the user may have edited it)
    slow = compile(tr)
    for name in ("src", "dst", "arg", "partial", "codes", "values"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.inputs == slow.inputs and fast.outputs == slow.outputs
    assert [fast.label(i) for i in range(7)] == [slow.label(i) for i in range(7)]


@BACKENDS
def test_compile_reads_an_edited_graph(backend):
    tr = pathad.trace(h, 3.0, 5.0)
    u, v, k = next(iter(tr.graph.in_edges(6, keys=True)))
    tr.graph.edges[u, v, k]["partial"] = 100.0
    tape = compile(tr, backend=backend)
    assert tape.solve(6, direction="backward").to_dict() == solve(tr.graph, 6, direction="backward")
    assert tape.gradient(x=3.0, y=5.0) == {"x": 155.0, "y": 459.0}  # replay recomputes partials from the rules


def test_compile_a_plain_digraph_in_any_node_order():
    G = nx.DiGraph()
    G.add_edge("t", "u", partial=2.0)  # "t" first, but it is the sink below
    G.add_edge("s", "t", partial=3.0)
    tape = compile(G)
    assert tape.solve("s").to_dict() == {"s": 1.0, "t": 3.0, "u": 6.0}
    assert tape.position("s") < tape.position("t") < tape.position("u")


def test_compile_rejects_cycles_and_non_numbers():
    with pytest.raises(nx.NetworkXUnfeasible, match="cycle"):
        compile(nx.DiGraph([("a", "b"), ("b", "a")]))
    with pytest.raises(TypeError, match="'a' -> 'b'.*not a number"):
        compile(nx.DiGraph([("a", "b", {"partial": "x"})]))
    with pytest.raises(TypeError, match="Trace or a networkx"):
        compile([1, 2])


# --- solve: every numeric semiring, both directions, against the generic sweep ------


@BACKENDS
@settings(max_examples=80, deadline=None)
@given(dags(exact=True), st.data())
def test_solve_equals_the_generic_sweep_exactly_on_dyadic_weights(backend, G, data):
    tape = compile(G, backend=backend)
    nodes = list(G)
    for semiring in NUMERIC:
        for direction in ("forward", "backward"):
            start = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=3, unique=True))
            targets = data.draw(st.none() | st.lists(st.sampled_from(nodes), min_size=1, max_size=2))
            expected = solve(G, start, direction=direction, semiring=semiring, targets=targets)
            got = tape.solve(start, direction=direction, semiring=semiring, targets=targets).to_dict()
            compare(expected, got, semiring, exact=True)


@BACKENDS
@settings(max_examples=60, deadline=None)
@given(dags(exact=False), st.data())
def test_solve_equals_the_generic_sweep_up_to_rounding_on_float_weights(backend, G, data):
    tape = compile(G, backend=backend)
    start = data.draw(st.sampled_from(list(G)))
    for semiring in ("real", "max-times"):
        for direction in ("forward", "backward"):
            expected = solve(G, start, direction=direction, semiring=semiring)
            got = tape.solve(start, direction=direction, semiring=semiring).to_dict()
            magnitudes = solve(G, start, direction=direction, weight=lambda u, v, d: abs(d["partial"]))
            compare(expected, got, semiring, False, magnitudes)


@BACKENDS
def test_solve_values_array_and_lookups(backend):
    tape = compile(pathad.trace(h, 3.0, 5.0), backend=backend)
    result = tape.solve("y")
    expected = solve(pathad.trace(h, 3.0, 5.0), "y")
    assert result.values.tolist() == [expected.get(i, 0.0) for i in range(7)] == [0, 1, 4, 4, 1, 13, 459]
    assert result["h"] == 459.0 and result.get(0) is None and 0 not in result.to_dict()
    with pytest.raises(KeyError):
        result[0]  # noqa: B018


@BACKENDS
def test_solve_max_times_keeps_the_tie_rule_of_the_generic_sweep(backend):
    # x*x: two parallel edges with equal labels; (x+1)*(x+1) through two equal nodes: the path via the first wins
    tr = pathad.trace(lambda x: (x + 1.0) * (x + 1.0) + x * x, 1.0)
    tape = compile(tr, backend=backend)
    for direction, start in (("forward", "x"), ("backward", tr.output)):
        expected = solve(tr.graph, start, direction=direction, semiring="max-times")
        assert tape.solve(start, direction=direction, semiring="max-times").to_dict() == expected


@BACKENDS
def test_solve_counting_beyond_int64_is_exact(backend):
    G = nx.MultiDiGraph()
    for i in range(90):  # two parallel edges per step: 2**90 paths
        G.add_edge(i, i + 1)
        G.add_edge(i, i + 1)
    result = compile(G, backend=backend).solve(0, semiring="counting")
    assert result[90] == 2**90 == solve(G, 0, semiring="counting")[90]
    assert result.values.dtype == object


def test_solve_weights_given_as_attribute_or_array():
    G = nx.DiGraph([("a", "b", {"weight": 2.0, "partial": 1.0}), ("b", "c", {"partial": 1.0})])
    tape = compile(G)
    assert tape.solve("a", semiring="min-plus").to_dict() == solve(G, "a", semiring="min-plus")
    costs = np.array([5.0, 7.0])
    assert tape.solve("a", semiring="max-plus", weight=costs)["c"] == 12.0
    with pytest.raises(TypeError, match="arrays, not functions"):
        tape.solve("a", weight=lambda u, v, d: 1.0)
    with pytest.raises(MissingWeightError, match="'cost'"):
        tape.solve("a", weight="cost")
    with pytest.raises(TypeError, match="use pathad.solve"):
        tape.solve("a", semiring="symbolic")


def test_solve_missing_partial_is_an_error_only_where_read():
    G = nx.DiGraph([("a", "b", {"partial": 2.0}), ("c", "d", {})])
    tape = compile(G)
    assert tape.solve("a").to_dict() == {"a": 1.0, "b": 2.0}
    with pytest.raises(MissingWeightError, match="'c' -> 'd'"):
        tape.solve("c")


def chain(n, partial=1.0000001):
    G = nx.DiGraph()
    G.add_edges_from(((i, i + 1) for i in range(n)), partial=partial)
    return G


@pytest.mark.parametrize("n", [200_000, pytest.param(1_000_000, marks=pytest.mark.slow)])
@BACKENDS
def test_solve_a_deep_chain_without_recursion(n, backend):
    tape = compile(chain(n), backend=backend)
    forward = tape.solve(0).values
    backward = tape.solve(n, direction="backward").values
    assert math.isclose(forward[n], 1.0000001**n, rel_tol=1e-9) and math.isclose(backward[0], forward[n])
    assert tape.solve(0, semiring="max-plus").values[n] == n
    assert tape.solve(n, direction="backward", semiring="counting").values[0] == 1


# --- evaluate and gradient: replay at new points ------------------------------------


def smooth(x, y, z, exp=np.exp, log=np.log, sqrt=np.sqrt, sin=np.sin, tanh=np.tanh):
    """Analytic in every input, so complex steps give its derivatives; written once for both number kinds."""
    s = 0.0
    for i in range(30):  # a loop-carried sum: one fused chain
        s = s + sin(x * i) * y
    return s / z + exp(y / 3) * sqrt(y * y + 1.0) - 2.0 * x + log(z * z + 1.0) + tanh(x - y) + x**3 / (1.0 + y**2)


def traced_smooth(x, y, z):
    return smooth(x, y, z, pathad.exp, pathad.log, pathad.sqrt, pathad.sin, pathad.tanh)


def csin(z):
    return np.sin(complex(z))


@BACKENDS
def test_gradient_replay_equals_complex_step_at_new_points(backend):
    tape = compile(pathad.trace(traced_smooth, 0.3, 0.7, 1.2), backend=backend)
    rng = np.random.default_rng(1)
    points = rng.uniform(0.2, 2.0, size=(3, 25))
    grads = tape.gradient(*points)
    values = tape.evaluate(*points)
    for b in range(points.shape[1]):
        point = points[:, b]
        expected = complex_gradient(lambda *p: smooth(*p, np.exp, np.log, np.sqrt, csin, np.tanh), point)
        assert np.allclose([grads[k][b] for k in "xyz"], expected, rtol=1e-11, atol=1e-11)
        assert math.isclose(values[b], smooth(*point), rel_tol=1e-12)


def every_primitive(x, y):
    a = pathad.relu(x - 0.5) + abs(y - x) + pathad.sigmoid(x * y) + pathad.cos(x) * pathad.tan(y / 4)
    b = -a + x**y + (x + 2.0) ** 0.5 + y**2 + x**3 + 3.0 / (y + 2.0) - (1.0 - x)
    return b * pathad.exp(-x) + pathad.log(x + y) + pathad.sqrt(x * x + y * y)


@BACKENDS
@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0.1, 3.0), st.floats(0.1, 3.0)), min_size=1, max_size=6))
def test_gradient_replay_equals_tracing_again_on_every_primitive(backend, points):
    tape = compile(pathad.trace(every_primitive, 1.0, 2.0), backend=backend)
    xs, ys = np.array(points).T
    grads, values = tape.gradient(x=xs, y=ys), tape.evaluate(x=xs, y=ys)
    for b, (x, y) in enumerate(points):
        tr = pathad.trace(every_primitive, x, y)
        expected = pathad.gradient(tr)
        assert math.isclose(values[b], tr.value, rel_tol=1e-12, abs_tol=1e-12)
        for name in ("x", "y"):
            assert math.isclose(grads[name][b], expected[name], rel_tol=1e-10, abs_tol=1e-10)


@BACKENDS
def test_replay_scalars_give_floats_and_outputs_keep_their_shape(backend):
    tape = compile(pathad.trace(lambda a, b: {"sum": a + b, "prod": a * b}, 2.0, 3.0), backend=backend)
    assert tape.evaluate(4.0, 5.0) == {"sum": 9.0, "prod": 20.0}
    assert tape.gradient(4.0, 5.0, of="prod") == {"a": 5.0, "b": 4.0}
    assert tape.evaluate(a=np.array([1.0, 2.0]))["prod"].tolist() == [3.0, 6.0]  # b keeps its recorded 3.0
    with pytest.raises(ValueError, match="name one with of="):
        tape.gradient(1.0, 2.0)
    with pytest.raises(TypeError, match="'c' is not an input"):
        tape.evaluate(c=1.0)
    with pytest.raises(ValueError, match="same shape"):
        tape.evaluate(a=np.ones(2), b=np.ones(3))


def loop_sum(*xs):
    total = 0.0
    for i, x in enumerate(xs):
        total = total + x * (i % 7 - 3.0)
    return total * total


def test_a_loop_sum_is_replayed_as_one_fused_chain():
    n = 800
    point = np.linspace(-1, 1, n)
    tr = pathad.trace(loop_sum, *point)
    tape = compile(tr, backend="numpy")
    tape._program._plan_numpy()  # planned on the first numpy replay
    assert tape._program.depth <= 4  # the 800 partial sums are one cumulative sum, not 800 levels
    new = point[::-1].copy()
    expected = pathad.gradient(pathad.trace(loop_sum, *new))
    got = tape.gradient(*new)
    assert np.allclose([got[k] for k in expected], list(expected.values()), rtol=1e-12, atol=1e-12)


@BACKENDS
def test_replay_in_chunks_gives_the_same_answers(monkeypatch, backend):
    tape = compile(pathad.trace(traced_smooth, 0.3, 0.7, 1.2), backend=backend)
    points = np.random.default_rng(2).uniform(0.2, 2.0, size=(3, 17))
    whole = tape.gradient(*points)
    monkeypatch.setattr(compiled_program, "_BUDGET", 3 * (tape.n_nodes + tape.n_edges))  # chunks of 3 points
    chunked = tape.gradient(*points)
    assert all(np.array_equal(whole[k], chunked[k]) for k in whole)


# --- the two backends: one plan, two executors ----------------------------------------


@NUMBA
@settings(max_examples=40, deadline=None)
@given(st.booleans(), st.data())
def test_numba_and_numpy_sweeps_agree(exact, data):
    G = data.draw(dags(exact=exact))
    fast, plain = compile(G, backend="numba"), compile(G, backend="numpy")
    for semiring in NUMERIC:
        for direction in ("forward", "backward"):
            start = data.draw(st.lists(st.sampled_from(list(G)), min_size=1, max_size=3, unique=True))
            a = fast.solve(start, direction=direction, semiring=semiring).values
            b = plain.solve(start, direction=direction, semiring=semiring).values
            assert a.dtype == b.dtype
            if exact or semiring in ("boolean", "counting", "min-plus", "max-plus"):  # integer costs: exact
                assert np.array_equal(a, b), (semiring, direction)
            elif semiring == "real":  # up to 1e-12 of the sum of the terms' magnitudes
                scale = plain.solve(start, direction=direction, weight=np.abs(plain.partial)).values
                assert np.all(np.abs(a - b) <= 1e-12 * scale), direction
            else:
                assert np.allclose(a, b, rtol=1e-12, atol=0), (semiring, direction)


@NUMBA
def test_numba_replay_reproduces_tracing_exactly_and_numpy_to_the_last_bits():
    tr = pathad.trace(every_primitive, 1.0, 2.0)
    fast, plain = compile(tr, backend="numba"), compile(tr, backend="numpy")
    assert fast.evaluate(1.0, 2.0) == tr.value  # the same rules on the same C math library
    points = np.random.default_rng(4).uniform(0.1, 3.0, size=(2, 50))
    exact = [pathad.trace(every_primitive, *p).value for p in points.T]
    assert fast.evaluate(*points).tolist() == exact
    assert np.allclose(plain.evaluate(*points), exact, rtol=1e-14, atol=0)
    g_fast, g_plain = fast.gradient(*points), plain.gradient(*points)
    assert all(np.allclose(g_fast[k], g_plain[k], rtol=1e-13, atol=1e-13) for k in g_fast)


def test_backend_names():
    assert compile(nx.DiGraph([(0, 1)]), backend="numpy").backend == "numpy"
    with pytest.raises(ValueError, match="backend must be"):
        compile(nx.DiGraph([(0, 1)]), backend="fortran")


# --- guards ----------------------------------------------------------------------------


def branchy(x, y):
    if x > 0:
        return x * y
    return pathad.log(-x) + y


@BACKENDS
def test_a_point_on_another_branch_raises_branch_error(backend):
    tape = compile(pathad.trace(branchy, 2.0, 3.0), backend=backend)
    assert tape.gradient(x=np.array([1.0, 5.0]), y=1.0)["x"].tolist() == [1.0, 1.0]
    with pytest.raises(BranchError, match=r"batch element 1 \(x = -1.0, y = 1.0\).*x > 0.0.*True when traced"):
        tape.gradient(x=np.array([1.0, -1.0]), y=1.0)


@BACKENDS
def test_retrace_fills_in_the_points_on_other_branches(backend):
    tape = compile(pathad.trace(branchy, 2.0, 3.0), backend=backend)
    xs, ys = np.array([1.0, -1.0, 3.0, -4.0]), np.array([2.0, 3.0, 4.0, 5.0])
    grads = tape.gradient(x=xs, y=ys, retrace=branchy)
    values = tape.evaluate(x=xs, y=ys, retrace=branchy)
    for b in range(4):
        tr = pathad.trace(branchy, xs[b], ys[b])
        assert values[b] == tr.value
        assert {k: grads[k][b] for k in grads} == pathad.gradient(tr)
    assert len(tape._variants) == 1  # one more branch, traced once, reused by evaluate


@BACKENDS
def test_a_changed_branch_is_reported_before_a_domain_error_behind_it(backend):
    tape = compile(pathad.trace(lambda x: pathad.log(x) if x > 0 else -x, 2.0), backend=backend)
    with pytest.raises(BranchError):
        tape.evaluate(x=-1.0)


# --- domain errors and the limits of replay ----------------------------------------------


@BACKENDS
def test_domain_errors_name_the_op_the_node_the_value_and_the_batch_element(backend):
    tape = compile(pathad.trace(lambda x: pathad.log(x - 1.0) * 2.0, 3.0), backend=backend)
    with pytest.raises(DomainError, match=r"^log at node v2 with operand v1 = -0.5: the result is nan .*element 1\)"):
        tape.evaluate(x=np.array([2.0, 0.5]))
    tape = compile(pathad.trace(pathad.sqrt, 4.0), backend=backend)
    assert tape.evaluate(x=0.0) == 0.0
    with pytest.raises(DomainError, match=r"sqrt .*x = 0.0: the derivative in operand 0 does not exist"):
        tape.gradient(x=0.0)


def test_a_graph_without_operations_solves_but_does_not_replay():
    tape = compile(nx.DiGraph([("a", "b", {"partial": 2.0})]))
    assert tape.solve("a")["b"] == 2.0
    with pytest.raises(ReplayError, match="no operations to replay"):
        tape.evaluate()
    with pytest.raises(ReplayError, match="no operations to replay"):
        tape.gradient()


# --- the array math namespace ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_array_math_evaluates_the_same_rules_as_float_math(name):
    primitive = PRIMITIVES[name]
    operands = [np.array(column) for column in zip(*sample_points(name, count=8, seed=3))]
    values = primitive.value(ARRAY, *operands)
    for i in range(8):
        point = [float(o[i]) for o in operands]
        result = primitive.value(FLOAT, *point)
        assert math.isclose(values[i], result, rel_tol=1e-14)
        for rule in primitive.partials:
            got = compiled_program._call(rule, [o[i : i + 1] for o in operands], (values[i : i + 1],))
            assert math.isclose(float(np.ravel(got)[0]), rule(FLOAT, *point, result), rel_tol=1e-14)


def test_all_inputs_as_one_array():
    tr = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    tape = compile(tr)
    assert tape.gradient(at=[1.0, 2.0]) == {"x": 2 * 1 * 2 + 5 * 4, "y": 1 + 10 * 2 + 12 * 4}  # 2xy+5y², x²+10xy+12y²
    batch = np.array([[1.0, 3.0], [2.0, 5.0]])
    g = tape.gradient(at=batch)
    assert g["x"].tolist() == [24.0, 155.0] and g["y"].tolist() == [69.0, 459.0]
    assert tape.evaluate(at=batch).tolist() == [54.0, 920.0]
    with pytest.raises(ValueError, match=r"at= needs shape \(2,\) or \(2, B\)"):
        tape.gradient(at=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="either as at= or as arguments"):
        tape.gradient(1.0, at=[1.0, 2.0])


# --- fused sums, wrt= and fixed= ---------------------------------------------------------------

SUM_STEPS = ("add product", "subtract product", "subtract scaled", "product plus", "add", "subtract sin",
             "add constant", "add square", "reuse", "subtract from")  # fmt: skip


def sum_program(steps):
    """A program of running sums over four inputs: chains of every shape the fusing must respect."""

    def program(*xs, sin=pathad.sin):
        pool, total = list(xs), xs[0]
        for kind, i, j, c in steps:
            a, b = pool[i % len(pool)], pool[j % len(pool)]
            if kind == "add product":
                total = total + a * b
            elif kind == "subtract product":
                total = total - a * b
            elif kind == "subtract scaled":
                total = total - c * a
            elif kind == "product plus":  # the running sum as the second operand
                total = c * b + total
            elif kind == "add":
                total = total + a
            elif kind == "subtract sin":
                total = total - sin(a)
            elif kind == "add constant":
                total = total + c
            elif kind == "add square":
                total = total + a * a
            elif kind == "reuse":  # this partial sum is used twice: a fused sum must end here
                pool.append(total)
                total = total * c
            else:  # a − total: not a running sum
                total = a - total
        return total * pool[-1]

    return program


sum_steps = st.lists(
    st.tuples(st.sampled_from(SUM_STEPS), st.integers(0, 7), st.integers(0, 7), st.sampled_from((-2.0, 0.5, 3.0))),
    min_size=1,
    max_size=14,
)


@NUMBA
@settings(max_examples=80, deadline=None)
@given(sum_steps, st.lists(st.floats(-2.0, 2.0), min_size=4, max_size=4))
def test_fused_sums_replay_tracing_exactly_and_the_generic_gradient(steps, point):
    program = sum_program(steps)
    tape = compile(pathad.trace(program, 0.3, -0.7, 1.1, 0.4), backend="numba")
    tr = pathad.trace(program, *point)
    value, grad = tape.value_and_gradient(*point)
    assert value == tr.value  # the same additions in the same order: bit for bit
    expected = pathad.gradient(tr)
    scale = max(1.0, *(abs(g) for g in expected.values()))
    assert all(abs(grad[k] - expected[k]) <= 1e-12 * scale for k in expected), (grad, expected)


def test_sums_of_products_become_one_fused_unit_each():
    tape = compile(pathad.trace(loop_sum, *np.linspace(-1, 1, 800)), backend="numba")
    program = tape._program.fast.program
    assert program.units.shape[0] == 2  # the 800-term sum, then the square
    assert program.terms.shape[0] == 801  # the starting 0.0, then 800 products folded in
    assert program.terms[1:, 2].all() and not program.terms[0, 2]
    assert program.n_partials == 2  # only the square keeps partials


@BACKENDS
def test_partial_sums_that_are_outputs_or_guarded_keep_their_values(backend):
    def program(x, y, z):
        s = x * y + z
        t = s + x * z  # s feeds only t, but it is an output too
        return s, t

    tape = compile(pathad.trace(program, 1.0, 2.0, 3.0), backend=backend)
    assert tape.evaluate(2.0, 3.0, 4.0) == (10.0, 18.0)
    assert tape.gradient(2.0, 3.0, 4.0, of=tape.outputs[0]) == {"x": 3.0, "y": 2.0, "z": 1.0}

    def guarded(x, y):
        s = x * y + 1.0
        if s > 0:  # compares a partial sum that feeds only the next one
            return s + x
        return s - x

    tape = compile(pathad.trace(guarded, 1.0, 2.0), backend=backend)
    assert tape.gradient(2.0, 1.0) == {"x": 2.0, "y": 2.0}
    with pytest.raises(BranchError, match="> 0"):
        tape.gradient(2.0, -1.0)


@BACKENDS
def test_the_gradient_of_a_node_inside_a_fused_sum(backend):
    tr = pathad.trace(lambda x, y: x * y + y + x, 2.0, 3.0)  # nodes: x, y, x·y, x·y + y, (x·y + y) + x
    tape = compile(tr, backend=backend)
    assert tape.value_and_gradient(4.0, 5.0, of=3) == (25.0, {"x": 5.0, "y": 5.0})  # ∂(xy + y)


@BACKENDS
def test_an_overflow_inside_a_fused_sum_names_the_operation(backend):
    tape = compile(pathad.trace(lambda x, y: x * y + y * 2.0 + 1.0, 2.0, 3.0), backend=backend)
    with pytest.raises(DomainError, match=r"^mul at node v2 with operands x = 1e\+200, y = 1e\+200: the result is inf"):
        tape.evaluate(1e200, 1e200)


@BACKENDS
def test_wrt_differentiates_with_respect_to_some_inputs_only(backend):
    tape = compile(pathad.trace(lambda x, y, z: pathad.sqrt(x) * z + y * z, 1.0, 2.0, 3.0), backend=backend)
    full = tape.gradient(4.0, 2.0, 3.0)
    assert tape.gradient(4.0, 2.0, 3.0, wrt=["z", "y"]) == {"z": full["z"], "y": full["y"]}
    assert tape.gradient(4.0, 2.0, 3.0, wrt=range(1, 3)) == {"y": full["y"], "z": full["z"]}
    assert tape.gradient(4.0, 2.0, 3.0, wrt="x") == {"x": full["x"]}
    with pytest.raises(DomainError, match="sqrt .*x = 0.0: the derivative in operand 0 does not exist"):
        tape.gradient(0.0, 2.0, 3.0)
    assert tape.gradient(0.0, 2.0, 3.0, wrt="y") == {"y": 3.0}  # the bad partial is on no path from y
    with pytest.raises(ValueError, match="'w' is not an input"):
        tape.gradient(1.0, 2.0, 3.0, wrt="w")
    with pytest.raises(ValueError, match="out of range"):
        tape.gradient(1.0, 2.0, 3.0, wrt=range(2, 5))


@BACKENDS
def test_fixed_inputs_are_shared_by_every_point_of_a_batch(backend):
    tape = compile(pathad.trace(traced_smooth, 0.3, 0.7, 1.2), backend=backend)
    rest = np.random.default_rng(5).uniform(0.2, 2.0, size=(2, 6))
    value, grad = tape.value_and_gradient(at=rest, fixed=[0.9])
    full = np.vstack([np.full(6, 0.9), rest])
    assert np.array_equal(value, tape.evaluate(at=full))
    assert all(np.array_equal(grad[k], tape.gradient(at=full)[k]) for k in "xyz")
    value, grad = tape.value_and_gradient(at=[0.5], fixed=[0.9, 1.1])  # one point
    assert value == tape.evaluate(0.9, 1.1, 0.5) and grad == tape.gradient(0.9, 1.1, 0.5)
    with pytest.raises(ValueError, match=r"with 2 fixed inputs, at= needs shape \(1,\) or \(1, B\)"):
        tape.evaluate(at=rest, fixed=[0.9, 1.1])
    with pytest.raises(TypeError, match="fixed= goes with at="):
        tape.evaluate(x=1.0, fixed=[0.9])
    with pytest.raises(ValueError, match=r"inputs must be finite: x = nan"):
        tape.gradient(at=rest, fixed=[math.nan])


@BACKENDS
def test_non_finite_inputs_are_named(backend):
    tape = compile(pathad.trace(lambda x, y: x * y, 1.0, 2.0), backend=backend)
    with pytest.raises(ValueError, match=r"inputs must be finite: y = inf \(batch element 1\)"):
        tape.gradient(x=np.array([1.0, 2.0]), y=np.array([1.0, math.inf]))


def test_a_semiring_without_an_array_form_is_named_and_not_listed():
    tape = pathad.compile(pathad.trace(lambda x, y: x * y, 1.0, 2.0), backend="numpy")
    with pytest.raises(TypeError) as refused:
        tape.solve("x", semiring="bitsets")
    message = str(refused.value)
    assert "not 'bitsets'; use pathad.solve" in message
    assert message.startswith("a compiled sweep handles the numeric semirings (real, boolean, counting, max-times")
    assert "bitsets)" not in message and "bitsets," not in message
