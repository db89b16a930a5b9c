"""pathad.nn.fig9_circuit against the lecture's §6: its structure, its paths and its closed forms."""

import math
import re

import networkx as nx
import numpy as np
import pytest

from pathad import derivative, gradient
from pathad.nn import FIG9_WEIGHTS, MLP, Circuit, SquaredError, fig9_circuit

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


# --- the closed forms from the trace's own node values, at many points ---------------------------


def node_values(tr, names):
    return {name: tr.graph.nodes[tr.node(name)]["value"] for name in names}


def closed_forms(tr, w, x, v, hidden="h{}", output="y{}"):
    """The lecture's ∂Cost/∂w4 and ∂Cost/∂w14, read off the graph's h and y nodes (not recomputed)."""
    values = node_values(tr, [hidden.format(k) for k in (1, 2, 3)] + [output.format(j) for j in (1, 2, 3)])
    h = [values[hidden.format(k)] for k in (1, 2, 3)]
    y = [values[output.format(j)] for j in (1, 2, 3)]
    dw4 = (y[1] - v[1]) * y[1] * (1 - y[1]) * h[0]
    back = sum((y[j] - v[j]) * y[j] * (1 - y[j]) * w[out] for j, out in enumerate(("w3", "w6", "w9")))
    return dw4, back * h[2] * (1 - h[2]) * x[0]


def random_point(seed):
    rng = np.random.default_rng(seed)
    weights = dict(zip(FIG9_WEIGHTS, rng.normal(0.0, 1.5, 15).tolist()))
    return weights, rng.normal(0.0, 1.0, 2).tolist(), rng.uniform(0.0, 1.0, 3).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_closed_forms_from_node_values_at_random_points(seed):
    weights, x, v = random_point(seed)
    tr = fig9_circuit(x, v, weights)
    dw4, dw14 = closed_forms(tr, weights, x, v)
    grad = gradient(tr)
    assert grad["w4"] == pytest.approx(dw4, rel=1e-12, abs=1e-15)
    assert grad["w14"] == pytest.approx(dw14, rel=1e-12, abs=1e-15)


# The Fig. 9 circuit built from pathad.nn's classes: MLP 2-3-3 without biases, Σ ½(y − v)².
# Hidden unit k reads w(8+2k), w(9+2k) (w10, w11 | w12, w13 | w14, w15); output j reads w(3j−2)..w(3j).
MLP_NAME_OF = {f"w1_{k}_{i}": f"w{8 + 2 * k + i - 1}" for k in (1, 2, 3) for i in (1, 2)}
MLP_NAME_OF |= {f"w2_{j}_{k}": f"w{3 * (j - 1) + k}" for j in (1, 2, 3) for k in (1, 2, 3)}


def mlp_fig9():
    return Circuit(MLP([2, 3, 3], "sigmoid", output="sigmoid", bias=False), SquaredError())


def test_the_mlp_names_map_onto_the_lecture_weights():
    assert sorted(MLP_NAME_OF.values(), key=lambda n: int(n[1:])) == list(FIG9_WEIGHTS)
    assert sorted(mlp_fig9().parameters()) == sorted(MLP_NAME_OF)


@pytest.mark.parametrize("seed", range(4))
def test_mlp_circuit_is_the_fig9_circuit(seed):
    weights, x, v = random_point(seed)
    circuit = mlp_fig9()
    ours = {name: weights[lecture] for name, lecture in MLP_NAME_OF.items()}
    tr = circuit.trace(x, v, ours)
    reference = fig9_circuit(x, v, weights)
    assert tr.value == pytest.approx(reference.value, rel=1e-15)
    grad, expected = gradient(tr), gradient(reference)
    for name, lecture in MLP_NAME_OF.items():
        assert grad[name] == pytest.approx(expected[lecture], rel=1e-14, abs=1e-16)
    dw4, dw14 = closed_forms(tr, weights, x, v, hidden="h1_{}")
    assert grad["w2_2_1"] == pytest.approx(dw4, rel=1e-12, abs=1e-15)  # w4: output 2, hidden 1
    assert grad["w1_3_1"] == pytest.approx(dw14, rel=1e-12, abs=1e-15)  # w14: hidden 3, input 1


def test_mlp_circuit_has_the_lecture_path_counts():
    circuit = mlp_fig9()
    weights, x, v = random_point(0)
    tr = circuit.trace(x, v, {name: weights[lecture] for name, lecture in MLP_NAME_OF.items()})
    assert count_paths(tr, "w2_2_1") == 1  # w4
    assert count_paths(tr, "w1_3_1") == 3  # w14
