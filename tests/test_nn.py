"""pathad.nn circuits, and their gradients checked against independent oracles.

Oracles, none of which uses pathad:
* the delta rule of backpropagation (shared/seeds/000: δ = ŷ − y at the output,
  δ_j = f'(a_j) Σ_k δ_k w_kj below, ∂E/∂w_ij = δ_i z_j), written out by hand;
* complex-step differentiation of a hand-written complex forward pass;
* central differences (for relu, which is not analytic).
"""

import math
import re

import networkx as nx
import numpy as np
import pytest

from pathad import eliminate, gradient
from pathad.datasets import DataError
from pathad.nn import MLP, Circuit, Layer, Neuron, SoftmaxCrossEntropy, SquaredError
from pathad.training import Retrace

# --- the oracles -----------------------------------------------------------------------------------


def act(kind, a):
    """Activation on a float (or complex) number, by its textbook formula."""
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-a))
    if kind == "tanh":
        return np.tanh(a)
    if kind == "relu":
        return a if a.real > 0 else 0.0 * a
    return a


def act_prime(kind, a, z):
    """f'(a) from the pre-activation a and the output z = f(a)."""
    return {"sigmoid": z * (1 - z), "tanh": 1 - z * z, "relu": 1.0 if a > 0 else 0.0, "linear": 1.0}[kind]


def layer_weights(w, sizes, bias):
    """[(W, b)] as nested lists read by the public names w{l}_{j}_{i}, b{l}_{j}."""
    out = []
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), 1):
        W = [[w[f"w{layer}_{j}_{i}"] for i in range(1, n_in + 1)] for j in range(1, n_out + 1)]
        b = [w[f"b{layer}_{j}"] if bias else 0.0 for j in range(1, n_out + 1)]
        out.append((W, b))
    return out


def forward_by_hand(w, sizes, kinds, bias, x):
    """Pre-activations a and outputs z per layer (z[0] = x), scalar loops."""
    a_all, z_all = [None], [list(x)]
    for (W, b), kind in zip(layer_weights(w, sizes, bias), kinds):
        a = [sum(W[j][i] * z_all[-1][i] for i in range(len(W[j]))) + b[j] for j in range(len(W))]
        a_all.append(a)
        z_all.append([act(kind, aj) for aj in a])
    return a_all, z_all


def cost_by_hand(cost, y, v):
    if cost == "squared":
        return sum(0.5 * (yj - vj) ** 2 for yj, vj in zip(y, v))
    shift = max(float(np.real(yj)) for yj in y)
    lse = shift + np.log(sum(np.exp(yj - shift) for yj in y))
    return sum(vj * (lse - yj) for yj, vj in zip(y, v))


def delta_rule(w, sizes, kinds, bias, x, v, cost):
    """∂Cost/∂w for every weight name by the delta rule."""
    a, z = forward_by_hand(w, sizes, kinds, bias, x)
    weights = layer_weights(w, sizes, bias)
    y = z[-1]
    if cost == "squared":
        delta = [(y[j] - v[j]) * act_prime(kinds[-1], a[-1][j], y[j]) for j in range(len(y))]
    else:  # softmax cross-entropy on linear outputs: δ = p − v
        e = [math.exp(yj - max(y)) for yj in y]
        delta = [e[j] / sum(e) - v[j] for j in range(len(y))]
    grads = {}
    for layer in range(len(weights), 0, -1):
        W, _ = weights[layer - 1]
        below = layer - 1  # z[below] feeds this layer
        for j, d in enumerate(delta, 1):
            for i, zi in enumerate(z[below], 1):
                grads[f"w{layer}_{j}_{i}"] = d * zi  # ∂E/∂w_ji = δ_j z_i
            if bias:
                grads[f"b{layer}_{j}"] = d
        if below > 0:  # δ_i = f'(a_i) Σ_k δ_k w_ki
            kind = kinds[below - 1]
            delta = [
                act_prime(kind, a[below][i], z[below][i]) * sum(delta[k] * W[k][i] for k in range(len(delta)))
                for i in range(len(z[below]))
            ]
    return grads


def complex_step(w, sizes, kinds, bias, x, v, cost, h=1e-30):
    """∂Cost/∂w_k = Im Cost(w + i·h·e_k) / h: no cancellation, exact to rounding."""
    grads = {}
    for name in w:
        shifted = dict(w)
        shifted[name] = w[name] + 1j * h
        _, z = forward_by_hand(shifted, sizes, kinds, bias, x)
        grads[name] = float(np.imag(cost_by_hand(cost, z[-1], v))) / h
    return grads


