"""Range and rounding: the compiled numpy sweep, vertex elimination and counted semirings against sequential oracles.

The numpy sweep forms tree path products by pointer jumping (products of
products).  Associated that way a product of normal floats can underflow to 0
or a subnormal, or overflow, where every sequential value value(parent) ⊗ w is
a normal number; the sweep must notice and return the sequential numbers up to
rounding.  The oracles are the generic sweep :func:`pathad.solve` (one edge at
a time) and exact products in mpmath.
"""

import math

import mpmath
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pathad
from pathad import DomainError
from pathad._kernels import ARRAY_SEMIRINGS, Schedule, sweep
from pathad.cost import counted
from pathad.elimination import eliminate, fold_linear
from pathad.semirings import COUNTING, REAL

TINY, HUGE = np.finfo(np.float64).tiny, np.finfo(np.float64).max
SMALLEST = 2.0**-1074  # the smallest subnormal
RTOL = 1e-12
DIRECTIONS = pytest.mark.parametrize("direction", ["forward", "backward"])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tree_graph(root_value, parents, weights, direction="forward", attribute="partial", split=True):
    """Seed "x", a root 0 of value ``root_value`` (two parallel edges x ⇒ 0, so 0 is not a tree node), and node
    i + 1 hanging off node ``parents[i]`` along an edge of weight ``weights[i]``.

    Backward the edges point the other way (node i + 1 → its parent, 0 ⇒ x), so
    a backward sweep from "x" meets the same tree.  ``split=False`` (for min-plus
    and max-plus, whose ⊕ is min or max) gives both edges x ⇒ 0 the weight
    ``root_value``.  Returns the MultiDiGraph.
    """
    G = nx.MultiDiGraph()

    def edge(u, v, w):
        u, v = (u, v) if direction == "forward" else (v, u)
        G.add_edge(u, v, **{attribute: w})

    half = root_value / 2 if split else root_value  # exact: value(0) = 1 · half + 1 · half = root_value
    edge("x", 0, half)
    edge("x", 0, half)
    for child, (parent, w) in enumerate(zip(parents, weights), start=1):
        edge(parent, child, w)
    return G


def exact_values(root_value, parents, weights):
    """node -> the exact path value value(root) · Π w, in mpmath (enough bits for every product here)."""
    with mpmath.workprec(4000):
        exact = {0: mpmath.mpf(root_value)}
        for child, (parent, w) in enumerate(zip(parents, weights), start=1):
            exact[child] = exact[parent] * mpmath.mpf(w)
    return exact


def is_normal(x):
    return TINY <= abs(x) <= HUGE


def compiled_values(G, direction, semiring="real"):
    tape = pathad.compile(G, backend="numpy")
    found = tape.solve("x", direction=direction, semiring=semiring)
    return {node: found.values[tape.position(node)] for node in G if node != "x"}


def check_against_oracles(got, generic, exact, parents):
    """The compiled values against the exact ones and the generic sweep's, node by node."""
    sequential_normal = {0: is_normal(float(exact[0]))}
    for child, parent in enumerate(parents, start=1):  # the generic sweep rounds like the truth while it stays normal
        sequential_normal[child] = sequential_normal[parent] and is_normal(exact[child])
    for node, e in exact.items():
        if is_normal(e):
            assert got[node] != 0 and math.isfinite(got[node]), (node, got[node], float(e))
            assert abs(got[node] - e) <= RTOL * abs(e), (node, got[node], float(e))
        if sequential_normal[node]:
            assert math.isclose(got[node], generic[node], rel_tol=RTOL), (node, got[node], generic[node])
        if node > 0 and parents[node - 1] == 0 and sequential_normal[node]:
            assert got[node] == generic[node]  # one ⊗ from the root: the same arithmetic, the same float


# --- the reproduction --------------------------------------------------------------


@DIRECTIONS
@pytest.mark.parametrize(
    "weights",
    [
        [1e-200, 1e-200, 1e200, 1e100],  # 1e-200 · 1e-200 underflows to 0: nodes 2 and 4 were silently 0
        [1e-200, 1e-200],
        [1e-200, 1e-200, 1e200, 1e200],  # the colleague's chain: node 4's product is 0 · inf = nan
        [1e-200, 1e-110, 1e200, 1e-100, 1e100],  # a subnormal product (1e-310), scaled back up by 1e200
        [1e-300, 1e-300, 1e300, 1e300],
    ],
)
def test_chain_under_a_huge_root_is_the_sequential_product(weights, direction):
    parents = list(range(len(weights)))
    G = tree_graph(1e300, parents, weights, direction)
    got, generic = compiled_values(G, direction), pathad.solve(G, "x", direction=direction)
    exact = exact_values(1e300, parents, weights)
    check_against_oracles(got, generic, exact, parents)
    for node in got:
        assert got[node] == pytest.approx(generic[node], rel=RTOL)


