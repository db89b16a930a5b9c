"""trace(): the recorded graph follows the public conventions, and traced numbers act like floats."""

import gc
import math

import networkx as nx
import numpy as np
import pytest

import pathad
from pathad.tracing import _build_graph


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


class TestTrace:
    def test_names_come_from_the_signature(self):
        by_position, by_keyword = pathad.trace(h, 3.0, 5.0), pathad.trace(h, y=5.0, x=3.0)
        assert by_position.inputs == by_keyword.inputs == {"x": 0, "y": 1}
        assert by_position.value == by_keyword.value == 920.0

    def test_outputs(self):
        tr = pathad.trace(h, 3.0, 5.0)
        assert tr.outputs == [tr.output]
        assert tr.graph.nodes[tr.output]["label"] == "h"
        assert tr.graph.nodes[tr.output]["value"] == 920.0

    def test_several_outputs_keep_their_shape(self):
        assert pathad.trace(lambda x: (x, x * 2), 1.5).value == (1.5, 3.0)
        assert pathad.trace(lambda x: [x * 2], 1.5).value == [3.0]
        tr = pathad.trace(lambda x: {"double": x * 2, "square": x * x}, 3.0)
        assert tr.value == {"double": 6.0, "square": 9.0}
        assert [tr.label(n) for n in tr.outputs] == ["double", "square"]
        with pytest.raises(ValueError, match="2 outputs"):
            _ = tr.output

    def test_input_as_output(self):
        tr = pathad.trace(lambda x, y: (x, x * y), 2.0, 3.0)
        assert tr.outputs[0] == tr.inputs["x"]
        assert pathad.jacobian(tr).matrix.tolist() == [[1.0, 0.0], [3.0, 2.0]]

    def test_repr_mentions_size_and_value(self):
        assert repr(pathad.trace(h, 3.0, 5.0)) == "<Trace h(x, y) = 920.0: 7 nodes, 9 edges>"


class TestGraphConventions:
    def test_nodes_and_edges(self):
        G = pathad.trace(h, 3.0, 5.0).graph
        assert isinstance(G, nx.MultiDiGraph) and nx.is_directed_acyclic_graph(G)
        assert list(G) == list(range(7))
        assert all(u < v for u, v in G.edges())  # creation order is topological
        assert [G.nodes[n]["op"] for n in G] == ["input", "input", "mul", "add", "add", "mul", "mul"]
        assert [G.nodes[n]["label"] for n in G] == ["x", "y", "v2", "v3", "v4", "v5", "h"]

    def test_constants_are_not_nodes(self):
        G = pathad.trace(lambda y: 4 * y, 5.0).graph
        assert G.number_of_nodes() == 2
        assert list(G.edges(keys=True, data=True)) == [(0, 1, 1, {"partial": 4.0, "arg": 1})]
        assert G.nodes[1]["consts"] == ((0, 4.0),)

    def test_each_use_is_an_edge(self):
        G = pathad.trace(lambda x: x * x, 3.0).graph
        assert G.number_of_edges(0, 1) == 2
        assert sorted(G.edges(keys=True, data="partial")) == [(0, 1, 0, 3.0), (0, 1, 1, 3.0)]

    def test_fast_build_equals_networkx_build(self):
        tr = pathad.trace(lambda x, y: pathad.sin(x * y) / (x + y) ** 2 - x * x, 0.4, 1.7)
        slow = nx.MultiDiGraph()
        slow.add_nodes_from(tr.graph.nodes(data=True))
        tape = tr.tape
        slow.add_edges_from(
            (u, v, k, {"partial": p, "arg": k}) for u, v, k, p in zip(tape.src, tape.dst, tape.arg, tape.partial)
        )
        fast = _build_graph(tape)
        assert nx.utils.graphs_equal(fast, slow)
        assert list(fast.in_edges(fast.number_of_nodes() - 1, keys=True)) == list(
            slow.in_edges(fast.number_of_nodes() - 1, keys=True)
        )
        fast.remove_node(0)  # the graph is a normal networkx graph the user may edit
        assert 0 not in fast and all(0 not in fast.pred[n] for n in fast)

    def test_named_nodes(self):
        tr = pathad.trace(lambda x: (x * 2).named("double") + 1, 3.0)
        assert tr.node("double") == 1
        assert pathad.derivative(tr, "double") == 1.0


