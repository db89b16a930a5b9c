"""Symbolic path sums against sympy's own differentiation, and sympy as an optional dependency."""

import subprocess
import sys
import textwrap
import types

import networkx as nx
import pytest
import sympy

import pathad
from pathad.semirings import SYMBOLIC
from pathad.solver import solve
from pathad.symbolic import (
    MissingDependencyError,
    symbolic_derivative,
    symbolic_expression,
    symbolic_graph,
)

X, Y = sympy.symbols("x y", real=True)


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


@pytest.fixture
def tr():
    return pathad.trace(h, x=3.0, y=5.0)


class TestExample41:
    @pytest.mark.parametrize("mode", ["forward", "backward"])
    def test_dh_dx_is_2xy_plus_5y2_both_ways(self, tr, mode):
        assert symbolic_derivative(tr, "x", mode=mode) == 2 * X * Y + 5 * Y**2

    @pytest.mark.parametrize("mode", ["forward", "backward"])
    def test_dh_dy_both_ways(self, tr, mode):
        assert symbolic_derivative(tr, "y", mode=mode) == X**2 + 10 * X * Y + 12 * Y**2

    def test_against_sympy_differentiating_h_itself(self, tr):
        direct = h(X, Y)
        for symbol, name in ((X, "x"), (Y, "y")):
            assert sympy.expand(symbolic_derivative(tr, name) - sympy.diff(direct, symbol)) == 0

    def test_evaluated_at_the_point_it_is_the_number(self, tr):
        assert symbolic_derivative(tr, "x").subs({X: 3, Y: 5}) == 155
        assert symbolic_derivative(tr, "y").subs({X: 3, Y: 5}) == 459

    def test_the_unexpanded_sum_has_one_term_per_path(self, tr):
        raw = symbolic_derivative(tr, "x", mode="forward", expand=False)
        assert sympy.expand(raw) == 2 * X * Y + 5 * Y**2


class TestSymbolicGraph:
    def test_the_labels_of_fig_2a(self, tr):
        S = symbolic_graph(tr)
        labels = {(u, v): label for u, v, label in S.edges(data="symbolic")}
        assert labels == {
            (0, 3): 1,
            (0, 4): 1,
            (1, 2): 4,
            (1, 4): 1,
            (1, 5): X + Y,
            (2, 3): 1,
            (3, 6): Y * (X + Y),
            (4, 5): Y,
            (5, 6): X + 4 * Y,
        }
        assert S.nodes[6]["expr"] == (X + 4 * Y) * (X + Y) * Y

    def test_numbers_stay_on_the_copy_and_the_trace_is_untouched(self, tr):
        S = symbolic_graph(tr)
        for u, v, k, data in S.edges(keys=True, data=True):
            assert float(data["symbolic"].subs({X: 3, Y: 5})) == data["partial"] == tr.graph.edges[u, v, k]["partial"]
        assert all("symbolic" not in data for *_, data in tr.graph.edges(data=True))

    def test_restricted_to_what_a_node_depends_on(self, tr):
        assert set(symbolic_graph(tr, [4])) == {0, 1, 4}
        assert set(symbolic_graph(tr, "v3")) == {0, 1, 2, 3}

    def test_both_sweeps_over_the_symbolic_semiring(self, tr):
        S = symbolic_graph(tr)
        forward = solve(S, 0, semiring=SYMBOLIC)[6]
        backward = solve(S, 6, direction="backward", semiring=SYMBOLIC)[0]
        assert sympy.expand(forward - backward) == 0

    def test_constants_become_exact(self):
        tr = pathad.trace(lambda x: 0.1 * x + x**2.0 / 3.0, 1.0)
        assert symbolic_derivative(tr, "x") == sympy.Rational(1, 10) + sympy.Rational(2, 3) * X
        assert symbolic_expression(tr) == X / 10 + X**2 / 3

    def test_an_unknown_op_is_named(self, tr):
        G = nx.MultiDiGraph(tr.graph)
        G.nodes[6]["op"] = "frobnicate"
        with pytest.raises(ValueError, match="'h' has op 'frobnicate'"):
            symbolic_graph(G)


def sympy_sigmoid(a):
    return 1 / (1 + sympy.exp(-a))