def test_reproduction_values():
    """The chain 1e-200, 1e-200, 1e200, 1e100 under 1e300: 1e100, 1e-100, 1e100, 1e200 (it was 0 at 1e-100 and 1e200)."""
    G = tree_graph(1e300, [0, 1, 2, 3], [1e-200, 1e-200, 1e200, 1e100])
    got = compiled_values(G, "forward")
    assert [got[i] for i in range(1, 5)] == pytest.approx([1e100, 1e-100, 1e100, 1e200], rel=RTOL)


def test_sweep_kernel_directly_and_in_a_batch():
    """The kernel on a Schedule, one column whose products underflow next to one whose do not."""
    n = 6  # 0 seed, 1 root (two edges from 0), 2..5 a chain
    gather, other = np.array([1, 1, 2, 3, 4, 5]), np.array([0, 0, 1, 2, 3, 4])
    plan = Schedule(n, gather=gather, other=other)
    w = np.array([[5e299, 2.0], [5e299, 2.0], [1e-200, 0.5], [1e-200, 0.5], [1e200, 3.0], [1e100, 0.25]])
    values = sweep(plan, w, [0], ARRAY_SEMIRINGS["real"], batch=2)
    assert values[2:, 0] == pytest.approx([1e100, 1e-100, 1e100, 1e200], rel=RTOL)
    assert values[:, 1].tolist() == [1.0, 4.0, 2.0, 1.0, 3.0, 0.75]
    for column in range(2):  # each column alone: the same numbers
        alone = sweep(plan, w[:, column : column + 1], [0], ARRAY_SEMIRINGS["real"])[:, 0]
        assert alone.tolist() == values[:, column].tolist()


# --- hypothesis: trees whose path values stay normal while the weights span 1e-300..1e300 -------------


@st.composite
def normal_trees(draw, max_nodes=24, span=300):
    """(root value, parents, weights): random trees whose every exact path value is within 1e±span, with weights
    up to 1e±span (so products of two consecutive weights routinely leave the floats)."""
    n = draw(st.integers(1, max_nodes))
    parents = [draw(st.integers(0, i)) for i in range(n)]
    root_exponent = draw(st.integers(-span, span))
    exponents = {0: root_exponent}
    weights = []
    for child, parent in enumerate(parents, start=1):
        low, high = max(-span, exponents[parent] - span), min(span, exponents[parent] + span)
        exponents[child] = draw(st.integers(low, high))
        mantissa = draw(st.floats(1.0, 9.99))
        sign = draw(st.sampled_from((1.0, -1.0)))
        weights.append(sign * mantissa * 10.0 ** (exponents[child] - exponents[parent]))
    return draw(st.floats(1.0, 9.99)) * 10.0**root_exponent, parents, weights


@DIRECTIONS
@SETTINGS
@given(normal_trees())
def test_trees_real_against_generic_and_mpmath(direction, tree):
    root_value, parents, weights = tree
    G = tree_graph(root_value, parents, weights, direction)
    got, generic = compiled_values(G, direction), pathad.solve(G, "x", direction=direction)
    check_against_oracles(got, generic, exact_values(root_value, parents, weights), parents)


@DIRECTIONS
@SETTINGS
@given(normal_trees(), st.data())
def test_trees_dyadic_weights_are_exact(direction, tree, data):
    """Powers of two: every product is exact while normal, so all three agree to the last bit."""
    _, parents, _ = tree
    exponents = [data.draw(st.integers(-1000, 1000)) for _ in parents]
    root_exponent = data.draw(st.integers(-1000, 1000))
    weights, root_value = [2.0**k for k in exponents], 2.0**root_exponent
    exact = exact_values(root_value, parents, weights)
    G = tree_graph(root_value, parents, weights, direction)
    tape = pathad.compile(G, backend="numpy")
    try:
        found = tape.solve("x", direction=direction)
    except DomainError:  # some true value overflows: the generic sweep says so too
        assert any(abs(e) > HUGE for e in exact.values())
        return
    generic = pathad.solve(G, "x", direction=direction)
    for node, e in exact.items():
        if is_normal(e):
            assert found[node] == float(e)
        if node in generic and is_normal(generic[node]) and is_normal(e):
            assert found[node] == generic[node]


@SETTINGS
@given(st.integers(1, 24).flatmap(lambda n: st.tuples(
    st.floats(1e-300, 1e300), st.lists(st.integers(0, n), min_size=n, max_size=n),
    st.lists(st.floats(1e-300, 1e300) | st.floats(-1e300, -1e-300), min_size=n, max_size=n))))  # fmt: skip
