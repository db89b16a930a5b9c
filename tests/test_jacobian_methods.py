"""Every way to a Jacobian against oracles that share no code with it (issue 13, item 6).

* Random straight-line programs (hypothesis), written as a list of instructions run by two interpreters: one on
  pathad's traced numbers, one on complex numbers (cmath), so that the complex step Im f(x + ih) / h gives each
  column with none of pathad's rules.  Every mode of :func:`pathad.jacobian` (and elimination in every order)
  must give it, and the dense forward and backward sweeps must agree with each other to rounding.
* Random DAGs with a 'partial' on every edge (parallel edges too), against the sum over every path of the product
  of its partials, enumerated by networkx; the weights are small dyadic numbers, so every sum is exact.
* Colourings of random boolean patterns, checked cell by cell.
* The planner's counts against the methods run with every ⊗ and ⊕ counted, and small graphs counted by hand.

Tolerances: a Jacobian entry is a sum of path products, and its rounding error is a small multiple of eps times
the sum of the *absolute values* of those products (``scale`` below, computed here over the traced graph).  Where
no path cancels another, that is a relative tolerance of 1e-12; where paths cancel (x - x), the entry is compared
to the size of what cancelled.  An entry with no path at all must be exactly 0 in every method.
"""

import cmath
import itertools
import math
import warnings

import networkx as nx
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_planner import counted_pattern, counted_sweeps

import pathad
from pathad.coloring import color
from pathad.derivatives import JACOBIAN_MODES
from pathad.elimination import ORDERS, eliminated_jacobian, jacobian_graph
from pathad.planner import METHODS, plan_jacobian

#: order="optimal" searches 2^n subsets; the library allows 14 nodes, the tests keep to this many for time.
OPTIMAL_HERE = 9

# --- random straight-line programs ------------------------------------------------------------------------------

BINARY = ("add", "sub", "mul", "div")
UNARY = ("sin", "exp", "tanh", "scale", "shift", "const")
CONSTANTS = (-1.5, -1.0, -0.5, 0.0, 0.5, 2.0, 3.0)
BOUND = 10.0  # every value of a program stays within ±BOUND, and is 0 or at least 1e-6 in size
H = 1e-30  # the complex step


class Complex:
    """The oracle's math: complex-analytic functions (cmath), nothing of pathad."""

    sin, exp, tanh = cmath.sin, cmath.exp, cmath.tanh


def step(lib, op, a, b, c):
    """One instruction on values a, b and the constant c; ``lib`` is pathad, Complex or math."""
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / b
    if op == "scale":
        return c * a
    if op == "shift":
        return a + c
    if op == "const":
        return c  # a value that depends on no input (a plain number in every interpreter)
    return getattr(lib, op)(a)


def run(program, lib, inputs, perturb=None):
    """Every value of the program; ``perturb=(index, dz)`` adds dz to value ``index`` as soon as it exists."""
    values = list(inputs)
    if perturb is not None and perturb[0] < len(values):
        values[perturb[0]] += perturb[1]
    for op, i, j, c in program:
        values.append(step(lib, op, values[i], values[j], c))
        if perturb is not None and perturb[0] == len(values) - 1:
            values[-1] += perturb[1]
    return values


def acceptable(op, a, b, value):
    """Whether an instruction keeps its program smooth, bounded and far from the floats' edges at the point."""
    if op == "div" and abs(b) < 0.5:  # division guarded away from 0
        return False
    if op == "exp" and abs(a) > 2.0:  # exp of small values only
        return False
    return math.isfinite(value) and abs(value) <= BOUND and (value == 0 or abs(value) >= 1e-6)