PATHAD_MATH = types.SimpleNamespace(
    exp=pathad.exp, log=pathad.log, sqrt=pathad.sqrt, sin=pathad.sin, cos=pathad.cos,
    tan=pathad.tan, tanh=pathad.tanh, sigmoid=pathad.sigmoid,
)  # fmt: skip
SYMPY_MATH = types.SimpleNamespace(
    exp=sympy.exp, log=sympy.log, sqrt=sympy.sqrt, sin=sympy.sin, cos=sympy.cos,
    tan=sympy.tan, tanh=sympy.tanh, sigmoid=sympy_sigmoid,
)  # fmt: skip


# Between them they use every operator and function of the primitive table.  They are
# traced with pathad's math (the default m) and called on symbols with sympy's.
def exp_log_sqrt(x, y, m=PATHAD_MATH):
    return m.exp(x * y) / (1 + y**2) - m.log(x) * m.sqrt(y)


def trigonometry(x, y, m=PATHAD_MATH):
    return m.sin(x) * m.cos(x * y) + m.tan(y / x)


def tanh_sigmoid_pow(x, y, m=PATHAD_MATH):
    return m.tanh(x - y) * m.sigmoid(2 * x) + x**y


def polynomial_abs(x, y, m=PATHAD_MATH):
    return -(x**3) * (y - 1) / (x + y) + abs(x - 2 * y)


def nested(x, y, m=PATHAD_MATH):
    return m.sigmoid(m.sigmoid(x) * y) * m.exp(-x) + 2**x


@pytest.mark.parametrize("f", [exp_log_sqrt, trigonometry, tanh_sigmoid_pow, polynomial_abs, nested])
@pytest.mark.parametrize("mode", ["forward", "backward"])
def test_against_sympy_diff_over_the_primitive_table(f, mode):
    tr = pathad.trace(f, 0.7, 1.3)
    direct = f(X, Y, m=SYMPY_MATH)
    point = {X: sympy.Rational(7, 10), Y: sympy.Rational(13, 10)}
    gradient = pathad.gradient(tr)
    for symbol, name in ((X, "x"), (Y, "y")):
        ours = symbolic_derivative(tr, name, mode=mode, expand=False)
        assert sympy.simplify(ours - sympy.diff(direct, symbol)) == 0
        assert float(ours.subs(point)) == pytest.approx(gradient[name], rel=1e-12)


def test_kinks_use_the_same_conventions_as_the_numbers():
    tr = pathad.trace(lambda x: pathad.relu(x) + abs(x), 2.0)
    S = symbolic_graph(tr)
    assert (S.nodes[1]["op"], S.nodes[2]["op"]) == ("relu", "abs")
    relu_label, abs_label = (S.edges[0, n, 0]["symbolic"] for n in (1, 2))
    assert relu_label == sympy.Heaviside(X, 0) and relu_label.subs(X, 0) == 0
    assert abs_label == sympy.sign(X)
    assert symbolic_derivative(tr, "x").subs(X, 2) == 2 == pathad.derivative(tr, "x")


def test_no_dependence_is_zero(tr):
    assert symbolic_derivative(tr, "x", of=2) == 0
    assert symbolic_derivative(tr, "h", of="h") == 1


def test_a_bad_mode():
    with pytest.raises(ValueError, match="mode must be"):
        symbolic_derivative(pathad.trace(lambda x: x * x, 1.0), "x", mode="sideways")


class TestWithoutSympy:
    def test_the_functions_say_how_to_install_it(self, tr, monkeypatch):
        monkeypatch.setitem(sys.modules, "sympy", None)  # makes `import sympy` fail
        with pytest.raises(MissingDependencyError, match=r'pip install "pathad\[symbolic\]"'):
            symbolic_derivative(tr, "x")
        with pytest.raises(ImportError):
            symbolic_graph(tr)

    def test_pathad_imports_and_explains_without_it(self):
        script = textwrap.dedent(
            """
            import sys
            sys.modules["sympy"] = None
            import pathad
            from pathad.enumeration import explain
            from pathad.semirings import SYMBOLIC
            from pathad.symbolic import have_sympy
            tr = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
            print(have_sympy(), SYMBOLIC.name, explain(tr, "x"))
            """
        )
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        assert run.stdout.strip() == "False symbolic ∂<lambda>/∂x = 1·40 + 1·5·23 = 40 + 115 = 155"
