"""pathad's peers for benchmarks/bench_peers.py: loading them one thread each, and the same programs in each.

Every peer is optional: :func:`load` gives the module, or None when it is not installed (a benchmark column
then says "not installed").  Import this module before numpy, torch or jax are imported anywhere (the
thread settings are environment variables that those libraries read once, when they load).

The programs are pathad's benchmark programs written the way each peer is written well:

* ``dag``: the random straight-line program of bench_core.py (each step is (a + b)/2, (1 − a·b)/2 or
  (relu(a) − b)/2 of two of the 16 most recent values).  torch and CasADi run the very Python program on
  their scalars; JAX runs it as
  one ``lax.scan`` over the steps with a 16-value window (the unrolled program of 10^5 scalar operations
  takes XLA minutes to compile).
* ``loop``: bench_compiled.py's loop sum ``(Σ x_i·c_i)²``: CasADi runs the Python loop on its scalars, JAX
  and torch take the dot product.
* ``mlp``: the 64-16-10 training circuit of pathad.nn (relu hidden units, linear outputs, Σ ½(y − v)²),
  as matrix products; every input is differentiated (weights in pathad's order, each neuron's weights then
  its bias, then the 64 pixels x and the 10 targets v).

relu has derivative 0 at 0 everywhere, as in pathad (exact zeros do occur: relu of a relu'd value).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib  # noqa: E402 - after the thread settings, which the libraries read when they load
import inspect  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
from functools import cache  # noqa: E402
from importlib.util import find_spec  # noqa: E402

import numpy as np  # noqa: E402

__all__ = ["load", "versions", "DAG_OPS", "jax_program", "torch_program", "casadi_program", "MLP_SIZES"]

MLP_SIZES = (64, 16, 10)
PEERS = ("micrograd", "torch", "jax", "casadi")
WITHOUT = set()  # peers to treat as not installed (bench_peers.py --without)


def _stand_in_for_micrograd():
    """bench_core.py and bench_training.py exit when micrograd is missing; their generators are wanted anyway."""
    if find_spec("micrograd") is not None:
        return
    package, engine, nn = (types.ModuleType(name) for name in ("micrograd", "micrograd.engine", "micrograd.nn"))
    engine.Value, nn.MLP, package.engine, package.nn = None, None, engine, nn
    sys.modules.update({"micrograd": package, "micrograd.engine": engine, "micrograd.nn": nn})


_stand_in_for_micrograd()


def load(name):
    """The peer's module, set up for the benchmarks (float64, one thread), or None if it is not installed."""
    return None if name in WITHOUT else _load(name)


@cache
def _load(name):
    try:
        if name == "micrograd":
            module = importlib.import_module("micrograd.engine")
            return module if getattr(module, "Value", None) is not None else None
        module = importlib.import_module(name)
    except ImportError:
        return None
    if name == "torch":
        module.set_default_dtype(module.float64)
        module.set_num_threads(1)
        try:
            module.set_num_interop_threads(1)
        except RuntimeError:  # only settable before torch's first parallel work
            pass
    elif name == "jax":
        module.config.update("jax_enable_x64", True)
    return module


def versions():
    """{peer: its version, or None when it is not installed}."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in PEERS:
        if name in WITHOUT:
            found[name] = None
            continue
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


# --- the random DAG (bench_core.make_program's (op, i, j) steps) ----------------------------------------------

DAG_OPS = {"average": 0, "mul": 1, "relu": 2}
WINDOW = 16  # bench_core's DAG reads the 16 most recent values


def _dag_arrays(program):
    """Op codes and how far back (1..16) each step's two operands lie."""
    ops = np.array([DAG_OPS[op] for op, _, _ in program], dtype=np.int32)
    back_i = np.array([k - i for k, (_, i, _) in enumerate(program, 2)], dtype=np.int32)
    back_j = np.array([k - j for k, (_, _, j) in enumerate(program, 2)], dtype=np.int32)
    if back_i.size and (min(back_i.min(), back_j.min()) < 1 or max(back_i.max(), back_j.max()) > WINDOW):
        raise ValueError(f"the scan form needs operands among the {WINDOW} most recent values")
    return ops, back_i, back_j


def _loop_coefficients(program):
    """The c_i of bench_compiled.loop_sum's program (read from its closure, so they are the same numbers)."""
    return np.array(inspect.getclosurevars(program).nonlocals["coefficients"], dtype=np.float64)


# --- JAX ----------------------------------------------------------------------------------------------------------