def central_differences(w, sizes, kinds, bias, x, v, cost, h=1e-6):
    grads = {}
    for name in w:
        up, down = dict(w), dict(w)
        up[name] += h
        down[name] -= h
        values = [cost_by_hand(cost, forward_by_hand(p, sizes, kinds, bias, x)[1][-1], v) for p in (up, down)]
        grads[name] = (values[0] - values[1]) / (2 * h)
    return grads


# --- random networks -------------------------------------------------------------------------------

# (sizes, hidden activation, output activation, cost, bias)
NETWORKS = [
    ((3, 4, 2), "tanh", "linear", "squared", True),  # the seed post's network: tanh hidden, linear output
    ((2, 3, 3), "sigmoid", "sigmoid", "squared", False),  # the lecture's Fig. 9 shape
    ((5, 4, 3, 2), "sigmoid", "sigmoid", "squared", True),
    ((4, 6, 3), "tanh", "linear", "softmax", True),
    ((6, 5, 4, 3), "relu", "linear", "softmax", True),
    ((3, 5, 1), "relu", "tanh", "squared", True),
    ((64, 16, 10), "sigmoid", "linear", "softmax", True),  # the digits network
]


def build(spec, seed):
    sizes, hidden, output, cost, bias = spec
    net = MLP(sizes, hidden, output=output, bias=bias)
    circuit = Circuit(net, SquaredError() if cost == "squared" else SoftmaxCrossEntropy())
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.0, len(circuit.parameters()))
    x = rng.normal(0.0, 1.0, sizes[0]).tolist()
    v = rng.dirichlet(np.ones(sizes[-1])).tolist() if cost == "softmax" else rng.uniform(-1, 1, sizes[-1]).tolist()
    if cost == "softmax":  # one-hot, as in classification
        v = np.eye(sizes[-1])[int(np.argmax(v))].tolist()
    kinds = [hidden] * (len(sizes) - 2) + [output]
    return circuit, circuit.assign(theta), x, v, (sizes, kinds, bias, cost)


def ids(spec):
    sizes, hidden, output, cost, bias = spec
    return f"{'-'.join(map(str, sizes))}-{hidden}-{output}-{cost}{'' if bias else '-nobias'}"


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("spec", NETWORKS, ids=ids)
def test_gradient_equals_the_hand_written_delta_rule(spec, seed):
    circuit, w, x, v, (sizes, kinds, bias, cost) = build(spec, seed)
    tr = circuit.trace(x, v, w)
    grad = gradient(tr)
    expected = delta_rule(w, sizes, kinds, bias, x, v, cost)
    assert set(grad) == set(expected) == set(w)
    for name in w:
        assert grad[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-12), name


@pytest.mark.parametrize("spec", [s for s in NETWORKS if s[1] != "relu" and s[0][0] < 64], ids=ids)
def test_gradient_equals_the_complex_step(spec):
    circuit, w, x, v, (sizes, kinds, bias, cost) = build(spec, 7)
    grad = gradient(circuit.trace(x, v, w))
    expected = complex_step(w, sizes, kinds, bias, x, v, cost)
    for name in w:
        assert grad[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-13), name


@pytest.mark.parametrize("spec", [s for s in NETWORKS if s[1] == "relu"], ids=ids)
def test_relu_gradient_equals_central_differences(spec):
    circuit, w, x, v, (sizes, kinds, bias, cost) = build(spec, 7)
    grad = gradient(circuit.trace(x, v, w))
    expected = central_differences(w, sizes, kinds, bias, x, v, cost)
    for name in w:
        assert grad[name] == pytest.approx(expected[name], rel=1e-6, abs=1e-8), name


@pytest.mark.parametrize("spec", NETWORKS[:4], ids=ids)
def test_data_as_inputs_gives_the_same_weight_gradient(spec):
    circuit, w, x, v, _ = build(spec, 3)
    constant = gradient(circuit.trace(x, v, w))
    as_inputs = circuit.trace(x, v, w, data_inputs=True)
    assert as_inputs.value == pytest.approx(circuit.trace(x, v, w).value, rel=1e-15)
    assert gradient(as_inputs, wrt=list(w)) == pytest.approx(constant, rel=1e-14, abs=1e-15)
    assert list(as_inputs.inputs)[len(w) :] == [f"x{i}" for i in range(1, len(x) + 1)] + [
        f"v{j}" for j in range(1, len(v) + 1)
    ]


