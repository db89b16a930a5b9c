"""Vertex elimination keeps every path value; fold_linear gives the lecture's Fig. 2."""

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathad


def all_pairs_path_values(G):
    return {s: pathad.solve(G, s) for s in G}


#: Partials whose products along any path of these small graphs stay normal floats: eliminating a node whose
#: products would underflow is refused with a DomainError (tests/test_sweep_rounding.py checks that case).
PARTIALS = st.floats(-2, 2, allow_nan=False, allow_subnormal=False).filter(lambda w: w == 0 or abs(w) > 1e-30)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_eliminating_any_inner_nodes_keeps_path_values(data):
    n = data.draw(st.integers(3, 8))
    pairs = st.tuples(st.integers(0, n - 2), st.integers(1, n - 1)).filter(lambda p: p[0] < p[1])
    edges = data.draw(st.lists(pairs, min_size=1, max_size=3 * n))
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    for k, (u, v) in enumerate(edges):
        G.add_edge(u, v, key=k % 3, partial=data.draw(PARTIALS), arg=k % 3)
    removed = data.draw(st.lists(st.sampled_from(range(n)), unique=True, max_size=n - 2))
    H = pathad.eliminate(G, removed)
    assert set(H) == set(G) - set(removed)
    before = all_pairs_path_values(G)
    for s in H:
        after = pathad.solve(H, s)
        for t in H:
            assert after.get(t, 0.0) == pytest.approx(before[s].get(t, 0.0), rel=1e-9, abs=1e-9)


def test_parallel_paths_through_an_eliminated_node_add_up():
    tr = pathad.trace(lambda x: (x * x) * 3.0, 2.0)  # x -> x·x twice, then ·3
    H = pathad.eliminate(tr, [1])
    assert list(H.edges(keys=True, data="partial")) == [(0, 2, 0, 12.0)]  # 2·x·3 summed over both uses


def test_eliminate_leaves_the_trace_graph_alone():
    tr = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    pathad.fold_linear(tr)
    assert tr.graph.number_of_nodes() == 7


def test_fold_linear_keeps_inputs_outputs_and_shared_nodes():
    def f(x):
        triple = x * 3.0
        return x * 2.0, triple * triple

    tr = pathad.trace(f, 1.0)
    G = pathad.fold_linear(tr)
    assert set(G) == {0, 1, 2, 3}  # x·2 is an output; x·3 is used twice
    tr2 = pathad.trace(lambda x: pathad.sin(-(x / 2.0 + 1.0)) * 2.0, 1.0)
    assert pathad.fold_linear(tr2).number_of_nodes() == 3  # x, sin, output


def test_new_edges_carry_only_the_weight_and_the_operand_position():
    G = nx.MultiDiGraph()
    G.add_edge("x", "u", 0, partial=2.0, cost=1.0, arg=0)
    G.add_edge("u", "t", 1, partial=3.0, cost=5.0, arg=1)
    H = pathad.eliminate(G, ["u"], weight="cost")
    assert list(H.edges(keys=True, data=True)) == [("x", "t", 1, {"cost": 5.0, "arg": 1})]
