"""Gradient descent over a flat weight vector: batches, seeds, divergence checks, progress, curves.

The lecture (CS701 notes, §6) adjusts each weight by ``w := w + η·∂Cost/∂w``.
That sign *climbs* the cost; descent, which training needs, is

    w := w − η·∂Cost/∂w

and that is what :func:`descend` does.  It knows nothing about networks: it
takes a ``step(theta, rows) -> (mean loss, mean gradient)`` over the sample
indices ``rows`` (see :mod:`pathad.nn` for the circuits that provide one),
shuffles the samples each epoch with a seeded generator, and stops with a
:class:`DivergenceError` naming the epoch and step as soon as the loss,
the gradient or the weights stop being finite, or a step's loss grows past
``max_loss_ratio`` times its level in the first steps.

Examples
--------
>>> import numpy as np
>>> def step(theta, rows):  # Cost(w) = ½(w − 3)², the same for every sample
...     return 0.5 * (theta[0] - 3.0) ** 2, np.array([theta[0] - 3.0])
>>> theta = np.zeros(1)
>>> history = descend(step, theta, 4, epochs=10, learning_rate=0.5, seed=0)
>>> round(float(theta[0]), 6), len(history)
(3.0, 10)
"""

import io
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .derivatives import gradient
from .errors import DataError, DivergenceError, DomainError, MissingDependencyError
from .files import write_atomically

__all__ = [
    "fit",
    "TrainingResult",
    "gradient_engine",
    "Retrace",
    "Replay",
    "replay_available",
    "accuracy",
    "descend",
    "Epoch",
    "Progress",
    "plot_history",
    "write_figure",
    "check_figure_path",
]


@dataclass(frozen=True)
class Epoch:
    """What one epoch of training did.

    Attributes
    ----------
    epoch : int
        Counted from 1.
    loss : float
        Mean training cost over the epoch's steps (at the weights of each step).
    train_accuracy, test_accuracy : float or None
        Fractions in [0, 1] after the epoch, when an evaluation was given.
    seconds : float
        Time spent in the epoch's steps (evaluation excluded).
    """

    epoch: int
    loss: float
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    seconds: float = 0.0


def descend(
    step,
    theta,
    n_samples,
    *,
    epochs,
    learning_rate,
    batch_size=1,
    seed=0,
    evaluate=None,
    progress=None,
    max_loss_ratio=100.0,
):
    """Mini-batch gradient descent ``theta := theta − learning_rate · gradient``, in place.

    Parameters
    ----------
    step : callable
        ``step(theta, rows) -> (loss, gradient)``: the mean cost and its mean
        gradient over the samples ``rows`` (an int array) at ``theta``.
    theta : numpy.ndarray
        The weights (float, 1-d); updated in place.
    n_samples : int
    epochs : int
    learning_rate : float
        η > 0.
    batch_size : int
        Samples per step; 1 is per-sample (stochastic) descent.  The last batch
        of an epoch may be smaller.
    seed : int
        Seeds the shuffling: the same seed gives the same run.
    evaluate : callable, optional
        ``evaluate(theta) -> (train_accuracy, test_accuracy)`` after each epoch.
    progress : Progress, optional
        Told about each finished epoch.
    max_loss_ratio : float
        Stop when a step's loss exceeds this many times the starting level:
        the mean loss of the steps before it, up to the first 10.  Use
        ``math.inf`` to switch the check off.

    Returns
    -------
    list of Epoch

    Raises
    ------
    DivergenceError
        Naming the epoch and step where the loss grew past ``max_loss_ratio``
        × its starting level, or the loss, gradient or weights became
        non-finite (or an operation overflowed).

    Examples
    --------
    >>> def step(theta, rows):  # cost θ², at η = 10 θ becomes −19θ: the cost grows 361-fold per step
    ...     return float(theta[0] ** 2), 2 * theta
    >>> theta = np.array([1.0])
    >>> descend(step, theta, 1, epochs=5, learning_rate=10.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pathad.errors.DivergenceError: training diverged in epoch 2, step 1: the loss 361 is more than 100 × ...
    """
    _check_settings(epochs, learning_rate, batch_size, n_samples)
    rng = np.random.default_rng(seed)
    watch = _Watch(learning_rate, max_loss_ratio)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        loss = _one_epoch(step, theta, rng.permutation(n_samples), epoch, batch_size, watch)
        seconds = time.perf_counter() - start
        accuracies = evaluate(theta) if evaluate is not None else (None, None)
        history.append(Epoch(epoch, loss, *accuracies, seconds))
        if progress is not None:
            progress.update(history[-1])
    return history


