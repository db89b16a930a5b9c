"""Path enumeration, counting, the best path, dependence and explanations, each against an oracle."""

import math
import sys
from collections import Counter

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathad
from pathad.enumeration import (
    PATH_LIMIT,
    Path,
    TooManyPathsError,
    active_nodes,
    best_path,
    count_paths,
    explain,
    path_sum,
    paths,
    sparsity,
)
from pathad.errors import MissingWeightError, UnknownNodeError
from pathad.semirings import COUNTING, MAX_PLUS


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


@pytest.fixture
def tr():
    return pathad.trace(h, x=3.0, y=5.0)


def logistic_map(steps):
    def logistic(x):
        for _ in range(steps):
            x = 4 * x * (1 - x)
        return x

    return logistic


def many_sines_of(steps):
    def many_sines(x):
        y = x
        for _ in range(steps):
            y = pathad.sin(x + y)
        return y

    return many_sines


@st.composite
def dags(draw, max_nodes=7):
    """A random MultiDiGraph with edges i<j (parallel edges allowed) and small integer partials."""
    n = draw(st.integers(2, max_nodes))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1])
    edges = draw(st.lists(pairs, max_size=3 * n))
    labels = draw(st.lists(st.integers(-3, 3), min_size=len(edges), max_size=len(edges)))
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    for (u, v), label in zip(edges, labels):
        G.add_edge(u, v, partial=float(label))
    return G


def edge_path_records(G, s, t):
    """The oracle: networkx's edge paths as (nodes, partials), as a multiset."""
    if s == t:
        return Counter({((s,), ()): 1})
    records = Counter()
    for path in nx.all_simple_edge_paths(G, s, t):
        nodes = (s, *(v for _, v, _ in path))
        records[nodes, tuple(G.edges[e]["partial"] for e in path)] += 1
    return records


class TestPaths:
    def test_the_two_paths_of_dh_dx(self, tr):
        listed = list(paths(tr, "x", "h"))
        assert listed == [Path((0, 3, 6), (1.0, 40.0)), Path((0, 4, 5, 6), (1.0, 5.0, 23.0))]
        assert [p.product for p in listed] == [40.0, 115.0]
        assert sum(p.product for p in listed) == pathad.gradient(tr)["x"] == 155.0

    def test_the_three_paths_of_dh_dy_add_up_to_the_gradient(self, tr):
        assert math.fsum(p.product for p in paths(tr, "y", "h")) == pathad.gradient(tr)["y"]

    def test_names_labels_and_ids_are_accepted(self, tr):
        by_name = list(paths(tr, "x", "h"))
        assert list(paths(tr, 0, 6)) == by_name
        assert list(paths(tr.graph, 0, 6)) == by_name
        assert list(paths(tr, "y", "v2")) == [Path((1, 2), (4.0,))]

    def test_parallel_edges_are_distinct_paths(self):
        listed = list(paths(pathad.trace(lambda x: x * x, 3.0), "x", 1))
        assert [p.partials for p in listed] == [(3.0,), (3.0,)]

    def test_from_a_node_to_itself_there_is_the_empty_path(self, tr):
        assert list(paths(tr, "h", "h")) == [Path((6,), ())]
        assert Path((6,), ()).product == 1

    def test_no_path(self, tr):
        assert list(paths(tr, "x", 2)) == []
        assert list(paths(tr, "h", "x")) == []

    def test_another_weight(self):
        G = nx.MultiDiGraph([("s", "t", {"partial": 2.0, "g": 7})])
        assert [p.partials for p in paths(G, "s", "t", weight="g")] == [(7,)]
        with pytest.raises(MissingWeightError, match="'nope'"):
            list(paths(G, "s", "t", weight="nope"))

    def test_unknown_nodes(self, tr):
        with pytest.raises(UnknownNodeError, match="'z'"):
            paths(tr, "z", "h")

    def test_a_cycle_is_refused(self):
        G = nx.MultiDiGraph([("s", "a", {"partial": 1.0}), ("a", "b", {"partial": 1.0}), ("b", "a", {"partial": 1.0})])
        G.add_edge("b", "t", partial=1.0)
        with pytest.raises(nx.NetworkXUnfeasible, match="cycle"):
            paths(G, "s", "t", limit=None)

    def test_too_many_paths_are_refused_with_the_count(self):
        tr = pathad.trace(logistic_map(20), 0.3)
        with pytest.raises(TooManyPathsError, match=r"there are 1,048,576 paths from 'x' to 'logistic'.*limit=10,000"):
            paths(tr, "x", "logistic")
        assert PATH_LIMIT == 10_000

    def test_a_limit_is_checked_before_anything_is_listed(self):
        tr = pathad.trace(logistic_map(4), 0.3)
        with pytest.raises(TooManyPathsError, match="16 paths"):
            paths(tr, "x", "logistic", limit=15)
        assert len(list(paths(tr, "x", "logistic", limit=16))) == 16

    def test_deep_graphs_need_no_recursion(self):
        depth = 3 * sys.getrecursionlimit()

        def chain(x):
            for _ in range(depth):
                x = pathad.sin(x)
            return x

        tr = pathad.trace(chain, 0.1)
        (only,) = paths(tr, "x", "chain")
        assert len(only) == depth and only.nodes == tuple(range(depth + 1))
        assert only.product == pytest.approx(pathad.derivative(tr, "x"))

    @settings(max_examples=60, deadline=None)
    @given(dags())
    def test_every_path_once_against_networkx(self, G):
        for s in G:
            for t in G:
                listed = Counter((p.nodes, p.partials) for p in paths(G, s, t))
                assert listed == edge_path_records(G, s, t)