def test_kernel_random_weights_round_once(tree):
    """Unconstrained weights: where the true value is normal it is found; out of range it is rounded honestly
    (inf past the floats, within a subnormal step below them), never an artefact of the association."""
    root_value, raw_parents, weights = tree
    parents = [min(p, i) for i, p in enumerate(raw_parents)]
    n = len(parents) + 2  # 0 the seed, 1 the root, node c + 2 for tree node c + 1
    gather = np.array([1, 1] + [c + 2 for c in range(len(parents))])
    other = np.array([0, 0] + [p + 1 for p in parents])
    w = np.array([root_value / 2, root_value / 2, *weights])[:, None]
    values = sweep(Schedule(n, gather=gather, other=other), w, [0], ARRAY_SEMIRINGS["real"])[:, 0]
    exact = exact_values(root_value, parents, weights)
    for node, e in exact.items():
        got = values[node + 1]
        if abs(e) > HUGE:
            assert got == math.copysign(math.inf, e)
        elif is_normal(e):
            assert abs(got - e) <= RTOL * abs(e), (node, got, float(e))
        else:  # a true subnormal or 0: one rounding to the subnormals
            assert abs(got - e) <= SMALLEST + RTOL * abs(e), (node, got, float(e))


# --- the other semirings on the same plan ------------------------------------------


@DIRECTIONS
@SETTINGS
@given(normal_trees())
def test_trees_max_times_scores(direction, tree):
    root_value, parents, weights = tree
    G = tree_graph(root_value, parents, weights, direction, split=False)  # ⊕ is max: the root's score is |root_value|
    tape = pathad.compile(G, backend="numpy")
    found = tape.solve("x", direction=direction, semiring="max-times")
    generic = pathad.solve(G, "x", direction=direction, semiring="max-times")
    exact = exact_values(abs(root_value), parents, [abs(w) for w in weights])
    for node, e in exact.items():
        score = found[node].score
        assert score != 0 and abs(score - e) <= RTOL * e, (node, score, float(e))
        assert math.isclose(score, generic[node].score, rel_tol=RTOL)
        assert found[node].edges == generic[node].edges


@DIRECTIONS
@SETTINGS
@given(normal_trees())
def test_trees_counting_with_float_weights(direction, tree):
    """Counting on float weights is (+, ×) on floats: the same underflows, and it has no finite check."""
    root_value, parents, weights = tree
    G = tree_graph(root_value, parents, weights, direction)
    tape = pathad.compile(G, backend="numpy")
    found = tape.solve("x", direction=direction, semiring="counting", weight="partial")
    generic = pathad.solve(G, "x", direction=direction, semiring="counting", weight="partial")
    exact = exact_values(root_value, parents, weights)
    for node, e in exact.items():
        got = float(found.values[tape.position(node)])
        assert got != 0 and abs(got - e) <= RTOL * abs(e), (node, got, float(e))
        assert math.isclose(got, float(generic[node]), rel_tol=RTOL)


@DIRECTIONS
@pytest.mark.parametrize("semiring", ["min-plus", "max-plus"])
def test_sums_of_sums_that_overflow(semiring, direction):
    """Root -1e308, weights 1e308, 1e308, -1e308, -1e308: the path values 0, 1e308, 0, -1e308; 1e308 + 1e308 is inf."""
    weights = [1e308, 1e308, -1e308, -1e308, 5.0]
    G = tree_graph(-1e308, [0, 1, 2, 3, 4], weights, direction, attribute="weight", split=False)
    got = compiled_values(G, direction, semiring)
    generic = pathad.solve(G, "x", direction=direction, semiring=semiring)
    assert [got[i] for i in range(6)] == [-1e308, 0.0, 1e308, 0.0, -1e308, -1e308 + 5.0]
    assert [generic[i] for i in range(6)] == [got[i] for i in range(6)]


@st.composite
def additive_trees(draw, max_nodes=24, bound=1e308):
    """(root value, parents, weights) for min-plus/max-plus: path sums within ±bound, weights up to ±bound."""
    n = draw(st.integers(1, max_nodes))
    parents = [draw(st.integers(0, i)) for i in range(n)]
    values = {0: draw(st.floats(-bound, bound))}
    weights = []
    for child, parent in enumerate(parents, start=1):
        low, high = max(-bound, values[parent] - bound), min(bound, values[parent] + bound)
        values[child] = draw(st.floats(low, high))
        weights.append(values[child] - values[parent])
    return values[0], parents, weights


@DIRECTIONS
@pytest.mark.parametrize("semiring", ["min-plus", "max-plus"])
@SETTINGS
@given(additive_trees())
def test_trees_additive_against_generic(semiring, direction, tree):
    root_value, parents, weights = tree
    G = tree_graph(root_value, parents, weights, direction, attribute="weight", split=False)
    got = compiled_values(G, direction, semiring)
    generic = pathad.solve(G, "x", direction=direction, semiring=semiring)
    with mpmath.workprec(4000):
        exact = {0: mpmath.mpf(root_value)}
        scale = {0: abs(root_value)}  # the sum of magnitudes: rounding is relative to it
        for c, (p, w) in enumerate(zip(parents, weights), start=1):
            exact[c], scale[c] = exact[p] + mpmath.mpf(w), scale[p] + abs(w)
    for node, e in exact.items():
        if abs(e) <= HUGE:
            assert math.isfinite(got[node]), (node, got[node], float(e))
            assert abs(got[node] - e) <= RTOL * scale[node], (node, got[node], float(e))
        if math.isfinite(generic[node]):
            assert abs(got[node] - generic[node]) <= RTOL * scale[node]
