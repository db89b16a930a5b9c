"""Neural-net training circuits as traced computation graphs.

The CS701 notes (§6) train a network by differentiating a *training circuit*:
the network followed by a cost layer.  The weights are the circuit's inputs
(its sources); the data x and the targets v are constants; Cost is the only
output, so one backward sweep (reverse mode: backpropagation) gives every
∂Cost/∂w at once.

The circuits here are small classes of one shape — ``__call__``,
``parameters()`` (the names of the weights they read) and ``__repr__`` — that
compute on plain floats or on traced numbers alike, so the same code both
evaluates the network and records its graph:

* :class:`Neuron` — the weighted sum Σ w_i·x_i + b, then an activation
  (the lecture's Fig. 7); :class:`Layer`; :class:`MLP`;
* cost layers :class:`SquaredError` (Σ ½(y_j − v_j)², whose derivative, the
  label on the edge from y_j, is y_j − v_j as in §5) and
  :class:`SoftmaxCrossEntropy` (−Σ v_j log softmax(z)_j, edge label p_j − v_j);
* :class:`Circuit` — a net and its cost layer, traced with :meth:`Circuit.trace`;
* :func:`fig9_circuit` — the lecture's own Fig. 9 circuit, weights w1..w15;
* :func:`fit_dataset` — train the standard network for "xor", "iris" or
  "digits" (see :func:`pathad.training.fit` for any circuit and data set).

Training moves each weight against its derivative, w := w − η·∂Cost/∂w.  The
notes print w := w + η·∂Cost/∂w, which climbs the cost instead of descending it.

Examples
--------
>>> from pathad import gradient
>>> circuit = Circuit(MLP([2, 3, 1]), SquaredError())
>>> tr = circuit.trace([1.0, 0.0], [1.0], circuit.assign(circuit.init(seed=0)))
>>> tr.name, len(tr.inputs), len(gradient(tr))
('Cost', 13, 13)
>>> tr = fig9_circuit([1.0, 0.5], [1.0, 0.0, 0.0])
>>> len(tr.inputs), tr.name
(15, 'Cost')
"""

from dataclasses import dataclass

import numpy as np

from .datasets import DataError, load
from .functions import exp, log, relu, sigmoid, tanh
from .tracing import Traced, scope, trace
from .training import fit

__all__ = [
    "ACTIVATIONS",
    "Neuron",
    "Layer",
    "MLP",
    "SquaredError",
    "SoftmaxCrossEntropy",
    "Circuit",
    "fig9_circuit",
    "FIG9_WEIGHTS",
    "Setup",
    "SETUPS",
    "fit_dataset",
]


def _linear(z):
    """The identity: a unit without a squashing function (used for outputs that feed softmax)."""
    return z


#: Activation name -> function of a float or traced number (one node; "linear" adds none).
ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": _linear}


def _numpy_sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1/(1 + e^-z), without overflow


def _numpy_relu(z):
    return np.maximum(z, 0.0)


# The same activations on float arrays, for evaluating a whole data set at once.
_NUMPY = {"sigmoid": _numpy_sigmoid, "tanh": np.tanh, "relu": _numpy_relu, "linear": _linear}


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; the activations are {', '.join(ACTIVATIONS)}")
    return name


def _named(value, label):
    """Label a traced value's node (plain floats pass through)."""
    return value.named(label) if type(value) is Traced else value


