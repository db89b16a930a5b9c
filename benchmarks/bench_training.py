"""Seconds per epoch training the digits network 64-16-10: pathad (two ways), micrograd, hand-written numpy.

Run:  python benchmarks/bench_training.py [--epochs 3] [--sample 150] [--full]

Needs scikit-learn (the digits) and micrograd 0.1.0 (``pip install -e ".[bench,digits]"``).

The circuit, for every row: 64 inputs → 16 relu units → 10 linear outputs, cost Σ ½(y − v)² against one-hot
targets, on the 1500 training images of the 1500/297 split.  micrograd 0.1.0 has +, ×, ** and relu only (no
exp, so no sigmoid, tanh or softmax), so relu and the squared error are what all four can run; pathad's
trained digits setup (sigmoid hidden units, softmax cross-entropy) costs about the same per operation.
Every row starts from the same weights, visits the samples in the same seeded order and takes the same
steps w := w − η·∂Cost/∂w, once per sample (batch 1) and once per mini-batch of 32 (the mean gradient):

* pathad re-trace — :class:`pathad.training.Retrace`: per sample, trace the training circuit (data and
  targets as constants) and solve the path problem backward with :func:`pathad.gradient` (the teaching path);
* pathad replay — :class:`pathad.training.Replay`: the circuit is traced ONCE with data and targets as inputs
  and compiled (:func:`pathad.compiled.compile`); each batch is one vectorized replay of values, partials and
  the backward sweep (plus one replay of the values for the loss);
* micrograd — its own ``nn.MLP(64, [16, 10])``, a graph of Values per sample, ``backward()``, and the update;
  the garbage collector runs as in a user's program (micrograd's nodes sit in reference cycles);
* numpy — hand-written backpropagation with matrices (the floor).

Both pathad rows run through :func:`pathad.training.descend`, the loop ``fit`` uses (with its divergence
checks); numpy and micrograd run their own tight loops.  Fast rows are timed over ``--epochs`` full epochs
(median); the slow ones (re-trace, micrograd) over the first ``--sample`` training samples, scaled to 1500,
unless ``--full``.  The last column compares each row's weights after its run with numpy's after the same
samples and steps: all four compute the same training run.
"""

import argparse
import statistics
import sys
import time

import numpy as np

from pathad.datasets import load
from pathad.nn import MLP, SETUPS, Circuit, SquaredError
from pathad.training import Retrace, descend, gradient_engine, replay_available

try:
    from micrograd import nn as micrograd_nn
except ImportError:  # pragma: no cover - benchmark-only dependency
    sys.exit('micrograd is needed: pip install -e ".[bench]"')

LEARNING_RATE = 0.01
SEED = 0


def digits_problem():
    """The circuit, the starting weights and the training arrays (1500 × 64, 1500 × 10)."""
    train, _ = SETUPS["digits"].split(load("digits"))
    circuit = Circuit(MLP([64, 16, 10], "relu", output="linear"), SquaredError())
    return circuit, circuit.init(SEED), train.X, circuit.targets(train.y)


def orders(n, epochs):
    """The sample order of each epoch, as :func:`descend` draws it."""
    rng = np.random.default_rng(SEED)
    return [rng.permutation(n) for _ in range(epochs)]


# --- the four ways to train --------------------------------------------------------------------------


def run_pathad(engine, theta, X, V, batch, epochs):
    """Seconds per epoch and the trained weights, through pathad's own training loop."""

    def step(theta, rows):
        return engine(theta, X[rows], V[rows])

    history = descend(step, theta, len(X), epochs=epochs, learning_rate=LEARNING_RATE, batch_size=batch, seed=SEED)
    return [r.seconds for r in history], theta


def run_numpy(circuit, theta, X, V, batch, epochs):
    """Hand-written backpropagation for relu hidden units, linear outputs and Σ ½(y − v)², in place on theta."""
    (W1, b1), (W2, b2) = circuit.net.matrices(theta)  # views: the updates land in theta
    seconds = []
    for order in orders(len(X), epochs):
        start = time.perf_counter()
        for begin in range(0, len(X), batch):
            rows = order[begin : begin + batch]
            x, v = X[rows], V[rows]
            H = np.maximum(x @ W1.T + b1, 0.0)
            D2 = (H @ W2.T + b2 - v) / len(rows)  # δ at the outputs: y − v (mean over the batch)
            D1 = (D2 @ W2) * (H > 0)  # δ at the hidden units: relu'(a) Σ_k δ_k w_kj
            W2 -= LEARNING_RATE * (D2.T @ H)
            b2 -= LEARNING_RATE * D2.sum(axis=0)
            W1 -= LEARNING_RATE * (D1.T @ x)
            b1 -= LEARNING_RATE * D1.sum(axis=0)
        seconds.append(time.perf_counter() - start)
    return seconds, theta