class TestCountPaths:
    def test_the_logistic_map_doubles_its_paths_each_step(self):
        for steps in (1, 2, 5, 12, 40):
            tr = pathad.trace(logistic_map(steps), 0.3)
            assert count_paths(tr, "x", "logistic") == 2**steps
            assert tr.graph.number_of_nodes() == 3 * steps + 1

    def test_many_sines_adds_one_path_per_step(self):
        for steps in (1, 6, 30):
            tr = pathad.trace(many_sines_of(steps), 0.5)
            assert count_paths(tr, "x", "many_sines") == steps + 1
            assert tr.graph.number_of_nodes() == 2 * steps + 1

    def test_counts_match_the_listing(self):
        tr = pathad.trace(logistic_map(6), 0.3)
        assert count_paths(tr, "x", "logistic") == len(list(paths(tr, "x", "logistic"))) == 64

    def test_no_path_is_zero(self, tr):
        assert count_paths(tr, "h", "x") == 0


class TestPathSum:
    def test_the_definition_agrees_with_the_sweeps(self, tr):
        for source in ("x", "y"):
            assert path_sum(tr, source, "h") == pathad.derivative(tr, source)
        assert path_sum(tr, "y", "h", semiring=COUNTING) == 3
        assert path_sum(tr, "y", "h", semiring=MAX_PLUS) == 3.0

    def test_it_is_guarded_too(self):
        with pytest.raises(TooManyPathsError, match="1,024 paths"):
            path_sum(pathad.trace(logistic_map(10), 0.3), "x", "logistic", limit=1000)


class TestBestPath:
    def test_the_largest_term_of_dh_dy(self, tr):
        best = best_path(tr, "y", "h")
        assert best == Path((1, 5, 6), (8.0, 23.0))
        assert best_path(tr, "y", "h", direction="backward") == best
        assert best.product == max(p.product for p in paths(tr, "y", "h"))

    def test_no_nonzero_path(self):
        tr = pathad.trace(lambda x: pathad.relu(x) * 2.0, -1.0)
        assert best_path(tr, "x", 2) is None
        assert best_path(tr, 2, "x") is None

    def test_a_negative_term_can_be_the_most_influential(self):
        tr = pathad.trace(lambda x: x * 2.0 - 10.0 * x, 1.0)
        best = best_path(tr, "x", 3)  # x·2 contributes 2, (10·x) subtracted contributes -10
        assert (best.nodes, best.partials, best.product) == ((0, 2, 3), (10.0, -1.0), -10.0)

    @settings(max_examples=60, deadline=None)
    @given(dags())
    def test_against_the_listing_both_ways(self, G):
        for s in G:
            for t in G:
                listed = [p for p in paths(G, s, t) if p.product != 0]
                best = best_path(G, s, t)
                assert best == best_path(G, s, t, direction="backward")
                if not listed:
                    assert best is None
                    continue
                assert abs(best.product) == max(abs(p.product) for p in listed)
                assert (best.nodes, best.partials) in {(p.nodes, p.partials) for p in listed}