@st.composite
def programs(draw, max_inputs=6, max_outputs=6, min_ops=5, max_ops=40):
    """(program, point, outputs): k inputs, 5..40 instructions reading any earlier value, m outputs.

    Operands are drawn from every earlier value, so values are shared (fan-out, x*x and x - x give parallel
    edges) and outputs often miss some inputs (sparse Jacobians); outputs may repeat, be inputs, be constants, or
    be read by later outputs.  An instruction that would leave the bounds at the drawn point becomes a tanh.
    """
    k = draw(st.integers(1, max_inputs))
    point = draw(st.lists(st.integers(-2000, 2000), min_size=k, max_size=k))
    point = [p / 1000 for p in point]  # 0 or at least 0.001 in size
    values = list(point)
    program = []
    for _ in range(draw(st.integers(min_ops, max_ops))):
        op = draw(st.sampled_from(BINARY + UNARY))
        i = draw(st.integers(0, len(values) - 1))
        j = draw(st.integers(0, len(values) - 1))
        c = draw(st.sampled_from(CONSTANTS))
        value = step(math, op, values[i], values[j], c) if op != "div" or abs(values[j]) >= 0.5 else math.nan
        if not acceptable(op, values[i], values[j], value):
            op, value = "tanh", math.tanh(values[i])
        program.append((op, i, j, c))
        values.append(value)
    m = draw(st.integers(1, max_outputs))
    late = st.integers(max(0, len(values) - 8), len(values) - 1)  # mostly late values, sometimes any
    outputs = draw(st.lists(st.one_of(late, st.integers(0, len(values) - 1)), min_size=m, max_size=m))
    return program, point, outputs


