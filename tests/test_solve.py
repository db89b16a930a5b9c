"""solve(): every sweep against brute-force path enumeration, plus its edge cases."""

import math
import operator
import sys

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathad
from pathad import REAL, Semiring, solve

# Path strings: a path's value is the set containing its sequence of edge labels.
# times concatenates (not commutative), so a sweep that multiplied in the wrong
# order would produce reversed strings.
PATH_STRINGS = Semiring(
    "path strings",
    frozenset(),
    frozenset({()}),
    operator.or_,
    lambda a, b: frozenset(p + q for p in a for q in b),
    commutative=False,
)


@st.composite
def dags(draw, max_nodes=9):
    """A random MultiDiGraph on 0..n-1 (edges i<j, parallel edges allowed) with a node relabeling."""
    n = draw(st.integers(2, max_nodes))
    pairs = st.tuples(st.integers(0, n - 2), st.integers(1, n - 1)).filter(lambda p: p[0] < p[1])
    edges = draw(st.lists(pairs, max_size=3 * n))
    weights = draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=len(edges), max_size=len(edges)))
    names = draw(st.permutations([f"n{i}" for i in range(n)]))  # node ids need not be ordered
    G = nx.MultiDiGraph()
    G.add_nodes_from(names)
    for k, ((u, v), w) in enumerate(zip(edges, weights)):
        G.add_edge(names[u], names[v], key=k, partial=w, name=f"e{k}")
    return G


def enumerate_paths(G, source, target):
    """Every path source→target as a list of edge-data dicts (the oracle; exponential, small graphs only)."""
    if source == target:
        return [[]]
    return [
        [G.edges[e] for e in path] for path in nx.all_simple_edge_paths(G, source, target)
    ]


def path_sum(G, sources, target, semiring, weight):
    total = semiring.zero
    for s in sources:
        for path in enumerate_paths(G, s, target):
            product = semiring.one
            for data in path:
                product = semiring.times(product, weight(data))
            total = semiring.plus(total, product)
    return total


def real(data):
    return data["partial"]


def label(data):
    return frozenset({(data["name"],)})


@settings(max_examples=60, deadline=None)
@given(dags(), st.data())
def test_forward_and_backward_equal_path_enumeration(G, data):
    nodes = list(G)
    sources = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=3, unique=True))
    forward = solve(G, sources, direction="forward")
    for target in nodes:
        expected = path_sum(G, sources, target, REAL, real)
        reached = any(nx.has_path(G, s, target) for s in sources)
        assert (target in forward) == reached
        assert forward.get(target, 0.0) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    target = data.draw(st.sampled_from(nodes))
    backward = solve(G, target, direction="backward")
    for source in nodes:
        expected = path_sum(G, [source], target, REAL, real)
        assert backward.get(source, 0.0) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(dags(max_nodes=7), st.data())
def test_product_order_is_path_order_in_both_directions(G, data):
    nodes = list(G)
    source, target = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
    expected = path_sum(G, [source], target, PATH_STRINGS, label)

    def weight(u, v, d):
        return label(d)

    forward = solve(G, source, semiring=PATH_STRINGS, weight=weight, targets=target)
    backward = solve(G, target, direction="backward", semiring=PATH_STRINGS, weight=weight, targets=source)
    assert forward.get(target, frozenset()) == expected
    assert backward.get(source, frozenset()) == expected


@settings(max_examples=40, deadline=None)
@given(dags(), st.data())
def test_targets_restrict_to_the_nodes_between(G, data):
    nodes = list(G)
    source, target = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
    restricted = solve(G, source, targets=target)
    between = {n for n in nodes if nx.has_path(G, source, n) and nx.has_path(G, n, target)}
    assert set(restricted) == between
    full = solve(G, source)
    assert all(restricted[n] == pytest.approx(full[n]) for n in between)


class TestSolve:
    def test_plain_digraph_and_callable_weight(self):
        G = nx.DiGraph([("a", "b", {"w": 2.0}), ("b", "c", {"w": 3.0}), ("a", "c", {"w": 1.0})])
        assert solve(G, "a", weight="w") == {"a": 1.0, "b": 2.0, "c": 7.0}
        edges_seen = []

        def weight(u, v, d):
            edges_seen.append((u, v))
            return d["w"]

        assert solve(G, "c", direction="backward", weight=weight)["a"] == 7.0
        assert sorted(edges_seen) == [("a", "b"), ("a", "c"), ("b", "c")]  # edges as they are in G

    def test_seed_reached_from_another_seed_keeps_its_empty_path(self):
        G = nx.DiGraph([("a", "b", {"partial": 2.0}), ("b", "c", {"partial": 5.0})])
        assert solve(G, ["a", "b"]) == {"a": 1.0, "b": 3.0, "c": 15.0}

    def test_accepts_a_trace_and_names(self):
        def h(x, y):
            return (x + 4 * y) * ((x + y) * y)

        tr = pathad.trace(h, x=3.0, y=5.0)
        assert solve(tr, "x")[tr.output] == 155.0
        assert solve(tr, "h", direction="backward")[tr.inputs["y"]] == 459.0

    def test_cycle_names_a_node_on_it(self):
        G = nx.DiGraph()
        G.add_edge("s", "a", partial=1.0)
        G.add_edge("a", "b", partial=1.0)
        G.add_edge("b", "a", partial=1.0)
        with pytest.raises(nx.NetworkXUnfeasible, match="cycle through node '(a|b)'"):
            solve(G, "s")

    def test_missing_weight_names_the_edge(self):
        G = nx.DiGraph([("s", "t", {"partial": 1.0}), ("t", "u", {})])
        with pytest.raises(pathad.MissingWeightError, match="edge 't' -> 'u' has no 'partial' attribute"):
            solve(G, "s")
        with pytest.raises(KeyError):  # also a KeyError for callers that catch that
            solve(G, "u", direction="backward")

    def test_unknown_start_and_bad_direction(self):
        G = nx.DiGraph([(0, 1, {"partial": 1.0})])
        with pytest.raises(nx.NodeNotFound, match="no node 7 in the graph"):
            solve(G, 7)
        with pytest.raises(ValueError, match="direction must be 'forward' or 'backward', got 'sideways'"):
            solve(G, 0, direction="sideways")
        with pytest.raises(TypeError, match="networkx DiGraph"):
            solve({0: [1]}, 0)

    def test_deep_chain_without_recursion(self):
        n = 200_000
        G = nx.DiGraph()
        nx.add_path(G, range(n + 1), partial=1.0)
        G.edges[0, 1]["partial"] = 3.0
        assert sys.getrecursionlimit() < n
        assert solve(G, 0)[n] == 3.0
        assert solve(G, n, direction="backward")[0] == 3.0


def test_real_semiring_identities_are_true_identities():
    for x in (0.0, -2.5, math.pi):
        assert REAL.plus(REAL.zero, x) == x and REAL.times(REAL.one, x) == x
