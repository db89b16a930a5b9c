"""Vertex elimination as a Jacobian method: entries against the sweeps, ⊗ and ⊕ against counts made by hand."""

import random

import numpy as np
import pytest
from test_flat_adjacency import traced

import pathad
from pathad.elimination import eliminated_jacobian


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def waist(a, b, c):
    """Three inputs through one node (w) to three outputs: the shape where neither sweep direction is cheap."""
    w = pathad.sin(a) + pathad.sin(b) + pathad.sin(c)
    return pathad.cos(w), pathad.exp(w), w * w


@pytest.mark.parametrize("order", ["forward", "reverse", "markowitz"])
def test_h_by_hand(order):
    # nodes: x 0, y 1, 4y 2, x+4y 3, x+y 4, (x+y)·y 5, h 6; every order takes 7 ⊗ and 3 ⊕ here:
    # forward: 2 (1 ⊗: y→3), 3 (2 ⊗: x→6, y→6), 4 (2 ⊗, y→5 joins y's edge: 1 ⊕), 5 (2 ⊗, both join: 2 ⊕)
    tr = pathad.trace(h, 3.0, 5.0)
    J = pathad.jacobian(tr, mode="elimination", order=order)
    assert J.matrix.tolist() == [[155.0, 459.0]]
    assert (J.counts["times"], J.counts["plus"]) == (7, 3)
    assert J.mode == "elimination" and J.sweeps == 0


def test_cross_country_beats_both_sweeps_through_a_waist():
    tr = pathad.trace(waist, 0.1, 0.2, 0.3)
    # by hand: forward from a: a→sin, sin→+, +→w, w→cos, w→exp, w⇒w·w (two edges) = 7 ⊗, 1 ⊕ (at w·w);
    # from b the same; from c: 6 ⊗, 1 ⊕; so 20 ⊗ and 3 ⊕.  Backward from cos or exp: 8 ⊗; from w·w: 9 ⊗
    # and 1 ⊕ (at w); so 25 ⊗ and 1 ⊕.  Markowitz: the three sins (1 ⊗ each), the first + (2 ⊗), then w:
    # 3 in × 4 out = 12 ⊗, each input's second edge to w·w joining its first: 3 ⊕; so 17 ⊗ and 3 ⊕.
    costs = pathad.jacobian_cost(tr)
    assert (costs["forward"].times, costs["forward"].plus) == (20, 3)
    assert (costs["backward"].times, costs["backward"].plus) == (25, 1)
    J = pathad.jacobian(tr, mode="elimination", order="markowitz")
    assert (J.counts["times"], J.counts["plus"]) == (17, 3)
    assert J.counts["times"] + J.counts["plus"] < min(c.times + c.plus for c in costs.values())
    reverse = pathad.jacobian(tr, mode="elimination", order="reverse")
    assert (reverse.counts["times"], reverse.counts["plus"]) == (23, 2)  # w first: 2 in × 4 out, and so on
    np.testing.assert_allclose(J.matrix, pathad.jacobian(tr, mode="forward").matrix, rtol=1e-15)


def test_counts_are_the_counted_semiring_of_the_same_products():
    """The elimination's ⊗ count is Σ |in|·|out| over the eliminated nodes, in the graph each meets."""
    tr = pathad.trace(waist, 0.1, 0.2, 0.3)
    graph = tr.graph.copy()
    _, counts = eliminated_jacobian(tr, [0, 1, 2], tr.outputs, "forward")
    expected = 0
    for node in counts["order"]:
        expected += graph.in_degree(node) * graph.out_degree(node)
        graph = pathad.eliminate(graph, [node], merge=True)
    assert counts["times"] == expected


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.filterwarnings("ignore:program\\[3\\] does not depend")
def test_every_order_gives_the_swept_jacobian(seed):
    tr = traced(seed)
    dense = pathad.jacobian(tr, mode="backward").matrix
    columns, rows = list(tr.inputs.values()), tr.outputs
    between = [n for n in tr.graph if n not in set(columns) | set(rows)]
    for order in ["forward", "reverse", "markowitz"]:
        J = pathad.jacobian(tr, mode="elimination", order=order)
        np.testing.assert_allclose(J.matrix, dense, rtol=1e-10, atol=1e-300)
    # a random order of the nodes that matter
    _, counts = eliminated_jacobian(tr, columns, rows, "forward")
    shuffled = list(counts["order"])
    random.Random(seed).shuffle(shuffled)
    matrix, _ = eliminated_jacobian(tr, columns, rows, shuffled)
    np.testing.assert_allclose(matrix, dense, rtol=1e-10, atol=1e-300)
    read_by_rows = {r for r in rows if tr.graph.out_degree(r)}  # stay inner nodes; a copy of each is the row
    assert set(counts["order"]) <= set(between) | read_by_rows


def test_a_bad_order_is_named():
    tr = pathad.trace(h, 3.0, 5.0)
    with pytest.raises(ValueError, match="missing"):
        eliminated_jacobian(tr, [0, 1], [6], [2, 3])
    with pytest.raises(ValueError, match="order must be one of"):
        eliminated_jacobian(tr, [0, 1], [6], "sideways")


def total(counts):
    return counts["times"] + counts["plus"]


def test_the_optimal_order_beats_markowitz_through_the_waist():
    tr = pathad.trace(waist, 0.1, 0.2, 0.3)
    _, best = eliminated_jacobian(tr, [0, 1, 2], tr.outputs, "optimal")
    _, greedy = eliminated_jacobian(tr, [0, 1, 2], tr.outputs, "markowitz")
    assert (best["times"], best["plus"]) == (17, 2) and total(greedy) == 20  # w before the first +: one ⊕ less


@pytest.mark.filterwarnings("ignore:program\\[3\\] does not depend")
def test_the_optimal_order_is_the_best_of_every_permutation():
    import itertools

    def program(x, y, z):
        u = pathad.sin(x * y)
        v = u + z * x
        w = v * u
        return w + pathad.tanh(v), w * z

    tr = pathad.trace(program, 0.3, -0.6, 0.9)
    columns, rows = list(tr.inputs.values()), tr.outputs
    _, forward = eliminated_jacobian(tr, columns, rows, "forward")
    between = forward["order"]
    assert 4 <= len(between) <= 8
    best = min(total(eliminated_jacobian(tr, columns, rows, list(p))[1]) for p in itertools.permutations(between))
    matrix, optimal = eliminated_jacobian(tr, columns, rows, "optimal")
    assert total(optimal) == best
    np.testing.assert_allclose(matrix, pathad.jacobian(tr).matrix, rtol=1e-12)


def test_the_search_says_where_it_stops():
    def long_chain(x, y):
        for _ in range(20):
            x = pathad.sin(x) * y
        return x

    tr = pathad.trace(long_chain, 0.5, 0.9)
    with pytest.raises(ValueError, match="more than 14 .* use 'markowitz'"):
        pathad.jacobian(tr, mode="elimination", order="optimal")


def test_jacobian_names_its_modes_and_refuses_an_order_it_would_not_use():
    tr = pathad.trace(h, 3.0, 5.0)
    with pytest.raises(ValueError, match="mode must be one of .*'colored-forward'.*'elimination', got 'colored'"):
        pathad.jacobian(tr, mode="colored")
    with pytest.raises(ValueError, match="order= .* needs mode='elimination', not 'backward'"):
        pathad.jacobian(tr, mode="backward", order="optimal")