def test_retrace_engine_averages_per_sample_gradients():
    circuit, w, _, _, (sizes, kinds, bias, cost) = build(NETWORKS[3], 5)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, sizes[0]))
    V = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 4)]
    theta = np.array(list(w.values()))
    loss, grad = Retrace(circuit)(theta, X, V)
    per_sample = [delta_rule(w, sizes, kinds, bias, x, v, cost) for x, v in zip(X.tolist(), V.tolist())]
    expected = [np.mean([g[name] for g in per_sample]) for name in w]
    assert np.allclose(grad, expected, rtol=1e-12, atol=1e-14)
    costs = [cost_by_hand(cost, forward_by_hand(w, sizes, kinds, bias, x)[1][-1], v) for x, v in zip(X, V)]
    assert loss == pytest.approx(np.mean(costs), rel=1e-13)


# --- cost layers: the edge labels of §5 ------------------------------------------------------------


def label_after_eliminating_the_steps(tr, names):
    """Eliminate every node between the nodes ``names`` and Cost; return the partials on name → Cost."""
    G = tr.graph
    keep = {tr.node(n) for n in names} | {tr.output}
    between = [n for n in G if n not in keep and any(nx.has_path(G, tr.node(m), n) for m in names)]
    H = eliminate(G, between)
    return [sum(d["partial"] for d in H.get_edge_data(tr.node(n), tr.output).values()) for n in names]


def test_squared_error_edge_label_is_y_minus_v():
    circuit = Circuit(MLP([2, 3, 3]), SquaredError())
    v = [1.0, 0.0, 0.25]
    tr = circuit.trace([0.3, -0.8], v, circuit.assign(circuit.init(4)))
    ys = [tr.graph.nodes[tr.node(f"y{j}")]["value"] for j in (1, 2, 3)]
    labels = label_after_eliminating_the_steps(tr, ["y1", "y2", "y3"])
    assert labels == pytest.approx([y - t for y, t in zip(ys, v)], rel=1e-15)


def test_softmax_cross_entropy_edge_label_is_p_minus_v():
    circuit = Circuit(MLP([2, 3, 4], output="linear"), SoftmaxCrossEntropy())
    v = [0.0, 0.0, 1.0, 0.0]
    tr = circuit.trace([0.3, -0.8], v, circuit.assign(circuit.init(4)))
    z = np.array([tr.graph.nodes[tr.node(f"y{j}")]["value"] for j in range(1, 5)])
    p = np.exp(z) / np.exp(z).sum()
    labels = label_after_eliminating_the_steps(tr, ["y1", "y2", "y3", "y4"])
    assert labels == pytest.approx((p - v).tolist(), rel=1e-13, abs=1e-15)


def test_softmax_cross_entropy_is_minus_log_p_and_does_not_overflow():
    z, v = [1000.0, 0.0, -1000.0], [0.0, 1.0, 0.0]
    assert SoftmaxCrossEntropy()(z, v) == pytest.approx(1000.0, rel=1e-15)
    z, v = [0.5, -0.25, 2.0], [1.0, 0.0, 0.0]
    p = np.exp(z) / np.sum(np.exp(z))
    assert SoftmaxCrossEntropy()(z, v) == pytest.approx(-math.log(p[0]), rel=1e-14)


def test_squared_error_value():
    assert SquaredError()([0.0, 3.0], [1.0, 1.0]) == 0.5 + 2.0


@pytest.mark.parametrize("cost", [SquaredError(), SoftmaxCrossEntropy()])
def test_cost_layers_reject_mismatched_lengths(cost):
    with pytest.raises(ValueError, match="the net gives 2 outputs but there are 3 targets"):
        cost([0.0, 1.0], [1.0, 0.0, 0.0])


# --- the classes: shape, names, evaluation ---------------------------------------------------------


def test_neuron_is_the_lecture_unit():
    n = Neuron(3, "sigmoid", name="2_1")
    w = {"w2_1_1": 0.5, "w2_1_2": -1.0, "w2_1_3": 2.0, "b2_1": 0.1}
    x = [1.0, 2.0, 0.25]
    assert n(x, w) == pytest.approx(1 / (1 + math.exp(-(0.5 - 2.0 + 0.5 + 0.1))), rel=1e-15)
    assert n.parameters() == ["w2_1_1", "w2_1_2", "w2_1_3", "b2_1"]
    assert repr(n) == "Neuron(3 inputs, sigmoid)"
    assert repr(Neuron(2, "relu", bias=False)) == "Neuron(2 inputs, relu, no bias)"