def traced(program, point, outputs):
    """The trace of x ↦ (outputs of the program), x a numpy array, and the traced values of every instruction."""
    kept = []

    def program_of(x):
        values = run(program, pathad, list(x))
        kept[:] = values
        return tuple(values[o] for o in outputs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant output is warned about; it is meant here
        tr = pathad.trace(program_of, np.array(point))
    return tr, kept


def complex_step(program, point, rows, columns):
    """∂values[rows] / ∂values[columns] by the complex step: value ``column`` perturbed by ih, ``row`` read."""
    J = np.zeros((len(rows), len(columns)))
    for j, column in enumerate(columns):
        values = run(program, Complex, [complex(p) for p in point], perturb=(column, 1j * H))
        J[:, j] = [complex(values[r]).imag / H for r in rows]
    return J


def scale(tr, columns, rows):
    """The sum over the paths column → row of |product of partials|, by the test's own sweep over tr.graph."""
    graph = tr.graph
    S = np.zeros((len(rows), len(columns)))
    for j, column in enumerate(columns):
        size = {column: 1.0}
        for node in nx.topological_sort(graph):
            if node in size:
                for _, head, partial in graph.out_edges(node, data="partial"):
                    size[head] = size.get(head, 0.0) + abs(partial) * size[node]
        S[:, j] = [size.get(row, 0.0) for row in rows]
    return S


def assert_close(found, expected, S, rtol, what, atol=0.0):
    """|found - expected| within rtol of the path scale (and atol: the complex step's own O(h²) error)."""
    assert found.shape == expected.shape, what
    bad = np.abs(found - expected) > rtol * S + atol
    assert not bad.any(), f"{what}: {found[bad]} against {expected[bad]} (path scale {S[bad]})"


def assert_valid_coloring(pattern, coloring, axis):
    """By hand: a partition of the columns (rows) into classes no two members of which share a row (column)."""
    cells = np.asarray(pattern, dtype=bool)
    cells = cells if axis == "columns" else cells.T
    n = cells.shape[1]
    members = [j for group in coloring.groups for j in group]
    assert sorted(members) == list(range(n)), "every column in exactly one class"
    assert all(group for group in coloring.groups), "no empty class"
    for group in coloring.groups:
        for j, k in itertools.combinations(group, 2):
            for i in range(cells.shape[0]):
                assert not (cells[i, j] and cells[i, k]), f"{axis} {j} and {k} share {i} in class {group}"
    bound = max((sum(bool(x) for x in line) for line in cells), default=0)
    assert coloring.lower_bound == bound and coloring.count == len(coloring.groups) >= bound


def between_count(tr, columns, rows):
    work, ends_in, ends_out = jacobian_graph(tr, columns, rows)
    return len(set(work) - set(ends_in) - set(ends_out))


def check_every_mode(tr, columns, rows, expected, S, wrt=None, of=None, permutation=None):
    """Every mode of jacobian (and elimination in every order) against ``expected``; returns the dense ones."""
    dense = {d: pathad.jacobian(tr, wrt, of, mode=d) for d in ("forward", "backward")}
    k, m = len(columns), len(rows)
    assert_close(dense["forward"].matrix, dense["backward"].matrix, S, 1e-13, "forward against backward")
    pattern = pathad.sparsity(tr, columns, rows)
    reach = np.array([[c == r or nx.has_path(tr.graph, c, r) for c in columns] for r in rows], dtype=bool)
    assert np.array_equal(pattern, reach), "the sparsity pattern is reachability"
    assert np.all(expected[~reach] == 0), "the oracle: no path, no derivative"
    runs = [(mode, None) for mode in JACOBIAN_MODES if mode != "elimination"]
    runs += [("elimination", None), *(("elimination", order) for order in ORDERS if order != "optimal")]
    if between_count(tr, columns, rows) <= OPTIMAL_HERE:
        runs.append(("elimination", "optimal"))
    if permutation is not None:
        runs.append(("elimination", permutation))
    for mode, order in runs:
        J = pathad.jacobian(tr, wrt, of, mode=mode, order=order)
        what = f"mode={mode!r}, order={order!r}"
        assert J.matrix.shape == (m, k), what
        assert np.all(J.matrix[~reach] == 0), f"{what}: an entry with no path is not 0\n{J.matrix}"
        assert_close(J.matrix, expected, S, 1e-12, what, atol=1e-45)  # h = 1e-30: the step's h² terms
        assert_close(J.matrix, dense["forward"].matrix, S, 1e-13, what + " against forward")
        resolved = {"auto": plan_jacobian(tr, columns, rows).best, "reverse": "backward"}.get(mode, mode)
        assert J.mode == resolved, what
        if resolved in ("forward", "backward"):
            assert J.sweeps == (k if resolved == "forward" else m), what
            assert np.array_equal(J.matrix, dense[resolved].matrix), what  # the same sweeps, the same sums
        elif resolved.startswith("colored"):
            axis = "columns" if resolved == "colored-forward" else "rows"
            assert_valid_coloring(pattern, J.coloring, axis)
            assert J.sweeps == J.coloring.count, what
            # each entry comes from a sweep in which no other seed reaches its row (column): the same sum
            assert np.array_equal(J.matrix, dense[resolved.removeprefix("colored-")].matrix), what
        else:
            assert J.sweeps == 0 and set(J.counts) == {"times", "plus", "order"}, what
    return dense


@settings(max_examples=70, deadline=None)
@given(programs(), st.randoms(use_true_random=False))
@pytest.mark.filterwarnings("ignore:.*does not depend on any input")
def test_every_mode_is_the_complex_step_of_a_random_program(case, rng):
    program, point, outputs = case
    tr, values = traced(program, point, outputs)
    columns, rows = tr.arguments["x"].tolist(), list(tr.outputs)
    assert len(columns) == len(point) and len(rows) == len(outputs)
    expected = complex_step(program, point, outputs, range(len(point)))
    at_point = run(program, Complex, [complex(p) for p in point])
    assert list(tr.value) == pytest.approx([complex(at_point[o]).real for o in outputs], rel=1e-12, abs=1e-300)
    S = scale(tr, columns, rows)
    _, order = eliminated_jacobian(tr, columns, rows, "forward")
    permutation = rng.sample(order["order"], len(order["order"]))
    dense = check_every_mode(tr, columns, rows, expected, S, permutation=permutation)
    assert dense["forward"].wrt == tuple(f"x[{j}]" for j in range(len(point)))


@settings(max_examples=50, deadline=None)
@given(programs(max_ops=25), st.data())
@pytest.mark.filterwarnings("ignore:.*does not depend on any input")
def test_every_mode_with_intermediate_columns_and_rows(case, data):
    """wrt and of naming any traced value: columns downstream of columns, rows read by rows, repeats, an input
    as a row; the complex step perturbs that value itself (the path sum from a node is ∂/∂ that value)."""
    program, point, _ = case
    tr, values = traced(program, point, [0])
    traced_at = [i for i, v in enumerate(values) if isinstance(v, pathad.Traced)]
    pick = st.lists(st.sampled_from(traced_at), min_size=1, max_size=6)
    at_columns, at_rows = data.draw(pick, "columns"), data.draw(pick, "rows")
    columns, rows = [values[i].node for i in at_columns], [values[i].node for i in at_rows]
    assert len(set(columns)) == len(set(at_columns))  # one node per traced value
    expected = complex_step(program, point, at_rows, at_columns)
    check_every_mode(tr, columns, rows, expected, scale(tr, columns, rows), wrt=columns, of=rows)


# --- random graphs against every path -----------------------------------------------------------------------------

WEIGHTS = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0)  # dyadic, few bits: every product and sum below is exact