class Neuron:
    """One unit (the lecture's Fig. 7): ``activation(w_1·x_1 + ... + w_n·x_n + b)``.

    Its weights are named ``w{name}_{i}`` and its bias ``b{name}``: the neuron
    reads their values from the mapping it is called with.

    Examples
    --------
    >>> n = Neuron(2, "tanh", name="1_1")
    >>> n.parameters()
    ['w1_1_1', 'w1_1_2', 'b1_1']
    >>> n([1.0, 2.0], {"w1_1_1": 0.5, "w1_1_2": -0.25, "b1_1": 0.0})
    0.0
    """

    def __init__(self, n_inputs, activation="sigmoid", *, bias=True, name="1_1"):
        if n_inputs < 1:
            raise ValueError(f"a neuron needs at least one input, got {n_inputs}")
        self.weights = tuple(f"w{name}_{i}" for i in range(1, n_inputs + 1))
        self.bias = f"b{name}" if bias else None
        self.activation = _activation(activation)

    def __call__(self, x, params):
        total = params[self.weights[0]] * x[0]
        for weight, xi in zip(self.weights[1:], x[1:]):
            total = total + params[weight] * xi
        if self.bias is not None:
            total = total + params[self.bias]
        return ACTIVATIONS[self.activation](total)

    def parameters(self):
        return list(self.weights) + ([self.bias] if self.bias else [])

    def __repr__(self):
        return f"Neuron({len(self.weights)} inputs, {self.activation}{'' if self.bias else ', no bias'})"


class Layer:
    """``n_outputs`` neurons reading the same ``n_inputs`` values; unit j of layer l is named ``{l}_{j}``.

    Examples
    --------
    >>> Layer(3, 2, "relu", index=2).parameters()[:4]
    ['w2_1_1', 'w2_1_2', 'w2_1_3', 'b2_1']
    """

    def __init__(self, n_inputs, n_outputs, activation="sigmoid", *, bias=True, index=1):
        self.neurons = [Neuron(n_inputs, activation, bias=bias, name=f"{index}_{j}") for j in range(1, n_outputs + 1)]
        self.n_inputs, self.activation, self.bias, self.index = n_inputs, activation, bias, index

    def __call__(self, x, params):
        with scope(f"layer{self.index}"):  # traced: pathad.draw(..., collapse=True) shows the net layer by layer
            return [neuron(x, params) for neuron in self.neurons]

    def parameters(self):
        return [name for neuron in self.neurons for name in neuron.parameters()]

    def __repr__(self):
        return f"Layer({self.n_inputs} → {len(self.neurons)}, {self.activation}{'' if self.bias else ', no bias'})"


class MLP:
    """A multi-layer perceptron with layer sizes ``sizes`` (inputs first, outputs last).

    Hidden units use ``activation``, output units ``output``.  On traced
    numbers, hidden node l, j is labeled ``h{l}_{j}`` and output j ``y{j}``.

    Examples
    --------
    >>> net = MLP([4, 8, 3], "tanh", output="linear")
    >>> net, len(net.parameters())
    (MLP(4-8-3, tanh hidden, linear output), 67)
    >>> theta = net.init(seed=0)
    >>> x = [0.1, 0.2, 0.3, 0.4]
    >>> np.allclose(net(x, net.assign(theta)), net.predict(theta, np.array([x]))[0])
    True
    """

    def __init__(self, sizes, activation="sigmoid", *, output="sigmoid", bias=True):
        self.sizes = tuple(int(s) for s in sizes)
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes must list at least an input and an output size, each >= 1; got {sizes!r}")
        self.activation, self.output, self.bias = _activation(activation), _activation(output), bias
        kinds = [activation] * (len(self.sizes) - 2) + [output]
        self.layers = [
            Layer(n_in, n_out, kind, bias=bias, index=index)
            for index, (n_in, n_out, kind) in enumerate(zip(self.sizes, self.sizes[1:], kinds), 1)
        ]

    def __call__(self, x, params):
        for index, layer in enumerate(self.layers[:-1], 1):
            x = [_named(h, f"h{index}_{j}") for j, h in enumerate(layer(x, params), 1)]
        return [_named(y, f"y{j}") for j, y in enumerate(self.layers[-1](x, params), 1)]

    def parameters(self):
        return [name for layer in self.layers for name in layer.parameters()]

    def __repr__(self):
        shape = "-".join(map(str, self.sizes))
        return f"MLP({shape}, {self.activation} hidden, {self.output} output{'' if self.bias else ', no bias'})"

    def assign(self, theta):
        """{weight name: value} for a weight vector in the order of :meth:`parameters`."""
        return dict(zip(self.parameters(), np.asarray(theta, dtype=float).tolist()))

    def init(self, seed=0):
        """A seeded weight vector: weights uniform in ±1/√(inputs of the unit), biases 0."""
        rng = np.random.default_rng(seed)
        blocks = []
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            block = rng.uniform(-1.0, 1.0, (n_out, n_in)) / np.sqrt(n_in)
            blocks.append(np.hstack([block, np.zeros((n_out, 1))]) if self.bias else block)
        return np.concatenate([b.ravel() for b in blocks])

    def matrices(self, theta):
        """[(W, b), ...] per layer: views into ``theta``; b is None without biases.

        >>> [(W.shape, b.shape) for W, b in MLP([4, 8, 3]).matrices(np.zeros(67))]
        [((8, 4), (8,)), ((3, 8), (3,))]
        """
        out, start = [], 0
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            width = n_in + bool(self.bias)
            block = np.asarray(theta)[start : start + n_out * width].reshape(n_out, width)
            out.append((block[:, :n_in], block[:, n_in] if self.bias else None))
            start += n_out * width
        return out

    def predict(self, theta, X):
        """The outputs for every row of ``X`` at once (numpy; no graph): an n × outputs array."""
        A = np.asarray(X, dtype=float)
        kinds = [self.activation] * (len(self.layers) - 1) + [self.output]
        for (W, b), kind in zip(self.matrices(theta), kinds):
            Z = A @ W.T if b is None else A @ W.T + b
            A = _NUMPY[kind](Z)
        return A