def _one_epoch(step, theta, order, epoch, batch_size, watch):
    """One pass over ``order`` in batches; returns the mean loss.

    Per step: the step, the update in two numpy calls into a reused array,
    and one sum of the new weights, which is finite exactly when every weight
    is, and then every entry of the gradient was too (θ − η·g is finite only
    where g is); anything else is looked at entry by entry (:meth:`_Watch.check`).
    """
    total, rate, scaled = 0.0, watch.learning_rate, np.empty_like(theta)
    multiply, subtract, add = np.multiply, np.subtract, np.add.reduce
    for number, begin in enumerate(range(0, len(order), batch_size), 1):
        rows = order[begin : begin + batch_size]
        try:
            loss, gradient = step(theta, rows)
        except (DomainError, FloatingPointError, OverflowError) as exc:
            raise watch.diverged(epoch, number, f"an operation overflowed ({exc})") from exc
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, by name
            subtract(theta, multiply(gradient, rate, out=scaled), out=theta)
            weights = add(theta, axis=None)
        if not (math.isfinite(loss) and math.isfinite(weights) and loss <= watch.limit):
            watch.check(epoch, number, loss, gradient, theta)
        elif watch.warming:
            watch.warm(loss)
        total += loss * len(rows)
    return total / len(order)


class _Watch:
    """Spots divergence: non-finite numbers, or a loss far above its level in the first steps."""

    WARMUP = 10  # steps whose mean loss is the starting level

    def __init__(self, learning_rate, ratio):
        self.learning_rate, self.ratio = learning_rate, ratio
        self.first = []
        self.limit = math.inf  # ratio × the starting level, once there is one
        self.warming = True  # fewer than WARMUP losses seen

    def check(self, epoch, number, loss, gradient, theta):
        """Raise the DivergenceError that ``loss``, ``gradient`` and ``theta`` call for, if any; else count the loss."""
        if not math.isfinite(loss):
            raise self.diverged(epoch, number, f"the loss became {loss}")
        for array, what in ((gradient, "gradient"), (theta, "weights")):
            if not np.all(np.isfinite(array)):
                bad = int(np.argmax(~np.isfinite(array)))
                raise self.diverged(epoch, number, f"the {what} overflowed (entry {bad} is {array[bad]})")
        if self.first:
            level = sum(self.first) / len(self.first)
            if loss > self.ratio * level:
                what = f"the loss {loss:.3g} is more than {self.ratio:g} × its starting level {level:.3g}"
                raise self.diverged(epoch, number, what)
        if self.warming:
            self.warm(loss)

    def warm(self, loss):
        """Count one more loss into the starting level (the mean of the first WARMUP)."""
        self.first.append(loss)
        self.limit = self.ratio * (sum(self.first) / len(self.first))
        self.warming = len(self.first) < self.WARMUP

    def diverged(self, epoch, number, what):
        return DivergenceError(
            f"training diverged in epoch {epoch}, step {number}: {what}; "
            f"learning_rate = {self.learning_rate:g} is too large, try a tenth of it",
            epoch,
            number,
        )