@st.composite
def graphs(draw, max_nodes=9):
    """(G, columns, rows): a random DAG on 2..9 nodes, 0..2 parallel edges per pair, every edge a 'partial'."""
    n = draw(st.integers(2, max_nodes))
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    for v in range(1, n):
        for u in range(v):
            for _ in range(draw(st.sampled_from((0, 0, 0, 1, 1, 2)))):
                G.add_edge(u, v, partial=draw(st.sampled_from(WEIGHTS)), arg=0)
    nodes = st.integers(0, n - 1)
    columns = draw(st.lists(nodes, min_size=1, max_size=4))
    rows = draw(st.lists(nodes, min_size=1, max_size=4))
    return G, columns, rows


def every_path(G, columns, rows):
    """∂row/∂column as the sum over every path of the product of its partials (the empty path when row == column)."""
    J = np.zeros((len(rows), len(columns)))
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            if r == c:
                J[i, j] = 1.0
                continue
            for path in nx.all_simple_edge_paths(G, c, r):
                J[i, j] += math.prod(G.edges[e]["partial"] for e in path)
    return J


def eliminate_by_hand(G, columns, rows, order):
    """The documented rule, on plain dicts: each pair p→v→s gives one ⊗ and joins p→s (one ⊕) if p→s exists;
    parallel edges of the original graph stay apart until read off (one ⊕ per extra edge); a column with edges in
    gets a new source ("column", c) → c labeled 1, a row with edges out a new sink r → ("row", r)."""
    below = set(columns).union(*(nx.descendants(G, c) for c in columns))
    above = set(rows).union(*(nx.ancestors(G, r) for r in rows))
    keep = below & above
    edges = {}  # (u, v) -> [labels], parallel edges apart
    for u, v, w in G.edges(data="partial"):
        if u in keep and v in keep:
            edges.setdefault((u, v), []).append(w)
    has_in = {v for _, v in edges}
    has_out = {u for u, _ in edges}
    columns = [("column", c) if c in has_in else c for c in columns]
    rows = [("row", r) if r in has_out else r for r in rows]
    for c in columns:
        if isinstance(c, tuple):
            edges[c, c[1]] = [1.0]
    for r in rows:
        if isinstance(r, tuple):
            edges[r[1], r] = [1.0]
    times = plus = 0
    for v in order:
        into = [(p, w) for (p, s), ws in edges.items() if s == v for w in ws]
        out = [(s, w) for (p, s), ws in edges.items() if p == v for w in ws]
        for p, a in into:
            for s, b in out:
                times += 1
                if (p, s) in edges:
                    plus += 1
                    edges[p, s][0] += a * b
                else:
                    edges[p, s] = [a * b]
        edges = {e: ws for e, ws in edges.items() if v not in e}
    J = np.zeros((len(rows), len(columns)))
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            if r == c:
                J[i, j] = 1.0
            elif (c, r) in edges:
                plus += len(edges[c, r]) - 1
                J[i, j] = sum(edges[c, r])
    return J, times, plus


def edge_list(G):
    return sorted(G.edges(keys=True, data=True), key=repr)


@settings(max_examples=150, deadline=None)
@given(graphs(), st.randoms(use_true_random=False))
def test_elimination_and_sweeps_on_random_graphs_are_the_sum_over_every_path(case, rng):
    G, columns, rows = case
    before = edge_list(G)
    expected = every_path(G, columns, rows)
    work, ends_in, ends_out = jacobian_graph(G, columns, rows)
    between = [n for n in work if n not in set(ends_in) | set(ends_out)]
    orders = [o for o in ORDERS if o != "optimal" or len(between) <= OPTIMAL_HERE]
    orders.append(rng.sample(between, len(between)))
    totals = {}
    for order in orders:
        matrix, counts = eliminated_jacobian(G, columns, rows, order)
        assert np.array_equal(matrix, expected), (order, matrix, expected)
        assert sorted(map(repr, counts["order"])) == sorted(map(repr, between))
        by_hand = eliminate_by_hand(G, columns, rows, counts["order"])
        assert np.array_equal(by_hand[0], expected)
        assert (counts["times"], counts["plus"]) == by_hand[1:], order
        totals[repr(order)] = counts["times"] + counts["plus"]
    if "optimal" in orders:
        assert totals["'optimal'"] == min(totals.values())
    assert edge_list(G) == before, "the graph given is not changed"
    for j, c in enumerate(columns):  # one sweep per column, one per row: the same path sums
        found = pathad.solve(G, c, direction="forward", targets=rows)
        assert [found.get(r, 0.0) for r in rows] == expected[:, j].tolist()
    for i, r in enumerate(rows):
        found = pathad.solve(G, r, direction="backward", targets=columns)
        assert [found.get(c, 0.0) for c in columns] == expected[i, :].tolist()
    reach = np.array([[c == r or nx.has_path(G, c, r) for c in columns] for r in rows])
    assert np.array_equal(pathad.sparsity(G, columns, rows), reach)


