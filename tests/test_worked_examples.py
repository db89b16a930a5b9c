"""The worked examples of the source documents, with the numbers they print."""

import math

import numpy as np
import pytest
import sympy as sp

import pathad


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


class TestLectureRunningExample:
    """CS701 notes: h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5 (Figs. 2 and 3, Example 4.1)."""

    def test_value_and_partials_both_ways(self):
        tr = pathad.trace(h, x=3.0, y=5.0)
        assert tr.value == 920.0
        for mode in ("forward", "backward"):
            assert pathad.gradient(tr, mode=mode) == {"x": 155.0, "y": 459.0}

    def test_fig2_after_folding_the_constant_scaling(self):
        G = pathad.fold_linear(pathad.trace(h, x=3.0, y=5.0))
        assert (G.number_of_nodes(), G.number_of_edges()) == (6, 8)
        label = {n: d["label"] for n, d in G.nodes(data=True)}
        value = {label[n]: d["value"] for n, d in G.nodes(data=True)}
        assert sorted(value.values()) == [3.0, 5.0, 8.0, 23.0, 40.0, 920.0]
        by_values = sorted((G.nodes[u]["value"], G.nodes[v]["value"], p) for u, v, p in G.edges(data="partial"))
        assert by_values == [
            (3.0, 8.0, 1.0),  # x -> x+y
            (3.0, 23.0, 1.0),  # x -> x+4y
            (5.0, 8.0, 1.0),  # y -> x+y
            (5.0, 23.0, 4.0),  # y -> x+4y, the lecture's edge labeled 4
            (5.0, 40.0, 8.0),  # y -> (x+y)·y, labeled x+y
            (8.0, 40.0, 5.0),  # x+y -> (x+y)·y, labeled y
            (23.0, 920.0, 40.0),  # x+4y -> h, labeled (x+y)·y
            (40.0, 920.0, 23.0),  # (x+y)·y -> h, labeled x+4y
        ]
        # the path problem on the folded graph gives the same answers (Fig. 3)
        node = {d["label"]: n for n, d in G.nodes(data=True)}
        assert pathad.solve(G, node["x"])[node["h"]] == 155.0
        assert pathad.solve(G, node["h"], direction="backward")[node["y"]] == 459.0

    def test_matches_the_expanded_polynomial(self):
        x, y = sp.symbols("x y")
        expanded = sp.expand(h(x, y))
        assert expanded == x**2 * y + 5 * x * y**2 + 4 * y**3
        assert sp.diff(expanded, x) == 2 * x * y + 5 * y**2  # Example 4.1
        assert sp.diff(expanded, x).subs({x: 3, y: 5}) == 155


def test_x_plus_y_times_log():
    """Slides: f(x1, x2) = (x1 + x2)·ln(x1 + x2) at (2, 5) = 13.6, both partials 2.95."""
    tr = pathad.trace(lambda x1, x2: (x1 + x2) * pathad.log(x1 + x2), 2.0, 5.0)
    assert round(tr.value, 1) == 13.6
    assert tr.value == pytest.approx(7 * math.log(7), rel=1e-15)
    for mode in ("forward", "backward"):
        grad = pathad.gradient(tr, mode=mode)
        assert [round(v, 2) for v in grad.values()] == [2.95, 2.95]
        assert grad["x1"] == pytest.approx(math.log(7) + 1, rel=1e-15)


def logistic_l4(x):
    level = x  # the slides' l_t
    for _ in range(3):  # l_{t+1} = 4 l_t (1 - l_t), l_1 = x, f = l_4
        level = 4 * level * (1 - level)
    return level


@pytest.mark.parametrize("x0", [0.1, 0.3, 0.77])
def test_logistic_map(x0):
    """Slides: l4 equals 64x(1-x)(1-2x)²(1-8x+8x²)²; its derivative by both sweeps against sympy."""
    x = sp.Symbol("x")
    closed = 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x**2) ** 2
    tr = pathad.trace(logistic_l4, x0)
    assert tr.value == pytest.approx(float(closed.subs(x, x0)), rel=1e-12)
    expected = float(sp.diff(closed, x).subs(x, x0))
    assert pathad.derivative(tr, "x") == pytest.approx(expected, rel=1e-10)
    assert pathad.derivative(tr, "x", mode="forward") == pytest.approx(expected, rel=1e-10)


def many_sines(x):
    y = x
    for _ in range(1, 7):
        y = np.sin(x + y)
    return y