def _check_settings(epochs, learning_rate, batch_size, n_samples):
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not (isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive finite number, got {learning_rate!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if n_samples < 1:
        raise ValueError("there are no training samples")


class Progress:
    """A progress bar over epochs (tqdm when installed), showing loss and accuracy.

    Without tqdm it prints plain lines: the first epoch, every ``epochs / LINES``-th
    and the last, so at most ``LINES + 1`` lines however many epochs there are.

    Examples
    --------
    >>> with Progress(2, "demo", enabled=False) as bar:
    ...     bar.update(Epoch(1, 0.5, 0.75, 0.5))
    """

    LINES = 20  # plain progress lines at most (plus the first epoch's)

    def __init__(self, epochs, description, *, enabled=True, stream=None):
        self.epochs, self.description, self.enabled = epochs, description, enabled
        self.stream = stream or sys.stderr
        self.bar = _tqdm(epochs, description, self.stream) if enabled else None
        self.every = max(1, math.ceil(epochs / self.LINES))  # without tqdm: a line every this many epochs

    def update(self, record):
        """Show one finished epoch."""
        if not self.enabled:
            return
        shown = _describe(record)
        if self.bar is None:
            if record.epoch in (1, self.epochs) or record.epoch % self.every == 0:
                print(f"{self.description} epoch {record.epoch}/{self.epochs}: {shown}", file=self.stream)
            return
        self.bar.set_postfix_str(shown, refresh=False)
        self.bar.update(1)

    def close(self):
        """Finish the bar."""
        if self.bar is not None:
            self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        if kind is not None and self.bar is not None:  # training failed: wipe the bar, so the error is the line left
            self.bar.leave = False
        self.close()

    def __repr__(self):
        return f"Progress({self.epochs} epochs, {self.description!r}, enabled={self.enabled})"


def _tqdm(epochs, description, stream):
    try:
        from tqdm import tqdm
    except ImportError:  # plain lines instead
        return None
    return tqdm(total=epochs, desc=description, unit="epoch", file=stream, dynamic_ncols=True)


def _describe(record):
    parts = [f"loss {record.loss:.4f}"]
    if record.train_accuracy is not None:
        parts.append(f"train {100 * record.train_accuracy:.1f}%")
    if record.test_accuracy is not None:
        parts.append(f"test {100 * record.test_accuracy:.1f}%")
    return ", ".join(parts)


def plot_history(history, title="training", sizes=(None, None)):
    """The loss curve and the accuracy curves of ``history`` (a list of :class:`Epoch`) as a matplotlib Figure.

    ``sizes`` (training samples, test samples) goes into the legend, so a reader
    can tell what one sample more or less right is worth.

    Examples
    --------
    >>> fig = plot_history([Epoch(1, 1.0, 0.5, 0.4), Epoch(2, 0.5, 0.9, 0.8)], "demo", sizes=(20, 10))
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['mean cost over the epoch', 'accuracy (%)']
    >>> [line.get_label() for line in fig.axes[1].lines]
    ['training set (20 samples): 90.0% at the end', 'test set (10 samples): 80.0% at the end']
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullFormatter
    except ImportError:
        raise MissingDependencyError("the training curve needs matplotlib: pip install 'pathad[plot]'") from None
    epochs = [r.epoch for r in history]
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    loss_axes, accuracy_axes = fig.subplots(1, 2)
    loss_axes.plot(epochs, [r.loss for r in history], marker="." if len(epochs) < 40 else None)
    loss_axes.set(xlabel="epoch", ylabel="mean cost over the epoch", yscale="log", title="cost (log scale)")
    loss_axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 0.05, 0.1, 0.2, 0.5, 1, ...
    loss_axes.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    loss_axes.yaxis.set_minor_formatter(NullFormatter())
    lowest = _plot_accuracies(accuracy_axes, epochs, history, sizes)
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy after each epoch")
    accuracy_axes.set_ylim(max(0.0, 10 * math.floor((lowest - 5) / 10)), 101)
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(True, linestyle=":")
    fig.suptitle(title)
    return fig


def _plot_accuracies(axes, epochs, history, sizes):
    """The training and test accuracy lines; returns the lowest percentage drawn."""
    lowest = 100.0
    lines = (("train_accuracy", "training set", sizes[0], "-"), ("test_accuracy", "test set", sizes[1], "--"))
    for key, name, size, style in lines:  # the test line dashed: visible even where it equals the training line
        values = [getattr(r, key) for r in history]
        if all(v is None for v in values):
            continue
        percent = [100 * v for v in values]
        counted = f" ({size} samples)" if size else ""
        axes.plot(epochs, percent, style, label=f"{name}{counted}: {percent[-1]:.1f}% at the end")
        lowest = min(lowest, *percent)
    if axes.lines:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)  # below: never on a curve
    return lowest


def check_figure_path(path):
    """Refuse, before any training, a curve that cannot be written: no matplotlib, or a format it lacks.

    Raises :class:`MissingDependencyError` without matplotlib and ValueError for an
    unknown suffix; returns the format (the suffix, ``png`` when there is none).

    >>> check_figure_path("curve.svg")
    'svg'
    """
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise MissingDependencyError(
            f"writing the training curve {path} needs matplotlib: pip install 'pathad[plot]' (or leave out the curve)"
        ) from None
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    formats = FigureCanvasBase.get_supported_filetypes()
    if fmt not in formats:
        raise ValueError(f"the training curve {path}: matplotlib cannot write .{fmt}; use one of {', '.join(formats)}")
    return fmt


def write_figure(fig, path):
    """Write a matplotlib Figure to ``path`` atomically (temporary file, then ``os.replace``); format from the suffix.

    Returns the path.  A reader never sees a half-written file.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_figure(plot_history([Epoch(1, 1.0), Epoch(2, 0.5)]), Path(folder) / "curve.svg").name
    'curve.svg'
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    buffer = io.BytesIO()
    metadata = {"svg": {"Date": None}, "png": {"Software": None}, "pdf": {"CreationDate": None}}.get(fmt)
    fig.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue())
    return path


# --- where the gradients come from: one call, two implementations ---------------------------------


class Retrace:
    """∂Cost/∂w by tracing the training circuit at every sample, then one backward sweep: the lecture's way.

    For each sample (x, v) the circuit is traced with x and v as constants and
    the weights as inputs, and :func:`pathad.gradient` solves the path problem
    backward from Cost.  Always available; a few microseconds per operation.

    Examples
    --------
    >>> from pathad.nn import MLP, Circuit, SquaredError
    >>> circuit = Circuit(MLP([2, 2, 1]), SquaredError())
    >>> loss, grad = Retrace(circuit)(circuit.init(), np.array([[1.0, 0.0]]), np.array([[1.0]]))
    >>> grad.shape
    (9,)
    """

    name = "retrace"

    def __init__(self, circuit):
        self.circuit = circuit

    def __call__(self, theta, X, V):
        """Mean Cost and mean gradient (a vector in the order of ``circuit.parameters()``) over the rows."""
        params = self.circuit.assign(theta)
        loss, total = 0.0, np.zeros(len(theta))
        for x, v in zip(X.tolist(), V.tolist()):
            tr = self.circuit.trace(x, v, params)
            loss += tr.value
            total += np.fromiter(gradient(tr).values(), dtype=float, count=len(theta))
        return loss / len(X), total / len(X)

    def __repr__(self):
        return f"Retrace({self.circuit!r})"


class Replay:
    """∂Cost/∂w by replaying ONE recorded trace (:mod:`pathad.compiled`) for whole batches at once.

    The circuit is traced once with the data x and the targets v as inputs
    too (after the weights); the compiled tape recomputes values, partials
    and the backward sweep for a batch of samples in one call (a
    :class:`~pathad.compiled.replayer.Replayer` bound once, with the weights
    as ``fixed=`` inputs shared by the batch, differentiated with respect to
    them only: on numba one kernel call per step, in arrays kept from step
    to step), and the per-sample gradients are averaged by one
    matrix-vector product.

    Examples
    --------
    >>> from pathad.nn import MLP, Circuit, SquaredError
    >>> circuit = Circuit(MLP([2, 2, 1]), SquaredError())
    >>> replay = Replay(circuit, [0.0, 0.0], [0.0])  # traced once, at any sample
    >>> X, V, theta = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0], [0.0]]), circuit.init()
    >>> np.allclose(replay(theta, X, V)[1], Retrace(circuit)(theta, X, V)[1], rtol=1e-12)
    True
    """

    name = "replay"

    def __init__(self, circuit, x, v, backend="auto"):
        from . import compiled

        self.circuit = circuit
        traced = circuit.trace(x, v, circuit.assign(circuit.init()), data_inputs=True)
        self.tape = compiled.compile(traced, backend=backend)
        self._buffers = {}

    @property
    def tape(self):
        """The compiled training circuit; setting another one (another backend, say) binds the replay to it."""
        return self._tape

    @tape.setter
    def tape(self, tape):
        self._tape = tape
        n_weights = len(self.circuit.parameters())
        self._replay = tape.replayer(wrt=range(n_weights), fixed=n_weights)  # one kernel call per batch

    def __call__(self, theta, X, V):
        """Mean Cost and mean gradient over the rows of ``X`` and ``V``, as :class:`Retrace` gives them."""
        points = self._points(len(X))  # the data: one column per sample, x1.. then v1..
        np.concatenate((X, V), axis=1, out=points.T)
        # the weights: the leading inputs, the same for every sample; one kernel call for the batch, the gradients
        # averaged by a matrix-vector product
        return self._replay.mean(points, theta)

    def _points(self, batch):
        """A reused (data inputs, batch) buffer: replay copies what it reads, so one per batch size will do."""
        if batch not in self._buffers:
            self._buffers[batch] = np.empty((len(self.tape.inputs) - len(self.circuit.parameters()), batch))
        return self._buffers[batch]

    def __repr__(self):
        return f"Replay({self.circuit!r})"


def replay_available():
    """Whether :mod:`pathad.compiled` (the recorded-once replay) is installed and has ``compile``.

    >>> isinstance(replay_available(), bool)
    True
    """
    try:
        from . import compiled
    except ImportError:
        return False
    return callable(getattr(compiled, "compile", None))


#: Engine names :func:`gradient_engine` accepts.
ENGINES = ("auto", "replay", "retrace")


def gradient_engine(circuit, engine="auto", x=None, v=None, backend="auto"):
    """The gradient function for ``circuit``: ``engine(theta, X, V) -> (mean Cost, mean gradient)``.

    ``"retrace"`` is :class:`Retrace`; ``"replay"`` is :class:`Replay` (traced
    once at the sample x, v, run by ``backend``: see :func:`pathad.compile`);
    ``"auto"`` takes the replay when :func:`replay_available`, else re-traces.

    Examples
    --------
    >>> from pathad.nn import MLP, Circuit, SquaredError
    >>> gradient_engine(Circuit(MLP([2, 1]), SquaredError()), "retrace").name
    'retrace'
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if engine == "retrace" or (engine == "auto" and not replay_available()):
        return Retrace(circuit)
    if not replay_available():
        raise MissingDependencyError("engine='replay' needs pathad.compiled, which this pathad does not have")
    if x is None or v is None:
        raise ValueError("the replay engine needs one sample x, v to trace the circuit at")
    return Replay(circuit, x, v, backend=backend)


# --- training a circuit on a data set -------------------------------------------------------------


def accuracy(circuit, theta, data):
    """The fraction of ``data``'s samples that ``circuit`` classifies right at weights ``theta``.

    Examples
    --------
    >>> from pathad.datasets import xor
    >>> from pathad.nn import MLP, Circuit, SquaredError
    >>> accuracy(Circuit(MLP([2, 1]), SquaredError()), np.zeros(3), xor())  # output ½: class 0 everywhere
    0.5
    """
    return float(np.mean(circuit.classify(theta, data.X) == data.y))


@dataclass
class TrainingResult:
    """A trained circuit, its weights and what training did.

    Attributes
    ----------
    circuit : pathad.nn.Circuit
    theta : numpy.ndarray
        The trained weights, in the order of ``circuit.parameters()``.
    history : list of Epoch
    engine : str
        "retrace" or "replay".
    dataset : str
    settings : dict
        epochs, learning_rate, batch_size, seed.
    sizes : tuple
        (training samples, test samples or None).
    """

    circuit: object
    theta: np.ndarray
    history: list
    engine: str
    dataset: str
    settings: dict
    sizes: tuple

    @property
    def test_accuracy(self):
        """Accuracy on the test set after the last epoch (None without a test set)."""
        return self.history[-1].test_accuracy

    @property
    def train_accuracy(self):
        """Accuracy on the training set after the last epoch."""
        return self.history[-1].train_accuracy

    @property
    def weights(self):
        """{weight name: trained value}."""
        return self.circuit.assign(self.theta)

    def predict(self, X):
        """The predicted class of each row of ``X``."""
        return self.circuit.classify(self.theta, X)

    def plot(self, path):
        """Write the loss and accuracy curves to ``path`` (atomically); returns the path."""
        s = self.settings
        batch = "per-sample descent" if s["batch_size"] == 1 else f"mini-batches of {s['batch_size']}"
        title = (
            f"{self.dataset}: {self.circuit.net!r} + {self.circuit.cost!r}\n"
            f"{batch}, η = {s['learning_rate']:g}, seed {s['seed']}, gradients by {self.engine}"
        )
        return write_figure(plot_history(self.history, title, self.sizes), path)

    def summary(self):
        """A few lines: the circuit, the settings, the final cost and accuracies."""
        s, last = self.settings, self.history[-1]
        batch = "per-sample" if s["batch_size"] == 1 else f"mini-batches of {s['batch_size']}"
        seconds = sum(r.seconds for r in self.history)
        lines = [
            f"{self.dataset}: {self.circuit.net!r} + {self.circuit.cost!r}",
            f"{s['epochs']} epochs, {batch}, learning rate {s['learning_rate']:g}, seed {s['seed']}, "
            f"gradients by {self.engine}, {seconds:.2f} s",
            f"final mean cost {last.loss:.4g}; training accuracy {_percent(last.train_accuracy, self.sizes[0])}",
        ]
        if last.test_accuracy is not None:
            lines.append(f"test accuracy {_percent(last.test_accuracy, self.sizes[1])}")
        return "\n".join(lines)

    def __repr__(self):
        shown = "n/a" if self.test_accuracy is None else f"{100 * self.test_accuracy:.1f}%"
        return f"<TrainingResult {self.dataset}: {len(self.history)} epochs, test accuracy {shown}>"


def _percent(fraction, n):
    return f"{100 * fraction:.1f}% ({round(fraction * n)}/{n})"


def fit(
    circuit,
    train,
    test=None,
    *,
    epochs,
    learning_rate,
    batch_size=1,
    seed=0,
    engine="auto",
    backend="auto",
    progress=False,
    curve=None,
    theta=None,
    max_loss_ratio=100.0,
):
    """Train ``circuit`` on the :class:`~pathad.datasets.Dataset` ``train`` by gradient descent.

    Each step computes ∂Cost/∂w for a batch of samples (by the ``engine``, see
    :func:`gradient_engine`) and moves every weight against it,
    ``w := w − η·∂Cost/∂w`` (the lecture's ``+`` would climb the cost).

    Parameters
    ----------
    circuit : pathad.nn.Circuit
    train, test : Dataset
        Class labels become the targets v (see ``Circuit.targets``).
    epochs, learning_rate, batch_size, seed, max_loss_ratio :
        As for :func:`descend`; ``seed`` also seeds the initial weights.
    engine : {"auto", "replay", "retrace"}
    backend : {"auto", "numpy", "numba"}
        Who runs the replay engine (see :func:`pathad.compile`): "auto" starts
        with numpy and compiles numba's loop once a run has spent about as long
        as compiling takes, unless an earlier process compiled it already.
    progress : bool
        Show a progress bar.
    curve : path, optional
        Write the loss and accuracy curves there.
    theta : array, optional
        Initial weights (default: ``circuit.init(seed)``); not modified.

    Returns
    -------
    TrainingResult

    Raises
    ------
    pathad.errors.DataError
        The data does not fit the circuit (sizes, labels).
    DivergenceError
        The learning rate made training diverge (the message names the epoch).

    Examples
    --------
    >>> from pathad.datasets import xor
    >>> from pathad.nn import MLP, Circuit, SquaredError
    >>> result = fit(Circuit(MLP([2, 3, 1]), SquaredError()), xor(), xor(), epochs=300, learning_rate=2.0)
    >>> result.test_accuracy
    1.0
    """
    if curve is not None:
        check_figure_path(curve)  # before training, not after it
    X, V = _arrays(circuit, train), circuit.targets(train.y)
    if test is not None:
        _arrays(circuit, test)
    theta = circuit.init(seed) if theta is None else np.array(theta, dtype=float)
    engine = gradient_engine(circuit, engine, X[0], V[0], backend=backend)

    def step(theta, rows):
        return engine(theta, X[rows], V[rows])

    def evaluate(theta):
        return accuracy(circuit, theta, train), None if test is None else accuracy(circuit, theta, test)

    settings = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size, "seed": seed}
    name = train.name.split("/")[0]
    with Progress(epochs, f"{name} ({engine.name})", enabled=progress) as bar:
        history = descend(
            step, theta, len(X), **settings, evaluate=evaluate, progress=bar, max_loss_ratio=max_loss_ratio
        )
    sizes = (len(train), None if test is None else len(test))
    result = TrainingResult(circuit, theta, history, engine.name, name, settings, sizes)
    if curve is not None:
        result.plot(curve)
    return result


def _arrays(circuit, data):
    if data.X.shape[1] != circuit.n_inputs:
        raise DataError(
            f"{data.name} has {data.X.shape[1]} features per sample but {circuit.net!r} takes {circuit.n_inputs}"
        )
    return np.asarray(data.X, dtype=float)