@settings(max_examples=60, deadline=None)
@given(graphs(max_nodes=7))
def test_the_optimal_order_is_the_best_permutation(case):
    G, columns, rows = case
    work, ends_in, ends_out = jacobian_graph(G, columns, rows)
    between = [n for n in work if n not in set(ends_in) | set(ends_out)]
    assert len(between) <= 5  # 7 nodes, a column and a row: at most 5! orders
    totals = [sum(eliminated_jacobian(G, columns, rows, list(p))[1][k] for k in ("times", "plus"))
              for p in itertools.permutations(between)]  # fmt: skip
    _, optimal = eliminated_jacobian(G, columns, rows, "optimal")
    assert optimal["times"] + optimal["plus"] == min(totals)


# --- colourings -------------------------------------------------------------------------------------------------


@st.composite
def patterns(draw):
    rows, cols = draw(st.integers(0, 14)), draw(st.integers(0, 14))
    density = draw(st.sampled_from((0.1, 0.3, 0.6, 0.9)))
    cells = draw(st.lists(st.floats(0, 1), min_size=rows * cols, max_size=rows * cols))
    return np.array([x < density for x in cells], dtype=bool).reshape(rows, cols)


@settings(max_examples=200, deadline=None)
@given(patterns(), st.sampled_from(["columns", "rows"]))
def test_a_colouring_is_valid_cell_by_cell(pattern, axis):
    c = color(pattern, axis=axis)
    assert c.axis == axis
    assert_valid_coloring(pattern, c, axis)
    assert all(g == sorted(g) for g in c.groups) and [g[0] for g in c.groups] == sorted(g[0] for g in c.groups)
    c.check(pattern)  # the library's own check agrees
    cells = pattern if axis == "columns" else pattern.T
    for a, b in itertools.combinations(c.groups, 2):  # greedy: no two classes could be one
        merged = cells[:, a + b]
        assert (merged.sum(axis=1) > 1).any(), f"classes {a} and {b} share no row: one sweep would do"


# --- the planner ----------------------------------------------------------------------------------------------------


def check_plan(obj, columns, rows):
    plan = plan_jacobian(obj, columns, rows)
    costs = {name: (cost.times, cost.plus) for name, cost in plan.costs.items()}
    assert set(costs) == set(METHODS) - set(getattr(plan, "skipped", ()))  # none is skipped on graphs this small
    assert costs["forward"] == counted_sweeps(obj, [[j] for j in range(len(columns))], columns, rows, True)
    assert costs["backward"] == counted_sweeps(obj, [[i] for i in range(len(rows))], rows, columns, False)
    assert plan.costs["forward"].sweeps == len(columns) and plan.costs["backward"].sweeps == len(rows)
    pattern = pathad.sparsity(obj, columns, rows)
    finding = counted_pattern(obj, columns, rows)
    for name, forward in (("colored-forward", True), ("colored-backward", False)):
        groups = color(pattern, axis="columns" if forward else "rows").groups
        starts, ends = (columns, rows) if forward else (rows, columns)
        times, plus = counted_sweeps(obj, groups, starts, ends, forward)
        assert costs[name] == (times + finding[0], plus + finding[1]), name
        assert plan.costs[name].sweeps == len(groups) + 1, name
    _, eliminated = eliminated_jacobian(obj, columns, rows, "markowitz")
    assert costs["elimination"] == (eliminated["times"], eliminated["plus"])
    totals = [plan.costs[m].total if m in plan.costs else math.inf for m in METHODS]
    assert plan.costs[plan.best].total == min(totals)
    assert plan.best == METHODS[totals.index(min(totals))]  # ties to the earlier method
    return plan


