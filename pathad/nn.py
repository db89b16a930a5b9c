"""Neural-net training circuits as traced computation graphs.

The CS701 notes (section 6, Fig. 9) train a net with two inputs, three sigmoid
hidden units and three sigmoid outputs by differentiating a *training circuit*:
the net followed by the cost Σ ½(y_j − v_j)².  The weights are the inputs of
that circuit (its sources); the data x and the targets v are constants.  Cost is
the only output, so one backward sweep gives every ∂Cost/∂w_i.

Examples
--------
>>> from pathad import gradient
>>> tr = fig9_circuit([1.0, 0.5], [1.0, 0.0, 0.0])
>>> len(tr.inputs), tr.name
(15, 'Cost')
>>> len(gradient(tr))
15
"""

import numpy as np

from .functions import sigmoid
from .tracing import trace

__all__ = ["fig9_circuit", "FIG9_WEIGHTS"]

#: The weight names of the Fig. 9 circuit, in input order.
FIG9_WEIGHTS = tuple(f"w{i}" for i in range(1, 16))

# Which weights feed which unit: hidden h_k = σ(w·x), output y_j = σ(w·h).
_HIDDEN = (("w10", "w11"), ("w12", "w13"), ("w14", "w15"))
_OUTPUT = (("w1", "w2", "w3"), ("w4", "w5", "w6"), ("w7", "w8", "w9"))


def fig9_circuit(x, v, weights=None, *, seed=0):
    """Trace the training circuit of the lecture's Fig. 9 at data ``x`` and targets ``v``.

    Parameters
    ----------
    x : sequence of 2 floats
        The data (x1, x2): constants of the circuit.
    v : sequence of 3 floats
        The targets (v1, v2, v3): constants of the circuit.
    weights : dict, optional
        "w1" .. "w15" -> float.  By default drawn uniformly from [-1, 1] with ``seed``.
    seed : int
        Seed of the default weights.

    Returns
    -------
    Trace
        Inputs w1..w15, output Cost = Σ ½(y_j − v_j)², nodes labeled h1..h3,
        y1..y3 and Cost, where h1 = σ(w10·x1 + w11·x2), h2 and h3 likewise
        from w12, w13 and w14, w15, and y1 = σ(w1·h1 + w2·h2 + w3·h3), y2 and
        y3 likewise from w4..w6 and w7..w9.  The graph attribute
        ``graph.graph["constants"]`` names the constants: (node, operand
        position) -> "x1", "v2", ... (used by :func:`pathad.draw.draw`).

    Examples
    --------
    >>> tr = fig9_circuit([0.5, -1.0], [0.0, 1.0, 0.0], {f"w{i}": 0.1 * i for i in range(1, 16)})
    >>> round(tr.value, 6)
    0.459212
    >>> sorted(set(tr.graph.graph["constants"].values()))
    ['v1', 'v2', 'v3', 'x1', 'x2']
    """
    data = _floats(x, 2, "x")
    targets = _floats(v, 3, "v")
    start = _weights(weights, seed)
    constants = {}
    circuit = _circuit(data, targets, constants)
    tr = trace(circuit, **start)
    tr.graph.graph["constants"] = constants
    return tr


def _circuit(x, v, constants):
    """The function to trace (its inputs are its keyword arguments w1..w15).

    Records the (node, operand position) of each named constant in ``constants``.
    """

    def Cost(**w):
        hidden = [_unit(w, names, x, "x", constants).named(f"h{k}") for k, names in enumerate(_HIDDEN, 1)]
        ys = [_unit(w, names, hidden, None, constants).named(f"y{j}") for j, names in enumerate(_OUTPUT, 1)]
        e1, e2, e3 = (_half_squared_error(y, target, f"v{j}", constants) for j, (y, target) in enumerate(zip(ys, v), 1))
        return (e1 + e2 + e3).named("Cost")

    return Cost


def _unit(w, names, operands, constant_name, constants):
    """σ(Σ w_i·operand_i); operands named ``constant_name``1, 2, ... when they are constants."""
    total = None
    for i, (name, operand) in enumerate(zip(names, operands), 1):
        product = w[name] * operand
        if constant_name is not None:
            constants[product.node, 1] = f"{constant_name}{i}"
        total = product if total is None else total + product
    return sigmoid(total)


def _half_squared_error(y, target, target_name, constants):
    """½(y − v)² with the constant v recorded under ``target_name``."""
    difference = y - target
    constants[difference.node, 1] = target_name
    return 0.5 * difference**2


def _floats(values, count, name):
    values = [float(value) for value in values]
    if len(values) != count:
        raise ValueError(f"{name} must hold {count} numbers, got {len(values)}: {values}")
    return values


def _weights(weights, seed):
    if weights is None:
        drawn = np.random.default_rng(seed).uniform(-1.0, 1.0, len(FIG9_WEIGHTS))
        return dict(zip(FIG9_WEIGHTS, map(float, drawn)))
    missing = [name for name in FIG9_WEIGHTS if name not in weights]
    extra = sorted(set(weights) - set(FIG9_WEIGHTS))
    if missing or extra:
        raise ValueError(f"weights must have exactly the keys w1..w15; missing {missing}, unexpected {extra}")
    return {name: float(weights[name]) for name in FIG9_WEIGHTS}
