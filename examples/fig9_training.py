"""The lecture's Fig. 9: the training circuit of a 2-3-3 sigmoid network, its paths, and training.

CS701 notes, section 6.  The weights are the circuit's inputs, the data x and
targets v its constants, Cost = Σ ½(y_j − v_j)² its only output, so one
backward sweep gives every ∂Cost/∂w_i.  ∂Cost/∂w4 has one path (w4 feeds y2
only); ∂Cost/∂w14 has three (w14 feeds h3, which feeds all three outputs).

Then training.  The notes write the update as w := w + η·∂Cost/∂w; that climbs
the cost.  Descent is w := w − η·∂Cost/∂w, done here by hand for a few steps on
the circuit, and then one full training run on XOR with pathad.nn.fit_dataset.
"""

import pathad
from pathad.nn import fig9_circuit, fit_dataset

X, V = (0.5, -1.0), (0.0, 1.0, 0.0)
ETA = 0.5


def main():
    tr = fig9_circuit(X, V, seed=0)
    grad = pathad.gradient(tr)  # one backward sweep for all 15 weights
    paths = {w: pathad.count_paths(tr, w, "Cost") for w in ("w4", "w14")}
    print(f"Cost = {tr.value:.6f}; paths to Cost: from w4 {paths['w4']}, from w14 {paths['w14']}")
    assert paths == {"w4": 1, "w14": 3}
    check_one_path(tr, grad)
    check_three_paths(tr, grad)

    weights = {w: tr.graph.nodes[tr.node(w)]["value"] for w in tr.inputs}
    climbed = step(weights, grad, +ETA)
    print(f"one step with the notes' + sign: Cost {tr.value:.6f} -> {fig9_circuit(X, V, climbed).value:.6f} (up)")
    assert fig9_circuit(X, V, climbed).value > tr.value
    costs = [tr.value]
    for _ in range(20):
        weights = step(weights, pathad.gradient(fig9_circuit(X, V, weights)), -ETA)
        costs.append(fig9_circuit(X, V, weights).value)
    print(f"20 steps of w := w − {ETA}·∂Cost/∂w: Cost {costs[0]:.6f} -> {costs[-1]:.6f}")
    assert all(later < earlier for earlier, later in zip(costs, costs[1:]))

    result = fit_dataset("xor", epochs=300, seed=0, progress=False)
    print(result.summary())
    print(f"test accuracy: {result.test_accuracy:.2f}")
    assert result.test_accuracy == 1.0


def value(tr, name):
    return tr.graph.nodes[tr.node(name)]["value"]


def check_one_path(tr, grad):
    """∂Cost/∂w4 = (y2 − v2)·y2(1 − y2)·h1: the product of the labels on its one path."""
    y2 = value(tr, "y2")
    by_hand = (y2 - V[1]) * y2 * (1 - y2) * value(tr, "h1")
    assert abs(grad["w4"] - by_hand) < 1e-15
    print(f"∂Cost/∂w4  = (y2 − v2)·y2(1 − y2)·h1 = {by_hand:.6f}")


def check_three_paths(tr, grad):
    """∂Cost/∂w14 = Σ_j (y_j − v_j)·y_j(1 − y_j)·w_(3j)·h3(1 − h3)·x1, over the three outputs."""
    h3 = value(tr, "h3")
    terms = []
    for j, w in zip((1, 2, 3), ("w3", "w6", "w9")):  # the weights from h3 into y1, y2, y3
        y = value(tr, f"y{j}")
        terms.append((y - V[j - 1]) * y * (1 - y) * value(tr, w) * h3 * (1 - h3) * X[0])
    assert abs(grad["w14"] - sum(terms)) < 1e-15
    print(f"∂Cost/∂w14 = {' + '.join(f'({t:.6f})' for t in terms)} = {sum(terms):.6f}")


def step(weights, grad, signed_eta):
    return {w: weights[w] + signed_eta * grad[w] for w in weights}


if __name__ == "__main__":
    main()
