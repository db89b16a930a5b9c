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
from pathad.compiled.schedule import ARRAY_SEMIRINGS, Schedule
from pathad.compiled.sweeps import sweep
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
    """The chain 1e-200, 1e-200, 1e200, 1e100 under 1e300: 1e100, 1e-100, 1e100, 1e200 (was 0 at 1e-100, 1e200)."""
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
def normal_trees(draw, max_nodes=24, span=300, chain=False):
    """(root value, parents, weights): random trees (a chain with ``chain``) whose every exact path value is within
    1e±span, with weights up to 1e±span (so products of two consecutive weights routinely leave the floats)."""
    n = draw(st.integers(1, max_nodes))
    parents = list(range(n)) if chain else [draw(st.integers(0, i)) for i in range(n)]
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
    """Powers of two: every product is exact while normal, so all three agree to the last bit.

    The exponents are free (±1000), so a path may dip below the floats and come back: hypothesis found a node
    whose true value 2**-976 lies under an ancestor of 2**-1100, which every float sweep rounds to 0."""
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
    # exact while every value on the way down is normal: below an ancestor that underflowed, a normal true
    # value is out of reach of any float sweep (the sequential one too), so only the generic sweep is the oracle
    sequential_normal = {0: is_normal(exact[0])}
    for child, parent in enumerate(parents, start=1):
        sequential_normal[child] = sequential_normal[parent] and is_normal(exact[child])
    for node, e in exact.items():
        if sequential_normal[node]:
            assert found[node] == float(e) == generic[node]
        elif node in generic and is_normal(generic[node]):
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


# --- vertex elimination: a new partial must be the float it stands for ----------------------


def chain(weights, root=1.0):
    """s → n0 (``root``), then n0 → n1 → ... with ``weights``, each edge tagged as a mul by a constant."""
    G = nx.MultiDiGraph()
    G.add_node("s")
    names = [f"n{i}" for i in range(len(weights) + 1)]
    for name in names:
        G.add_node(name, op="mul")
    G.add_edge("s", names[0], partial=root, arg=0)
    for (u, v), w in zip(zip(names, names[1:]), weights):
        G.add_edge(u, v, partial=w, arg=0)
    return G


@pytest.mark.parametrize(
    ("root", "weights", "what"),
    [
        (1e-200, [1e200, 1e200], "overflows"),  # ∂n2/∂s = 1e200, but the folded partial would be inf
        (1e300, [1e-200, 1e-200], "underflows"),  # ∂n2/∂s = 1e-100, but the folded partial would be 0
        (1e300, [1e-160, 1e-160], "underflows"),  # 1e-320: a subnormal, inexact
    ],
)
def test_eliminate_refuses_a_partial_out_of_range(root, weights, what):
    G = chain(weights, root)
    value = pathad.solve(G, "s")["n2"]
    assert is_normal(value)
    with pytest.raises(DomainError, match=f"eliminating node 'n1' {what} a partial"):
        eliminate(G, ["n1"])
    H = fold_linear(G, keep=["n0", "n2"])  # folding leaves the node that cannot be folded
    assert "n1" in H and pathad.solve(H, "s")["n2"] == value


def test_eliminate_keeps_an_exact_subnormal_partial():
    G = chain([2.0**-1000, 2.0**-50], 2.0**1000)
    H = eliminate(G, ["n1"])
    assert H.edges["n0", "n2", 0]["partial"] == 2.0**-1050
    assert pathad.solve(H, "s")["n2"] == pathad.solve(G, "s")["n2"] == 2.0**-50


def test_eliminate_a_zero_partial_annihilates_an_infinite_one():
    """u = sqrt(x) at 0 (partial inf) used as t = 0 · u: ∂t/∂x is 0 in the sweep (zero annihilates), not nan."""
    G = nx.MultiDiGraph([("x", "u", {"partial": math.inf, "arg": 0}), ("u", "t", {"partial": 0.0, "arg": 1})])
    assert pathad.solve(G, "x", targets="t")["t"] == 0.0
    H = eliminate(G, ["u"])
    assert H.edges["x", "t", 0]["partial"] == 0.0
    assert pathad.solve(H, "x")["t"] == 0.0
    G2 = nx.MultiDiGraph([("x", "u", {"partial": 0.0}), ("u", "t", {"partial": math.nan})])
    assert eliminate(G2, ["u"]).edges["x", "t", 0]["partial"] == 0.0


def test_eliminate_refuses_a_sum_that_overflows():
    """p → s directly (1e308) and through v (1e200 · 1e108): together 2e308, past the floats."""
    G = nx.MultiDiGraph()
    G.add_edge("x", "p", 0, partial=1e-10)
    G.add_edge("p", "s", 0, partial=1e308)
    G.add_edge("p", "v", 0, partial=1e200)
    G.add_edge("v", "s", 0, partial=1e108)
    assert pathad.solve(G, "x")["s"] == pytest.approx(2e298)
    with pytest.raises(DomainError, match="overflows a partial"):
        eliminate(G, ["v"])


def test_eliminate_adds_parallel_paths_into_a_new_edge():
    """Two edges p ⇒ v and one v → s: both paths land on the same new edge p → s, and add up."""
    G = nx.MultiDiGraph()
    G.add_edge("p", "v", 0, partial=2.0)
    G.add_edge("p", "v", 1, partial=3.0)
    G.add_edge("v", "s", 0, partial=5.0, arg=0)
    H = eliminate(G, ["v"])
    assert list(H.edges(keys=True, data="partial")) == [("p", "s", 0, 25.0)]


@SETTINGS
@given(normal_trees(max_nodes=12, chain=True), st.data())
def test_eliminating_chain_nodes_keeps_path_values_or_says_so(tree, data):
    root_value, parents, weights = tree  # a chain: every inner node has one edge in and one out
    G = tree_graph(root_value, parents, weights)
    inner = list(range(1, len(weights)))
    removed = data.draw(st.lists(st.sampled_from(inner), unique=True)) if inner else []
    exact = exact_values(root_value, parents, weights)
    try:
        H = eliminate(G, removed)
    except DomainError:
        return
    try:
        found = pathad.solve(H, "x")
    except DomainError:  # said so: a path value of the graph left is beyond the floats (the sweep names it)
        assert any(abs(exact[node]) > HUGE for node in H if node != "x")
        return
    for node in H:
        if node != "x":
            assert abs(found[node] - exact[node]) <= RTOL * abs(exact[node])


# --- counted semirings keep every field, ``finite`` included -------------------------------------


@pytest.mark.parametrize("name", ["real", "boolean", "counting", "max-times", "min-plus", "max-plus"])
def test_counted_keeps_every_field(name):
    base = pathad.semirings.as_semiring(name)
    wrapped = counted(base)
    for attribute in ("zero", "one", "commutative", "description", "weight", "finite"):
        assert getattr(wrapped, attribute) == getattr(base, attribute)
    assert wrapped.name == f"counted {base.name}"


def test_counted_real_sweep_is_checked_for_overflow():
    G = nx.MultiDiGraph([("x", "u", {"partial": 1e200}), ("u", "t", {"partial": 1e200})])
    with pytest.raises(DomainError):
        pathad.solve(G, "x", semiring=REAL)
    real = counted(REAL)
    assert real.finite
    with pytest.raises(DomainError, match="not a finite number"):
        pathad.solve(G, "x", semiring=real)
    assert real.count.times >= 2  # the sweep was counted up to the overflow
    assert pathad.solve(G, "x", semiring=counted(COUNTING))["t"] == 1  # counting has no finite check