def _check_pair(y, v, where):
    if len(y) != len(v):
        raise ValueError(f"{where}: the net gives {len(y)} outputs but there are {len(v)} targets")


class SquaredError:
    """The lecture's cost layer Σ_j ½(y_j − v_j)².  ∂Cost/∂y_j = y_j − v_j: the edge label of §5.

    Traced, each term is three primitive nodes (y − v, its square, half of it);
    eliminating them leaves one edge y_j → Cost labeled y_j − v_j.

    Examples
    --------
    >>> SquaredError()([0.5, 1.0], [1.0, 1.0])
    0.125
    """

    def __call__(self, y, v):
        _check_pair(y, v, "SquaredError")
        terms = [0.5 * (yj - vj) ** 2 for yj, vj in zip(y, v)]
        return sum(terms[1:], terms[0])

    def parameters(self):
        return []

    def __repr__(self):
        return "SquaredError(Σ ½(y − v)²)"


class SoftmaxCrossEntropy:
    """Cross-entropy of the softmax of the outputs z: Σ_j v_j·(log Σ_k e^(z_k) − z_j).

    For a one-hot (or any summing-to-1) target v, ∂Cost/∂z_j = p_j − v_j with
    p = softmax(z).  The log-sum-exp is shifted by c = max z, read as a
    constant: log Σ e^(z_k) = c + log Σ e^(z_k − c) holds for every constant c,
    so value and derivatives stay exact, also when a compiled replay reuses the
    traced c at other inputs.

    Examples
    --------
    >>> round(SoftmaxCrossEntropy()([0.0, 0.0], [1.0, 0.0]), 6)  # log 2
    0.693147
    """

    def __call__(self, z, v):
        _check_pair(z, v, "SoftmaxCrossEntropy")
        # any shift gives the same cost, so it is read with .value (no guard): a replay may reuse it
        shift = max(float(getattr(zj, "value", zj)) for zj in z)
        exps = [exp(zj - shift) for zj in z]
        log_total = log(sum(exps[1:], exps[0])) + shift
        terms = [vj * (log_total - zj) for zj, vj in zip(z, v)]
        return sum(terms[1:], terms[0])

    def parameters(self):
        return []

    def __repr__(self):
        return "SoftmaxCrossEntropy(−Σ v log softmax(z))"