class TestTracedNumbers:
    def test_arithmetic_with_constants_on_either_side(self):
        def f(x):
            return [x + 2, 2 + x, x - 2, 2 - x, x * 2, 2 * x, x / 2, 2 / x, x**2, 2**x, -x, +x, abs(-x)]

        tr = pathad.trace(f, 3.0)
        assert tr.value == [5.0, 5.0, 1.0, -1.0, 6.0, 6.0, 1.5, 2 / 3, 9.0, 8.0, -3.0, 3.0, 3.0]
        expected = [1, 1, 1, -1, 2, 2, 0.5, -2 / 9, 6, 8 * math.log(2), -1, 1, 1]
        assert pathad.jacobian(tr).matrix.ravel() == pytest.approx(expected, rel=1e-15)

    def test_comparisons_are_recorded_as_guards(self):
        def f(x, y):
            z = x
            while z < 10:
                z = z * y
            return z

        tr = pathad.trace(f, 1.5, 2.0)
        assert tr.value == 12.0  # 1.5·2·2·2
        assert pathad.gradient(tr) == {"x": 8.0, "y": 3 * 1.5 * 4.0}
        assert [g[-1] for g in tr.tape.guards] == [True, True, True, False]

    def test_float_and_int_are_errors_bool_is_a_branch(self):
        for plain in (float, int):
            with pytest.raises(pathad.LostDerivativeError, match=f"{plain.__name__}\\(\\) of the traced value x"):
                pathad.trace(lambda x, plain=plain: x * plain(x), 2.5)
        tr = pathad.trace(lambda x: x * x.value + (x if x else 1.0), 2.5)
        assert tr.value == 2.5 * 2.5 + 2.5
        assert pathad.derivative(tr, "x") == 2.5 + 1  # .value is a deliberate constant

    def test_not_hashable(self):
        with pytest.raises(TypeError):
            pathad.trace(lambda x: {x: 1} and x, 1.0)

    def test_pathad_functions_on_plain_numbers(self):
        assert pathad.exp(0.0) == 1.0 and pathad.sigmoid(0) == 0.5 and pathad.relu(-2) == 0.0

    def test_numpy_ufuncs(self):
        def f(x):
            return np.sin(x) * np.float64(2.0) + np.exp(x) - np.sqrt(x) / np.log(x + 1) + np.tanh(x) ** 2

        tr = pathad.trace(f, 0.8)
        x = 0.8
        assert tr.value == pytest.approx(f(x), rel=1e-15)
        expected = (
            2 * math.cos(x)
            + math.exp(x)
            - (1 / (2 * math.sqrt(x)) * math.log(x + 1) - math.sqrt(x) / (x + 1)) / math.log(x + 1) ** 2
            + 2 * math.tanh(x) * (1 - math.tanh(x) ** 2)
        )
        assert pathad.derivative(tr, "x") == pytest.approx(expected, rel=1e-14)

    def test_unknown_ufunc_is_a_clear_error(self):
        with pytest.raises(TypeError, match="numpy.spacing is not differentiable through pathad"):
            pathad.trace(np.spacing, 1.5)

    def test_object_arrays_for_small_circuits(self):
        W = np.array([[1.0, -2.0], [0.5, 3.0]])

        def layer(a, b):
            return tuple(pathad.sigmoid(W @ np.array([a, b])))

        tr = pathad.trace(layer, 0.2, -0.1)
        s = [1 / (1 + math.exp(-(W[i] @ [0.2, -0.1]))) for i in range(2)]
        assert tr.value == pytest.approx(tuple(s), rel=1e-15)
        expected = [[s[i] * (1 - s[i]) * W[i, j] for j in range(2)] for i in range(2)]
        assert pathad.jacobian(tr).matrix == pytest.approx(np.array(expected), rel=1e-14)
        assert np.exp(np.array([pathad.trace(lambda x: x, 1.0)]).dtype == object) is not None

    def test_elementwise_ufunc_on_object_array(self):
        tr = pathad.trace(lambda x, y: tuple(np.sin(np.array([x, y]) * 2.0)), 0.3, 0.4)
        assert pathad.jacobian(tr).matrix == pytest.approx(np.diag([2 * math.cos(0.6), 2 * math.cos(0.8)]))


def test_tracing_creates_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        tr = pathad.trace(lambda x, y: sum(pathad.tanh(x * i + y) for i in range(50)), 0.1, 0.2)
        pathad.gradient(tr)
        del tr
        assert gc.collect() == 0
    finally:
        gc.enable()