def test_many_sines():
    """Blog post: y = x, then six times y = sin(x + y); the derivative against sympy and its nested form."""
    x = sp.Symbol("x")
    expected = float(sp.diff(many_sines_sympy(x), x).subs(x, 0.7))
    tr = pathad.trace(many_sines, 0.7)
    assert tr.value == pytest.approx(many_sines(0.7), rel=1e-15)
    assert pathad.derivative(tr, "x") == pytest.approx(expected, rel=1e-13)
    assert pathad.derivative(tr, "x", mode="forward") == pytest.approx(expected, rel=1e-13)
    # the post's nested form: (((((2cos(2x)+1)cos(u2)+1)cos(u3)+1)...)cos(u6), u_k the k-th sine's argument
    args, y = [], 0.7
    for _ in range(6):
        args.append(0.7 + y)
        y = math.sin(0.7 + y)
    nested = 2 * math.cos(args[0])
    for u in args[1:]:
        nested = (nested + 1) * math.cos(u)
    assert pathad.derivative(tr, "x") == pytest.approx(nested, rel=1e-13)


def many_sines_sympy(x):
    y = x
    for _ in range(6):
        y = sp.sin(x + y)
    return y


def test_exp_and_sin_of_a_shared_subexpression():
    """Blog post: f(x) = exp(exp(x) + exp(x)²) + sin(exp(x) + exp(x)²), reverse sweep."""

    def f(x):
        u = pathad.exp(x)
        s = u + u**2
        return pathad.exp(s) + pathad.sin(s)

    x = sp.Symbol("x")
    u = sp.exp(x)
    expected = float(sp.diff(sp.exp(u + u**2) + sp.sin(u + u**2), x).subs(x, 0.3))
    tr = pathad.trace(f, 0.3)
    assert pathad.derivative(tr, "x") == pytest.approx(expected, rel=1e-13)
    assert pathad.derivative(tr, "x", mode="forward") == pytest.approx(expected, rel=1e-13)


def test_sigmoid_neuron_t1_to_t8():
    """Blog post: t1 = w·x ... t8 = (σ - target)², w = 2, b = 0, x = 1, target = 10."""

    def neuron(w, b, x, target):
        t1 = w * x
        t2 = t1 + b
        t3 = -1 * t2
        t4 = pathad.exp(t3)
        t5 = t4 + 1
        t6 = t5**-1
        t7 = (t6 - target).named("t7")
        return t7**2

    tr = pathad.trace(neuron, w=2.0, b=0.0, x=1.0, target=10.0)
    grad = pathad.gradient(tr)
    assert grad["w"] == -1.9149156216104704
    assert grad["b"] == -1.9149156216104704
    assert pathad.derivative(tr, "w", mode="forward") == pytest.approx(-1.9149156216104704, rel=1e-15)
    adjoint = pathad.solve(tr.graph, tr.output, direction="backward")
    assert adjoint[tr.node("t7")] == -18.238405844044234
    by_op = {tr.graph.nodes[n]["op"]: a for n, a in adjoint.items()}
    assert by_op["exp"] == 14.149418952798422  # ∂t8/∂t4 (accumulated, not assigned)


def test_sqrt_of_three_sin():
    """Blog post: f(x) = √(3 sin x) at 2 = 1.6516332160855343, f'(2) = -0.3779412091869595."""
    tr = pathad.trace(lambda x: pathad.sqrt(3 * pathad.sin(x)), 2.0)
    assert tr.value == 1.6516332160855343
    assert pathad.derivative(tr, "x") == pytest.approx(-0.3779412091869595, rel=1e-15)
    assert pathad.derivative(tr, "x", mode="forward") == pytest.approx(-0.3779412091869595, rel=1e-15)


class TestPartialVersusTotal:
    """Reader question: t1 = 2, t2 = t1², t3 = t1² + t2²: which derivative is 'dt3/dt2'?"""

    def test_graph_answer_follows_the_program_structure(self):
        def program(t1):
            t2 = (t1**2).named("t2")
            return t1**2 + t2**2

        tr = pathad.trace(program, 2.0)
        # ∂t3/∂t2 along paths from t2: the single edge t2 -> t3, labeled 2·t2 = 8
        assert pathad.derivative(tr, "t2") == 8.0
        # dt3/dt1 sums both paths: 2·t1 + 2·t2·2·t1 = 4 + 32
        assert pathad.derivative(tr, "t1") == 36.0

    def test_the_substituted_program_is_a_different_function(self):
        def substituted(t2):  # t1 = √t2 makes t1 depend on t2: "t3 = t2 + t2²"
            t1 = pathad.sqrt(t2)
            return t1**2 + t2**2

        tr = pathad.trace(substituted, 4.0)
        assert pathad.derivative(tr, "t2") == pytest.approx(1 + 2 * 4.0, rel=1e-15)