def test_layer_and_mlp_parameters_are_in_weight_vector_order():
    net = MLP([3, 2, 2], "tanh", output="linear")
    assert net.parameters()[:5] == ["w1_1_1", "w1_1_2", "w1_1_3", "b1_1", "w1_2_1"]
    assert len(net.parameters()) == (3 + 1) * 2 + (2 + 1) * 2
    assert repr(net.layers[0]) == "Layer(3 → 2, tanh)"
    assert Layer(3, 2).parameters() == net.layers[0].parameters()
    theta = np.arange(len(net.parameters()), dtype=float)
    (W1, b1), (W2, b2) = net.matrices(theta)
    assert W1.tolist() == [[0, 1, 2], [4, 5, 6]] and b1.tolist() == [3, 7]
    assert W2.tolist() == [[8, 9], [11, 12]] and b2.tolist() == [10, 13]


@pytest.mark.parametrize("spec", NETWORKS, ids=ids)
def test_numpy_predict_equals_the_traced_outputs(spec):
    circuit, w, x, v, (sizes, kinds, bias, _) = build(spec, 11)
    theta = np.array([w[n] for n in circuit.parameters()])
    tr = circuit.trace(x, v, w)
    traced = [tr.graph.nodes[tr.node(f"y{j}")]["value"] for j in range(1, sizes[-1] + 1)]
    assert circuit.net.predict(theta, np.array([x]))[0] == pytest.approx(traced, rel=1e-13, abs=1e-15)
    assert traced == pytest.approx(forward_by_hand(w, sizes, kinds, bias, x)[1][-1], rel=1e-13, abs=1e-15)


def test_traced_nodes_are_labeled_like_the_lecture():
    circuit = Circuit(MLP([2, 3, 2]), SquaredError())
    tr = circuit.trace([1.0, 0.5], [1.0, 0.0], circuit.assign(circuit.init()))
    ops = {tr.label(n): tr.graph.nodes[n]["op"] for n in tr.graph}
    assert [ops[f"h1_{k}"] for k in (1, 2, 3)] == ["sigmoid"] * 3
    assert [ops[f"y{j}"] for j in (1, 2)] == ["sigmoid"] * 2
    assert tr.name == "Cost" and tr.label(tr.output) == "Cost"
    assert sum(op == "input" for op in ops.values()) == len(circuit.parameters())  # x and v are constants


def test_init_is_seeded_and_scaled():
    net = MLP([64, 16, 10])
    a, b = net.init(0), net.init(0)
    assert np.array_equal(a, b) and not np.array_equal(a, net.init(1))
    (W1, b1), _ = net.matrices(a)
    assert np.abs(W1).max() <= 1 / 8 and not b1.any()


def test_classify_single_output_thresholds_at_half():
    circuit = Circuit(MLP([1, 1], output="linear"), SquaredError())
    theta = np.array([1.0, 0.0])  # y = x
    assert circuit.classify(theta, np.array([[0.2], [0.7]])).tolist() == [0, 1]
    assert circuit.targets([0, 1]).tolist() == [[0.0], [1.0]]


# --- bad arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sizes": [3]}, "sizes must list at least an input and an output size"),
        ({"sizes": [3, 0, 1]}, "sizes must list at least an input and an output size"),
        ({"sizes": [3, 1], "activation": "softplus"}, "unknown activation 'softplus'; the activations are sigmoid"),
    ],
)
def test_bad_networks_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MLP(**kwargs)


def test_sample_of_the_wrong_size_names_the_net():
    circuit = Circuit(MLP([4, 3]), SquaredError())
    w = circuit.assign(circuit.init())
    message = "MLP(4-3, sigmoid hidden, sigmoid output) takes 4 inputs, got a sample of 3"
    with pytest.raises(DataError, match=re.escape(message)):
        circuit.trace([1.0, 2.0, 3.0], [0.0, 0.0, 1.0], w)
    with pytest.raises(DataError, match="gives 3 outputs, got a target of 2"):
        circuit.trace([1.0, 2.0, 3.0, 4.0], [0.0, 1.0], w)


def test_missing_weights_are_named():
    circuit = Circuit(MLP([2, 1]), SquaredError())
    with pytest.raises(ValueError, match=re.escape("no value for the weights ['w1_1_2', 'b1_1']")):
        circuit.trace([1.0, 2.0], [1.0], {"w1_1_1": 0.0})


def test_labels_outside_the_classes_are_data_errors():
    circuit = Circuit(MLP([2, 3]), SoftmaxCrossEntropy())
    with pytest.raises(DataError, match=r"class labels must lie in 0..2, got 0..3"):
        circuit.targets([0, 3])