#: x ↦ (x + x, x + x): the output listed twice, its entry two parallel edges (see the regression test below)
REPEATED_ROW = ([("add", 0, 0, 0.0)] * 5, [0.5], [1, 1])


@settings(max_examples=60, deadline=None)
@given(programs())
@example(REPEATED_ROW)
@pytest.mark.filterwarnings("ignore:.*does not depend on any input")
def test_the_planner_counts_what_each_method_performs_on_random_programs(case):
    program, point, outputs = case
    tr, _ = traced(program, point, outputs)
    check_plan(tr, tr.arguments["x"].tolist(), list(tr.outputs))


@settings(max_examples=80, deadline=None)
@given(graphs())
@example((nx.MultiDiGraph([(0, 1, {"partial": 2.0}), (0, 1, {"partial": 1.0})]), [0], [1, 1]))
def test_the_planner_counts_what_each_method_performs_on_random_graphs(case):
    G, columns, rows = case
    check_plan(G, columns, rows)


# --- small graphs counted by hand -----------------------------------------------------------------------------------


def counts_of(tr, columns=None, rows=None):
    """{method: (⊗, ⊕)} from the planner, checked against the counted runs."""
    columns = list(tr.inputs.values()) if columns is None else columns
    rows = list(tr.outputs) if rows is None else rows
    plan = check_plan(tr, columns, rows)
    return {name: (c.times, c.plus) for name, c in plan.costs.items()}, plan


def test_a_square_plus_itself_by_hand():
    # x 0, m = x·x 1 (two edges x⇒m: both operands are x), a = m + x 2 (edges m→a, x→a)
    tr = pathad.trace(lambda x: x * x + x, 3.0)
    counts, plan = counts_of(tr)
    # forward from x: x⇒m 2 ⊗, m's second term 1 ⊕; m→a, x→a 2 ⊗, a's second term 1 ⊕: 4 ⊗, 2 ⊕
    assert counts["forward"] == (4, 2)
    # backward from a: a→m, a→x 2 ⊗; m⇒x 2 ⊗; x receives three terms (from a, m, m): 2 ⊕
    assert counts["backward"] == (4, 2)
    # the pattern's BITSETS sweep is the forward sweep (4 ⊗, 2 ⊕); one colour: one more forward (backward) sweep
    assert counts["colored-forward"] == counts["colored-backward"] == (8, 4)
    # elimination of m: 2 in-edges (parallel) × 1 out-edge = 2 ⊗, both land on the edge x→a already there: 2 ⊕
    assert counts["elimination"] == (2, 2) and plan.best == "elimination"
    for order in (*ORDERS, None):
        J = pathad.jacobian(tr, mode="elimination", order=order)
        assert J.matrix.tolist() == [[7.0]] and (J.counts["times"], J.counts["plus"]) == (2, 2)  # 3 + 3 + 1


def banded_three(a, b, c):
    u = a * b
    return pathad.sin(u), b * c, pathad.exp(c)