def jax_program(kind, program=None):
    """A function of the flat input vector z to the scalar output, in jax.numpy."""
    jax = load("jax")
    jnp = jax.numpy
    if kind == "dag":
        ops, back_i, back_j = (jnp.asarray(a) for a in _dag_arrays(program))

        def dag(z):
            window = jnp.zeros(WINDOW, dtype=z.dtype).at[WINDOW - 2].set(z[0]).at[WINDOW - 1].set(z[1])

            def step(window, s):
                op, i, j = s
                a, b = window[WINDOW - i], window[WINDOW - j]
                relu = jnp.where(a > 0, a, 0.0)
                value = jnp.where(op == 0, (a + b) * 0.5, jnp.where(op == 1, (1.0 - a * b) * 0.5, (relu - b) * 0.5))
                return jnp.concatenate([window[1:], value[None]]), None

            return jax.lax.scan(step, window, (ops, back_i, back_j))[0][WINDOW - 1]

        return dag
    if kind == "loop":
        c = jnp.asarray(_loop_coefficients(program))

        def loop(z):
            total = jnp.dot(z, c)
            return total * total

        return loop
    if kind == "mlp":
        return lambda z: _mlp_cost(z, jnp, lambda a: jnp.where(a > 0, a, 0.0))
    raise ValueError(kind)


def _mlp_parts(z):
    """W1, b1, W2, b2, x, v: views into the flat input vector (pathad's input order)."""
    n_in, n_hidden, n_out = MLP_SIZES
    first, second = n_hidden * (n_in + 1), n_out * (n_hidden + 1)
    layer1 = z[:first].reshape(n_hidden, n_in + 1)
    layer2 = z[first : first + second].reshape(n_out, n_hidden + 1)
    x = z[first + second : first + second + n_in]
    v = z[first + second + n_in :]
    return layer1[:, :n_in], layer1[:, n_in], layer2[:, :n_hidden], layer2[:, n_hidden], x, v


def _mlp_cost(z, xp, relu):
    W1, b1, W2, b2, x, v = _mlp_parts(z)
    y = W2 @ relu(W1 @ x + b1) + b2
    return 0.5 * xp.sum((y - v) ** 2)


def mlp_input_count():
    n_in, n_hidden, n_out = MLP_SIZES
    return n_hidden * (n_in + 1) + n_out * (n_hidden + 1) + n_in + n_out


def jax_mlp_step(learning_rate):
    """A jitted SGD step on (W1, b1, W2, b2) for a mini-batch (rows x, targets v): the mean gradient."""
    jax = load("jax")
    jnp = jax.numpy

    def loss(params, x, v):
        W1, b1, W2, b2 = params
        y = jnp.where(x @ W1.T + b1 > 0, x @ W1.T + b1, 0.0) @ W2.T + b2
        return 0.5 * jnp.sum((y - v) ** 2) / x.shape[0]

    @jax.jit
    def step(params, x, v):
        grads = jax.grad(loss)(params, x, v)
        return tuple(p - learning_rate * g for p, g in zip(params, grads))

    return step


# --- torch --------------------------------------------------------------------------------------------------------


def torch_program(kind, program=None, run=None):
    """A function of the flat input tensor z to the scalar output, in torch (``run`` is bench_core.run)."""
    torch = load("torch")
    if kind == "dag":
        return lambda z: run(program, z[0], z[1], torch.relu)
    if kind == "loop":
        c = torch.from_numpy(_loop_coefficients(program))

        def loop(z):
            total = torch.dot(z, c)
            return total * total

        return loop
    if kind == "mlp":
        return lambda z: _mlp_cost(z, torch, torch.relu)
    raise ValueError(kind)


# --- CasADi -------------------------------------------------------------------------------------------------------


def casadi_relu(a):
    casadi = load("casadi")
    return casadi.if_else(a > 0, a, 0)


def casadi_program(kind, n_inputs, program=None, run=None):
    """(z, the output's SX expression) for a symbolic input vector z of length n_inputs."""
    casadi = load("casadi")
    z = casadi.SX.sym("z", n_inputs)
    if kind == "dag":
        return z, run(program, z[0], z[1], casadi_relu)
    if kind == "loop":
        return z, program(casadi_relu, *(z[i] for i in range(n_inputs)))
    if kind == "mlp":
        n_in, n_hidden, n_out = MLP_SIZES
        first, second = n_hidden * (n_in + 1), n_out * (n_hidden + 1)
        layer1 = casadi.reshape(z[:first], n_in + 1, n_hidden).T  # casadi reshapes column by column
        layer2 = casadi.reshape(z[first : first + second], n_hidden + 1, n_out).T
        x, v = z[first + second : first + second + n_in], z[first + second + n_in :]
        hidden = casadi_relu(casadi.mtimes(layer1[:, :n_in], x) + layer1[:, n_in])
        y = casadi.mtimes(layer2[:, :n_hidden], hidden) + layer2[:, n_hidden]
        return z, 0.5 * casadi.sumsqr(y - v)
    raise ValueError(kind)