class TestDependence:
    def test_structural_sparsity(self):
        def f(x, y, z):
            return pathad.relu(x) * y, z + 1.0, x * 0.0

        tr = pathad.trace(f, -1.0, 2.0, 3.0)
        pattern = sparsity(tr)
        assert pattern.tolist() == [[True, True, False], [False, False, True], [True, False, False]]
        assert not pathad.jacobian(tr).matrix[0, 0]  # relu'(-1) = 0, yet the dependence is there

    def test_sparsity_against_has_path(self):
        tr = pathad.trace(lambda a, b, c: (a * b, b + c, pathad.exp(a)), 1.0, 2.0, 3.0)
        expected = [[nx.has_path(tr.graph, i, o) for i in tr.inputs.values()] for o in tr.outputs]
        assert np.array_equal(sparsity(tr), expected)
        assert sparsity(tr, wrt=["c"], of=[tr.outputs[1]]).tolist() == [[True]]

    def test_active_nodes_against_descendants_and_ancestors(self):
        def f(x, y, w):
            dead = pathad.sin(x) * 3.0  # varied by x, used by no output
            return (x * w + y) * 2.0, pathad.exp(y), dead * 0.0 + w

        tr = pathad.trace(f, 1.0, 2.0, 3.0)
        G = tr.graph
        for wrt, of in ((None, None), (["x"], [tr.outputs[0]]), (["x", "w"], None), (["y"], [tr.outputs[2]])):
            sources = [tr.node(r) for r in (wrt or tr.inputs)]
            targets = of or tr.outputs
            varied = set(sources).union(*(nx.descendants(G, s) for s in sources))
            useful = set(targets).union(*(nx.ancestors(G, t) for t in targets))
            assert active_nodes(tr, wrt=wrt, of=of) == varied & useful


class TestExplain:
    def test_the_lecture_sums(self, tr):
        assert explain(tr, "x") == "∂h/∂x = 1·y·(x+y) + 1·y·(x+4·y) = 40 + 115 = 155"
        assert explain(tr, "x", symbolic=False) == "∂h/∂x = 1·40 + 1·5·23 = 40 + 115 = 155"
        assert explain(tr, "y") == ("∂h/∂y = 4·1·y·(x+y) + 1·y·(x+4·y) + (x+y)·(x+4·y) = 160 + 115 + 184 = 459")

    def test_without_sympy_the_labels_are_numbers(self, tr, monkeypatch):
        monkeypatch.setattr("pathad.enumeration.have_sympy", lambda: False)
        assert explain(tr, "x") == "∂h/∂x = 1·40 + 1·5·23 = 40 + 115 = 155"

    def test_negative_terms_and_labels(self):
        tr = pathad.trace(lambda x, y: x * y - x, 2.0, 0.5)
        assert explain(tr, "x", symbolic=False) == "∂<lambda>/∂x = 0.5·1 + (-1) = 0.5 - 1 = -0.5"
        assert explain(tr, "x") == "∂<lambda>/∂x = y·1 + (-1) = 0.5 - 1 = -0.5"

    def test_one_path_is_not_repeated(self):
        tr = pathad.trace(lambda x: pathad.sin(x), 1.0)
        assert explain(tr, "x") == "∂<lambda>/∂x = cos(x) = 0.540302"

    def test_a_node_with_respect_to_itself(self, tr):
        assert explain(tr, "h", of="h") == "∂h/∂h = 1"

    def test_no_path(self, tr):
        assert explain(tr, "h", of="x") == "∂x/∂h = 0 (no path from h to x)"

    def test_long_labels_fall_back_to_numbers(self):
        tr = pathad.trace(many_sines_of(6), 0.5)
        text = explain(tr, "x")
        assert "cos" not in text and text.count(" + ") == 2 * 6  # 7 terms, written twice
        assert "cos(x+sin(x+sin(" in explain(tr, "x", symbolic=True)

    def test_the_total_is_the_derivative(self):
        tr = pathad.trace(many_sines_of(6), 0.5)
        total = float(explain(tr, "x", symbolic=False).rsplit(" = ", 1)[1])
        assert total == pytest.approx(pathad.derivative(tr, "x"), rel=1e-5)

    def test_too_many_terms_are_refused(self):
        tr = pathad.trace(logistic_map(6), 0.3)
        with pytest.raises(TooManyPathsError, match="there are 64 paths.*limit=32"):
            explain(tr, "x")

    def test_a_graph_needs_of(self, tr):
        with pytest.raises(TypeError, match="of="):
            explain(tr.graph, 0)
        assert explain(tr.graph, 0, 6, symbolic=False) == "∂h/∂x = 1·40 + 1·5·23 = 40 + 115 = 155"


def test_path_sum_takes_a_semiring_by_name_as_solve_does():
    tr = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    for name in ("counting", "boolean", "max-plus", "min-plus"):
        assert pathad.path_sum(tr, "y", tr.output, semiring=name) == pathad.solve(tr, "y", semiring=name)[tr.output]