def test_three_outputs_two_colours_by_hand():
    # a 0, b 1, c 2, u = a·b 3, y0 = sin u 4, y1 = b·c 5, y2 = exp c 6.  Pattern: y0 {a, b}, y1 {b, c}, y2 {c}
    tr = pathad.trace(banded_three, 0.5, -1.0, 0.25)
    counts, plan = counts_of(tr)
    # forward: from a: a→u, u→y0 (2 ⊗); from b: b→u, u→y0, b→y1 (3 ⊗); from c: c→y1, c→y2 (2 ⊗); no node
    # receives two terms in one sweep: 7 ⊗, 0 ⊕
    assert counts["forward"] == (7, 0)
    # backward: from y0: y0→u, u→a, u→b (3 ⊗); from y1: y1→b, y1→c (2 ⊗); from y2: y2→c (1 ⊗): 6 ⊗, 0 ⊕
    assert counts["backward"] == (6, 0)
    # the pattern (3 columns ≤ 3 rows: forward, every start at once) takes each of the 6 edges a→u, b→u, u→y0,
    # b→y1, c→y1, c→y2 once: 6 ⊗; u receives a and b, y1 receives b and c: 2 ⊕.
    # Columns: a and b meet in y0, b and c in y1: classes {a, c}, {b}.
    # {a, c}: a→u, u→y0, c→y1, c→y2 (4 ⊗); {b}: b→u, u→y0, b→y1 (3 ⊗): 7 + 6 ⊗, 0 + 2 ⊕
    assert counts["colored-forward"] == (13, 2)
    # rows: y0, y1 meet in b, y1, y2 in c: classes {y0, y2}, {y1}.  {y0, y2}: y0→u, u→a, u→b, y2→c (4 ⊗);
    # {y1}: y1→b, y1→c (2 ⊗): 6 + 6 ⊗, 0 + 2 ⊕
    assert counts["colored-backward"] == (12, 2)
    # elimination: only u is between, 2 in × 1 out: a→y0, b→y0, new edges: 2 ⊗, 0 ⊕
    assert counts["elimination"] == (2, 0) and plan.best == "elimination"
    for mode in ("colored-forward", "colored-backward"):
        J = pathad.jacobian(tr, mode=mode)
        assert J.coloring.groups == [[0, 2], [1]] and J.sweeps == 2
    a, b, c = 0.5, -1.0, 0.25
    expected = [[math.cos(a * b) * b, math.cos(a * b) * a, 0.0], [0.0, c, b], [0.0, 0.0, math.exp(c)]]
    for mode in JACOBIAN_MODES:
        np.testing.assert_allclose(pathad.jacobian(tr, mode=mode).matrix, expected, rtol=1e-15, atol=0)


def test_a_column_that_is_also_a_row_by_hand():
    # x 0 → s = sin x 1 → t = exp s 2; ∂(s, t)/∂(x, s), s both a column and a row
    tr = pathad.trace(lambda x: pathad.exp(pathad.sin(x)), 0.7)
    x, s, t = 0, 1, 2
    counts, plan = counts_of(tr, [x, s], [s, t])
    # forward: from x: x→s, s→t (2 ⊗); from s: s→t (1 ⊗): 3 ⊗.  backward: from s: s→x (1 ⊗); from t: t→s, s→x
    # (2 ⊗): 3 ⊗.  No ⊕ anywhere (a chain)
    assert counts["forward"] == counts["backward"] == (3, 0)
    # elimination: s is read by t, so the row s gets a new sink s → ("row", s), and s, which has an edge in,
    # a new source ("column", s) → s, both labeled 1; s is then between: 2 in × 2 out = 4 ⊗, 0 ⊕ (all new edges)
    assert counts["elimination"] == (4, 0)
    # forward and backward tie at 3; the tie goes to backward, the first of METHODS
    assert plan.best == "backward"
    J = pathad.jacobian(tr, wrt=[x, s], of=[s, t], mode="elimination")
    e, cos = math.exp(math.sin(0.7)), math.cos(0.7)
    np.testing.assert_allclose(J.matrix, [[cos, 1.0], [e * cos, e]], rtol=1e-15)
    assert (J.counts["times"], J.counts["plus"]) == (4, 0)


# --- found by the tests above -----------------------------------------------------------------------------------


def test_the_planner_counts_the_parallel_edges_of_a_repeated_row():
    """An output listed twice whose entry is two parallel edges (x⇒x·x): eliminated_jacobian adds the two labels
    once per row, 2 ⊕; the planner counts the pair (x, x·x) once, 1 ⊕."""

    def twice(x):
        y = x * x
        return y, y

    tr = pathad.trace(twice, 3.0)
    J = pathad.jacobian(tr, mode="elimination")
    assert J.matrix.tolist() == [[6.0], [6.0]]
    plan = plan_jacobian(tr)
    assert (plan.costs["elimination"].times, plan.costs["elimination"].plus) == (J.counts["times"], J.counts["plus"])


def test_eliminated_jacobian_takes_the_node_ids_a_trace_gives():
    """tr.arguments holds numpy integers; with a row split off (y is read by sin y), comparing the end ("row", y)
    with a numpy integer column is elementwise, and `if row == column` raises."""
    tr = pathad.trace(lambda x: (lambda y: (y, pathad.sin(y)))(x[0] * x[1]), np.array([3.0, 2.0]))
    as_ints, _ = eliminated_jacobian(tr, tr.arguments["x"].tolist(), tr.outputs)
    as_given, _ = eliminated_jacobian(tr, tr.arguments["x"], tr.outputs)
    assert np.array_equal(as_given, as_ints)