class Circuit:
    """The training circuit of §6: a net followed by its cost layer, Cost(w; x, v).

    Examples
    --------
    >>> circuit = Circuit(MLP([2, 2, 1]), SquaredError())
    >>> circuit
    Circuit(MLP(2-2-1, sigmoid hidden, sigmoid output), SquaredError(Σ ½(y − v)²))
    >>> tr = circuit.trace([1.0, 0.0], [1.0], circuit.assign(circuit.init()), data_inputs=True)
    >>> list(tr.inputs)[-3:]
    ['x1', 'x2', 'v1']
    """

    def __init__(self, net, cost):
        self.net, self.cost = net, cost

    def __call__(self, x, v, params):
        y = self.net(x, params)
        with scope("cost"):
            return self.cost(y, v)

    def parameters(self):
        return self.net.parameters() + self.cost.parameters()

    def __repr__(self):
        return f"Circuit({self.net!r}, {self.cost!r})"

    @property
    def n_inputs(self):
        return self.net.sizes[0]

    @property
    def n_outputs(self):
        return self.net.sizes[-1]

    def init(self, seed=0):
        """A seeded weight vector (see :meth:`MLP.init`)."""
        return self.net.init(seed)

    def assign(self, theta):
        """{weight name: value} for a weight vector in the order of :meth:`parameters`."""
        return self.net.assign(theta)

    def trace(self, x, v, params, *, data_inputs=False):
        """Trace Cost at data ``x``, targets ``v`` and weights ``params`` ({name: value}).

        With ``data_inputs=False`` (the lecture's view) x and v are constants
        and the inputs are the weights.  With ``data_inputs=True`` x and v are
        inputs ``x1..``, ``v1..`` too, after the weights, so a compiled replay
        of the trace can take other samples.
        """
        x, v = self._sample(x, v)
        self._check_weights(params)
        if data_inputs:
            return self._trace_with_data(x, v, params)

        def Cost(**weights):
            return self(x, v, weights)

        return trace(Cost, **params)

    def _trace_with_data(self, x, v, params):
        xs, vs = [f"x{i}" for i in range(1, len(x) + 1)], [f"v{j}" for j in range(1, len(v) + 1)]

        def Cost(**inputs):
            return self([inputs[n] for n in xs], [inputs[n] for n in vs], inputs)

        return trace(Cost, **params, **dict(zip(xs, x)), **dict(zip(vs, v)))

    def _check_weights(self, params):
        missing = [name for name in self.parameters() if name not in params]
        if missing:
            more = " ..." if len(missing) > 5 else ""
            raise ValueError(f"{self!r}: no value for the weights {missing[:5]}{more}")

    def _sample(self, x, v):
        x, v = [float(a) for a in x], [float(b) for b in v]
        if len(x) != self.n_inputs:
            raise DataError(f"{self.net!r} takes {self.n_inputs} inputs, got a sample of {len(x)}")
        if len(v) != self.n_outputs:
            raise DataError(f"{self.net!r} gives {self.n_outputs} outputs, got a target of {len(v)}")
        return x, v

    def targets(self, labels):
        """The target vectors v for class labels: one-hot rows, or the label itself for a single output.

        >>> Circuit(MLP([2, 3]), SquaredError()).targets([2, 0]).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
        """
        labels = np.asarray(labels, dtype=int)
        if labels.size and (labels.min() < 0 or labels.max() >= max(self.n_outputs, 2)):
            raise DataError(
                f"{self.net!r}: class labels must lie in 0..{max(self.n_outputs, 2) - 1}, "
                f"got {labels.min()}..{labels.max()}"
            )
        if self.n_outputs == 1:
            return labels[:, None].astype(float)
        return np.eye(self.n_outputs)[labels]

    def classify(self, theta, X):
        """The predicted class of every row of ``X``: the largest output, or output > ½ for a single output.

        >>> circuit = Circuit(MLP([2, 2], output="linear", bias=False), SoftmaxCrossEntropy())
        >>> circuit.classify(np.array([1.0, 0.0, 0.0, 1.0]), np.array([[3.0, 1.0], [0.0, 2.0]])).tolist()
        [0, 1]
        """
        outputs = self.net.predict(theta, X)
        if self.n_outputs == 1:
            return (outputs[:, 0] > 0.5).astype(int)
        return np.argmax(outputs, axis=1)