def run_micrograd(theta, X, V, batch, epochs):
    """micrograd's MLP (same layout of weights as pathad's: per neuron w..., b), trained sample by sample."""
    model = micrograd_nn.MLP(X.shape[1], [16, V.shape[1]])
    params = model.parameters()
    for p, value in zip(params, theta.tolist()):
        p.data = value
    rows_X, rows_V = X.tolist(), V.tolist()
    seconds = []
    for order in orders(len(X), epochs):
        start = time.perf_counter()
        for begin in range(0, len(X), batch):
            rows = order[begin : begin + batch].tolist()
            losses = [sum((0.5 * (y - v) ** 2 for y, v in zip(model(rows_X[i]), rows_V[i]))) for i in rows]
            loss = sum(losses) * (1.0 / len(rows))
            model.zero_grad()
            loss.backward()
            for p in params:
                p.data -= LEARNING_RATE * p.grad
        seconds.append(time.perf_counter() - start)
    return seconds, np.array([p.data for p in params])


# --- the table ---------------------------------------------------------------------------------------


def measure(key, name, batch, run, n, epochs, reference):
    """One row: median seconds per epoch scaled to the full 1500 samples, and max |Δθ| against numpy."""
    seconds, theta = run(n, epochs)
    per_epoch = statistics.median(seconds) * 1500 / n
    measured = f"{epochs} × {n} samples" if n < 1500 else f"{epochs} epoch{'s' if epochs > 1 else ''}"
    deviation = float(np.max(np.abs(theta - reference(n, epochs))))
    print(f"  ran {name}, batch {batch}: {per_epoch:.4g} s/epoch", file=sys.stderr)
    row = {"key": key, "name": name, "batch": batch, "seconds": per_epoch}
    return row | {"measured": measured, "deviation": deviation}


def rows_for(batch, problem, args):
    circuit, theta0, X, V = problem
    small = 1500 if args.full else args.sample

    def numpy_run(n, epochs):
        return run_numpy(circuit, theta0.copy(), X[:n], V[:n], batch, epochs)

    def reference(n, epochs):
        return numpy_run(n, epochs)[1]

    def retrace_run(n, epochs):
        return run_pathad(Retrace(circuit), theta0.copy(), X[:n], V[:n], batch, epochs)

    def micrograd_run(n, epochs):
        return run_micrograd(theta0, X[:n], V[:n], batch, epochs)

    rows = [
        measure("numpy", "numpy, hand-written backprop (the floor)", batch, numpy_run, 1500, args.epochs, reference)
    ]
    if replay_available():
        engine = gradient_engine(circuit, "replay", X[0], V[0])
        for count in (1, 2):  # warm-up: numba compiles its loops (one for a single point, one for batches) once
            engine(theta0, X[:count], V[:count])

        def replay_run(n, epochs):
            return run_pathad(engine, theta0.copy(), X[:n], V[:n], batch, epochs)

        epochs = args.epochs if batch > 1 else 1
        rows.append(measure("replay", "pathad replay (recorded once)", batch, replay_run, 1500, epochs, reference))
    else:
        rows.append({"key": "replay", "name": "pathad replay (recorded once)", "batch": batch, "seconds": None})
    rows.append(measure("retrace", "pathad re-trace per sample", batch, retrace_run, small, 1, reference))
    rows.append(measure("micrograd", "micrograd 0.1.0", batch, micrograd_run, small, 1, reference))
    return rows


def print_table(rows):
    floors = {r["batch"]: r["seconds"] for r in rows if r["key"] == "numpy"}
    print(f"{'':42}{'batch':>6}{'s/epoch':>11}{'× numpy':>10}   {'timed on':<18}{'max |Δθ| vs numpy':>18}")
    for r in rows:
        if r["seconds"] is None:
            print(f"{r['name']:<42}{r['batch']:>6}   not available (no pathad.compiled.compile)")
            continue
        ratio = r["seconds"] / floors[r["batch"]]
        print(
            f"{r['name']:<42}{r['batch']:>6}{r['seconds']:>11.4g}{ratio:>10.3g}   {r['measured']:<18}"
            f"{r['deviation']:>18.1e}"
        )


def print_goals(rows):
    seconds = {(r["key"], r["batch"]): r["seconds"] for r in rows}
    for batch in (1, 32):
        replay, micrograd, numpy_floor = (seconds[key, batch] for key in ("replay", "micrograd", "numpy"))
        if replay is None:
            print(f"batch {batch}: replay not available")
            continue
        print(
            f"batch {batch}: replay is {micrograd / replay:.0f}× faster than micrograd (goal ≥ 100×), "
            f"{replay / numpy_floor:.0f}× the numpy floor" + (" (goal ≤ 5×)" if batch == 32 else "")
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="full epochs timed for the fast rows (median)")
    parser.add_argument("--sample", type=int, default=150, help="samples timed for the slow rows, scaled to 1500")
    parser.add_argument("--full", action="store_true", help="time the slow rows on full epochs too")
    args = parser.parse_args(argv)
    problem = digits_problem()
    print(
        "digits 64-16-10: relu hidden, linear outputs, Cost = Σ ½(y − v)²; 1500 training samples, "
        f"η = {LEARNING_RATE}, seed {SEED}; seconds per epoch (training steps only)"
    )
    start = time.perf_counter()
    if replay_available():
        gradient_engine(problem[0], "replay", problem[2][0], problem[3][0])
        print(f"pathad replay: tracing the circuit once and compiling it took {time.perf_counter() - start:.3f} s")
    rows = rows_for(1, problem, args) + rows_for(32, problem, args)
    print()
    print_table(rows)
    print()
    print_goals(rows)


if __name__ == "__main__":
    main()
