"""pathad.nn.fig9_circuit against the lecture's §6: its structure, its paths and its closed forms."""

import math
import re

import networkx as nx
import pytest

from pathad import derivative, gradient
from pathad.nn import fig9_circuit

X, V = (0.7, -1.3), (1.0, 0.0, 0.5)
WEIGHTS = {f"w{i}": round(0.37 * math.sin(3.1 * i) + 0.05 * i - 0.3, 6) for i in range(1, 16)}


def sigma(z):
    return 1.0 / (1.0 + math.exp(-z))


def forward(w, x=X, v=V):
    """The circuit by hand, independent of pathad: hidden h, outputs y, Cost."""
    h = [sigma(w[f"w{a}"] * x[0] + w[f"w{b}"] * x[1]) for a, b in ((10, 11), (12, 13), (14, 15))]
    y = [sigma(sum(w[f"w{3 * j + k + 1}"] * h[k] for k in range(3))) for j in range(3)]
    cost = sum(0.5 * (yj - vj) ** 2 for yj, vj in zip(y, v))
    return h, y, cost


@pytest.fixture(scope="module")
def circuit():
    return fig9_circuit(X, V, WEIGHTS)


# --- fig9_circuit: structure ----------------------------------------------------


def test_inputs_are_the_fifteen_weights_and_the_output_is_cost(circuit):
    assert list(circuit.inputs) == [f"w{i}" for i in range(1, 16)]
    assert circuit.label(circuit.output) == "Cost"
    ops = nx.get_node_attributes(circuit.graph, "op")
    assert sum(op == "input" for op in ops.values()) == 15  # x and v are constants, not nodes


def test_named_nodes_are_the_lecture_units(circuit):
    G = circuit.graph
    for name in ("h1", "h2", "h3", "y1", "y2", "y3"):
        assert G.nodes[circuit.node(name)]["op"] == "sigmoid"


def test_value_matches_a_hand_computation(circuit):
    h, y, cost = forward(WEIGHTS)
    assert circuit.value == pytest.approx(cost, rel=1e-14)
    for k in range(3):
        assert circuit.graph.nodes[circuit.node(f"h{k + 1}")]["value"] == pytest.approx(h[k], rel=1e-14)
        assert circuit.graph.nodes[circuit.node(f"y{k + 1}")]["value"] == pytest.approx(y[k], rel=1e-14)


def test_hidden_units_take_the_lecture_weights(circuit):
    G = circuit.graph
    for hidden, weights in (("h1", {"w10", "w11"}), ("h2", {"w12", "w13"}), ("h3", {"w14", "w15"})):
        feeding = {G.nodes[a]["label"] for a in nx.ancestors(G, circuit.node(hidden)) if G.nodes[a]["op"] == "input"}
        assert feeding == weights


# --- fig9_circuit: paths (the lecture's claims) ----------------------------------------


def count_paths(tr, source):
    return sum(1 for _ in nx.all_simple_paths(tr.graph, tr.node(source), tr.output))


def test_one_path_from_w4_and_three_from_w14(circuit):
    assert count_paths(circuit, "w4") == 1
    assert count_paths(circuit, "w14") == 3


@pytest.mark.parametrize("i", range(1, 16))
def test_output_weights_have_one_path_hidden_weights_three(circuit, i):
    assert count_paths(circuit, f"w{i}") == (1 if i <= 9 else 3)


# --- fig9_circuit: derivatives -------------------------------------------------------


def test_dcost_dw4_is_the_lecture_closed_form(circuit):
    h, y, _ = forward(WEIGHTS)
    expected = (y[1] - V[1]) * y[1] * (1 - y[1]) * h[0]
    assert derivative(circuit, "w4") == pytest.approx(expected, rel=1e-12)
    assert derivative(circuit, "w4", mode="forward") == pytest.approx(expected, rel=1e-12)


def test_dcost_dw14_is_the_lecture_closed_form(circuit):
    h, y, _ = forward(WEIGHTS)
    w = WEIGHTS
    back = sum((y[j] - V[j]) * y[j] * (1 - y[j]) * w[f"w{3 * j + 3}"] for j in range(3))  # w3, w6, w9
    expected = back * h[2] * (1 - h[2]) * X[0]
    assert derivative(circuit, "w14") == pytest.approx(expected, rel=1e-12)


def test_gradient_matches_central_differences(circuit):
    grad = gradient(circuit)
    for name in WEIGHTS:
        step = 1e-6
        up, down = dict(WEIGHTS), dict(WEIGHTS)
        up[name] += step
        down[name] -= step
        numeric = (forward(up)[2] - forward(down)[2]) / (2 * step)
        assert grad[name] == pytest.approx(numeric, rel=1e-6, abs=1e-10)


# --- fig9_circuit: arguments -------------------------------------------------------


def test_default_weights_are_seeded():
    assert fig9_circuit(X, V).value == fig9_circuit(X, V).value
    assert fig9_circuit(X, V, seed=1).value != fig9_circuit(X, V, seed=2).value


def test_constants_are_named_for_drawing(circuit):
    names = circuit.graph.graph["constants"]
    assert sorted(names.values()) == ["v1", "v2", "v3"] + ["x1"] * 3 + ["x2"] * 3
    for (node, position), name in names.items():
        ((pos, value),) = [c for c in circuit.graph.nodes[node]["consts"] if c[0] == position]
        expected = X[int(name[1]) - 1] if name[0] == "x" else V[int(name[1]) - 1]
        assert value == expected


@pytest.mark.parametrize(
    "x, v, weights, message",
    [
        ((1.0,), V, None, "x must hold 2 numbers"),
        (X, (1.0, 0.0), None, "v must hold 3 numbers"),
        (X, V, {"w1": 1.0}, "missing ['w2'"),
        (X, V, {**WEIGHTS, "w16": 0.0}, "unexpected ['w16']"),
    ],
)
def test_bad_arguments_are_clear_errors(x, v, weights, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fig9_circuit(x, v, weights)