@dataclass(frozen=True)
class Setup:
    """The standard network and training settings for one named data set (see :data:`SETUPS`).

    Attributes
    ----------
    sizes : tuple of int
        Layer sizes of the :class:`MLP`.
    activation, output : str
        Hidden and output activations.
    cost : type
        The cost layer class.
    learning_rate : float
        The default η.
    batch_size : int
        The default samples per step (1: per-sample descent).
    n_test : int or None
        Samples held out for testing (drawn with seed 0, the same for every
        training seed); None tests on the training set itself (XOR has 4 points).
    standardize : bool
        Scale features to mean 0, sd 1 with the training set's statistics.
    """

    sizes: tuple
    activation: str
    output: str
    cost: type
    learning_rate: float
    batch_size: int
    n_test: int | None
    standardize: bool = False

    def circuit(self):
        """A fresh :class:`Circuit` of this setup."""
        return Circuit(MLP(self.sizes, self.activation, output=self.output), self.cost())

    def split(self, data):
        """(train, test) for the loaded data set, standardized if the setup says so."""
        if self.n_test is None:
            return data, data
        train, test = data.split(self.n_test, seed=0)
        if self.standardize:
            return train.standardized(), test.standardized(train)
        return train, test


#: Data set name -> the network and settings :func:`fit_dataset` uses.  XOR gets the lecture's
#: circuit shape (2 inputs, 3 sigmoid hidden units, sigmoid output, Σ ½(y − v)²) plus biases; its
#: "test" set is its four points, and like any 2-3-1 net it can stall in a local minimum for some
#: seeds (seed 0 learns it in 300 epochs).  Iris: 120 flowers to train, 30 to test, per-sample
#: descent.  Digits: 1500 images to train, 297 to test, mini-batches of 32.
SETUPS = {
    "xor": Setup((2, 3, 1), "sigmoid", "sigmoid", SquaredError, learning_rate=2.0, batch_size=1, n_test=None),
    "iris": Setup((4, 8, 3), "tanh", "linear", SoftmaxCrossEntropy, 0.05, 1, n_test=30, standardize=True),
    "digits": Setup((64, 16, 10), "sigmoid", "linear", SoftmaxCrossEntropy, 1.0, 32, n_test=297),
}


def fit_dataset(
    name, *, epochs, seed, batch_size=None, learning_rate=None, progress=True, curve=None, engine="auto", backend="auto"
):
    """Train the standard network of :data:`SETUPS` on the data set ``name`` and test it.

    Parameters
    ----------
    name : {"xor", "iris", "digits"}
        "digits" needs scikit-learn (``pip install 'pathad[digits]'``).
    epochs : int
    seed : int
        Seeds the initial weights and the order of the samples (the test
        split is fixed), so a run is reproducible.
    batch_size, learning_rate : optional
        Override the setup's defaults.
    progress : bool
        Show a progress bar (tqdm when installed).
    curve : path, optional
        Write the loss and accuracy curves there (png, svg or pdf; needs matplotlib).
    engine : {"auto", "replay", "retrace"}
        Where the gradients come from (see :func:`pathad.training.gradient_engine`).
    backend : {"auto", "numpy", "numba"}
        Who runs the replay engine (see :func:`pathad.compile`).

    Returns
    -------
    pathad.training.TrainingResult
        With ``.test_accuracy`` and ``.summary()``.

    Examples
    --------
    >>> result = fit_dataset("xor", epochs=300, seed=0, progress=False)
    >>> result.test_accuracy
    1.0
    """
    try:
        setup = SETUPS[name]
    except (KeyError, TypeError):
        raise ValueError(f"no data set {name!r}; the data sets are {', '.join(SETUPS)}") from None
    train, test = setup.split(load(name))
    return fit(
        setup.circuit(),
        train,
        test,
        epochs=epochs,
        learning_rate=setup.learning_rate if learning_rate is None else learning_rate,
        batch_size=setup.batch_size if batch_size is None else batch_size,
        seed=seed,
        engine=engine,
        backend=backend,
        progress=progress,
        curve=curve,
    )


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
