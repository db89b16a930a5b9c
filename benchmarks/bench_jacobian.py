"""Jacobians (issue 13, item 7): pathad traced and compiled against jax.jit(jacfwd / jacrev) and CasADi.

Run:  python benchmarks/bench_jacobian.py [--quick] [--rounds 7] [--budget 0.2] [--n 200] [--batch 100]
                                         [--backends numba numpy] [--no-jit]

Three functions, each written once (:func:`dense_wide`, :func:`dense_tall`, :func:`banded`) against a small
math namespace, so that pathad's traced arrays, jax.numpy and CasADi's SX/MX symbols run the same
expressions (the same constants, the same operations in the same order):

* ``dense 20→3``: three outputs, each a smooth function of all 20 inputs;
* ``dense 3→20``: twenty outputs, each mixing all 3 inputs;
* ``banded 200→200`` (``--n``): y_i = sin(x_{i-1})·x_i + x_i·x_{i+1}, non-cyclic (y_0 = x_0·x_1,
  y_{n-1} = sin(x_{n-2})·x_{n-1}): a tridiagonal Jacobian, 3 colours either way.

Contestants, each giving the Jacobian at a point the trace was not made at:

* pathad trace + jacobian: ``pathad.jacobian(pathad.trace(f, x), mode=...)`` per call (a user
  differentiating at a new point without compiling), and ``pathad.jacobian`` alone on an existing trace, in
  every mode of ``pathad.derivatives.JACOBIAN_MODES`` ("reverse" is "backward");
* pathad compiled: ``pathad.compile(trace at another point, backend=...)`` once, then
  ``tape.jacobian(x)`` (mode "auto": the colored direction with fewer classes), for each ``--backends``;
* ``jax.jit(jax.jacfwd(f))`` and ``jax.jit(jax.jacrev(f))`` (x64, CPU, one thread), called on the numpy
  point and ``block_until_ready``; their sweeps are L (jacfwd) and K (jacrev), vmapped;
* CasADi: ``casadi.Function("J", [x], [casadi.jacobian(f(x), x)])`` with SX (its virtual machine), MX, and
  SX jit-compiled to C (``"jit": True``, the "shell" compiler, when a C compiler works; not with
  ``--quick``/``--no-jit``), called on the numpy point: the numpy → DM conversion is timed, the result is
  CasADi's (sparse) DM.  "casadi SX → ndarray" adds what it takes to get the dense numpy matrix pathad and
  JAX return (the nonzeros scattered by a precomputed pattern; ``DM.full()`` costs milliseconds at 200×200).
  CasADi's sweeps are read from its verbose log ("N sweeps needed for F forward and A reverse
  directions"): the directions it used when it built the Jacobian expression, which every call then
  evaluates once (no sweeps at call time).

Then the same Jacobian at ``--batch`` points at once (every input differs between points), µs per point:
``tape.jacobian(at=X)`` with X of shape (n, B), ``jax.jit(jax.vmap(jax.jacfwd(f)))`` (and jacrev) on X.T, and
the CasADi SX Function's ``.map(B)`` on the (n, B) DM.

Every table is the median of ``--rounds`` alternated rounds (the order rotates each round), each
measurement repeating a call for ≥ ``--budget`` seconds, one thread per library, the garbage collector off
while timing (it collects between measurements).  Before timing, every contestant's Jacobian is compared
with pathad's traced backward one: a max abs diff above 1e-10 marks it DIFFERENT (it is then not timed) and
the run exits with status 1.

Goals (issue 13): the banded Jacobian in ≤ 4 sweeps and ≤ 2× CasADi (its SX Function, the peer of
bench_peers.py's compiled replay; the jit row is shown against it too), the dense ones ≤ 1.5× the better JAX
mode; checked for each compiled pathad backend.  ``--quick`` (a 12-long band, batch 4, 1 round, numpy
backend, no CasADi jit) is what tests/test_benchmarks.py runs.
"""

import peers  # first: one thread per library, set before numpy or jax load

# isort: split

import argparse
import contextlib
import gc
import io
import os
import re
import statistics
import sys
import tempfile
import time
from functools import cache
from importlib.util import find_spec

import numpy as np

import pathad

TOLERANCE = 1e-10
DIFFERENT = []  # (table, contestant, max abs diff)


# --- the functions, once for every library ------------------------------------------------------------------------


class PathadMath:
    """pathad's functions on traced numbers and numpy object arrays of them."""

    sin, cos, exp = pathad.sin, pathad.cos, pathad.exp
    const = staticmethod(np.asarray)

    @staticmethod
    def sum(v):
        return np.sum(v)

    @staticmethod
    def dot(c, v):
        return np.asarray(c) @ v

    @staticmethod
    def matvec(A, v):
        return np.asarray(A) @ v

    @staticmethod
    def concat(parts):
        return np.concatenate([np.atleast_1d(p) for p in parts])

    @staticmethod
    def stack(scalars):
        return np.array(scalars, dtype=object)


def jax_math():
    jnp = peers.load("jax").numpy

    class JaxMath:
        sin, cos, exp, sum = jnp.sin, jnp.cos, jnp.exp, jnp.sum
        const = staticmethod(jnp.asarray)

        @staticmethod
        def dot(c, v):
            return jnp.asarray(c) @ v

        @staticmethod
        def matvec(A, v):
            return jnp.asarray(A) @ v

        @staticmethod
        def concat(parts):
            return jnp.concatenate([jnp.atleast_1d(p) for p in parts])

        @staticmethod
        def stack(scalars):
            return jnp.stack(scalars)

    return JaxMath


def casadi_math():
    casadi = peers.load("casadi")

    class CasadiMath:
        sin, cos, exp, sum = casadi.sin, casadi.cos, casadi.exp, casadi.sum1
        const = staticmethod(casadi.DM)

        @staticmethod
        def dot(c, v):
            return casadi.dot(casadi.DM(c), v)

        @staticmethod
        def matvec(A, v):
            return casadi.mtimes(casadi.DM(A), v)

        @staticmethod
        def concat(parts):
            return casadi.vertcat(*parts)

        @staticmethod
        def stack(scalars):
            return casadi.vertcat(*scalars)

    return CasadiMath


_rng = np.random.default_rng(13)
C1, C2 = _rng.uniform(-1, 1, 20), _rng.uniform(0.5, 1.5, 20)
A, B, C = _rng.uniform(-1, 1, (20, 3)), _rng.uniform(-1, 1, (20, 3)), _rng.uniform(-1, 1, 20)


def dense_wide(x, m):
    """20 → 3: every output reads every input."""
    y0 = m.sum(m.sin(x) * x[::-1])
    y1 = m.exp(0.1 * m.dot(C1, x))
    y2 = x[0] * m.sum(m.cos(m.const(C2) * x)) + m.sin(m.sum(x * x))
    return m.stack([y0, y1, y2])


def dense_tall(x, m):
    """3 → 20: every output mixes all three inputs."""
    return m.sin(m.matvec(A, x)) * m.exp(0.1 * m.matvec(B, x)) + x[0] * x[1] * x[2] * m.const(C)


def banded(x, m):
    """n → n, tridiagonal: y_i = sin(x_{i-1})·x_i + x_i·x_{i+1}, non-cyclic."""
    middle = m.sin(x[:-2]) * x[1:-1] + x[1:-1] * x[2:]
    return m.concat([x[0] * x[1], middle, m.sin(x[-2]) * x[-1]])


# --- contestants and rounds (bench_peers.py's, without its imports: bench_compiled loads torch) -----------------


class Contestant:
    """One way to get the Jacobian: ``call()`` returns a result, ``answer(result)`` the dense matrix
    ((K, L), or (B, K, L) for a batch), ``sweeps`` an int, a text, or a function of the result."""

    def __init__(self, name, call=None, answer=None, sweeps="-", *, missing=None, setup=0.0):
        self.name, self.call, self.missing, self.setup = name, call, missing, setup
        self.answer = answer or np.asarray
        self._sweeps = sweeps
        self.times, self.result, self.loops, self.first, self.once, self.diff = [], None, 1, None, None, None

    @property
    def sweeps(self):
        if callable(self._sweeps):
            return self._sweeps(self.result) if self.result is not None else "-"
        return self._sweeps

    def warm_up(self, budget):
        """The first call (compilers run here), keeping its result; a second one sizes the repeats."""
        start = time.perf_counter()
        self.result = self.call()
        self.first = time.perf_counter() - start
        start = time.perf_counter()
        self.call()
        self.once = time.perf_counter() - start
        self.loops = max(1, int(budget / max(self.once, 1e-9)))

    def measure(self):
        call, loops = self.call, self.loops
        start = time.perf_counter()
        for _ in range(loops):
            call()
        return (time.perf_counter() - start) / loops

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None


def missing(name, why):
    return Contestant(name, missing=why)


def race(table, contestants, reference, rounds, budget, limit=600.0):
    """Warm up, check every answer against ``reference``'s, then time the agreeing ones in alternated rounds."""
    live = [c for c in contestants if c.missing is None]
    gc.collect()
    gc.freeze()
    for c in live:
        gc.collect()
        c.warm_up(budget)
    expected = reference.answer(reference.result)
    for c in live:
        got = c.answer(c.result)
        c.diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("inf")
        if not c.diff < TOLERANCE:
            DIFFERENT.append((table, c.name, c.diff))
            c.missing = "DIFFERENT"
    live = [c for c in live if c.missing is None]
    per_round = sum(max(c.once * c.loops, budget) for c in live)
    rounds = max(1, min(rounds, int(limit / max(per_round, 1e-9))))
    for r in range(rounds):
        shift = r % len(live) if live else 0
        for c in live[shift:] + live[:shift]:
            gc.collect()
            c.times.append(c.measure())
    gc.collect()
    print(f"  {table}: {rounds} rounds, {sum(c.once * c.loops for c in live) * rounds:.0f} s", file=sys.stderr)
    return rounds


# --- printing -----------------------------------------------------------------------------------------------------


def print_table(title, header, rows, notes=()):
    print(f"\n{title}")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())
    for note in notes:
        print(f"  {note}")
    sys.stdout.flush()


def micro(seconds):
    if seconds is None:
        return "-"
    value = seconds * 1e6
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


def ratio(a, b):
    return None if a is None or b is None else a / b


def text(value):
    return "-" if value is None else f"{value:.2f}"


def mark(ok):
    return "✓" if ok else "✗"


def first_calls(contestants):
    compiled = [c for c in contestants if c.first is not None and c.first > max(0.05, 2 * c.once)]
    parts = [f"{c.name} {c.first:.2g} s" for c in compiled]
    return "first calls (compiling, not timed): " + ", ".join(parts) if parts else None


# --- pathad ---------------------------------------------------------------------------------------------------------


def pathad_f(f):
    return lambda x: f(x, PathadMath)


def pathad_trace_contestants(f, x):
    """trace + jacobian per call (auto and the colored modes), and jacobian alone on a trace in every mode."""
    fp = pathad_f(f)
    tr = pathad.trace(fp, x)
    out = []
    for mode in ("auto", "colored-forward", "colored-backward"):
        out.append(
            Contestant(
                f"pathad trace + jacobian, {mode}",
                lambda mode=mode: pathad.jacobian(pathad.trace(fp, x), mode=mode),
                lambda J: J.matrix,
                lambda J: f"{J.sweeps} ({J.mode})",
            )
        )
    modes = [m for m in pathad.derivatives.JACOBIAN_MODES if m != "reverse"]
    for mode in modes:
        out.append(
            Contestant(
                f"pathad jacobian on a trace, {mode}",
                lambda mode=mode: pathad.jacobian(tr, mode=mode),
                lambda J: J.matrix,
                lambda J: f"{J.sweeps} ({J.mode})",
            )
        )
    return out


def pathad_compiled(f, traced_at, x, backends):
    """One contestant per backend: ``tape.jacobian(x)`` (or ``at=`` a batch), the tape compiled beforehand."""
    if x.ndim == 1:
        calling = lambda tape: lambda: tape.jacobian(x)  # noqa: E731
    else:
        calling = lambda tape: lambda: tape.jacobian(at=x)  # noqa: E731
    return compiled_contestants(pathad.trace(pathad_f(f), traced_at), backends, calling, lambda J: J.matrix,
                                lambda J: f"{J.sweeps} ({J.mode})")  # fmt: skip


def compiled_contestants(tr, backends, calling, read, note):
    """"pathad compiled <backend>" for each backend: the trace compiled (timed as the setup), then the call that
    ``calling(tape)`` returns."""
    out = []
    for backend in backends:
        start = time.perf_counter()
        tape = pathad.compile(tr, backend=backend)
        out.append(Contestant(f"pathad compiled {backend}", calling(tape), read, note,
                              setup=time.perf_counter() - start))  # fmt: skip
    return out


# --- JAX ------------------------------------------------------------------------------------------------------------


def jax_contestants(f, x, n_out):
    jax = peers.load("jax")
    if jax is None:
        return [missing("jax.jit(jacfwd)", "not installed"), missing("jax.jit(jacrev)", "not installed")]
    m = jax_math()
    fj = lambda v: f(v, m)  # noqa: E731
    n_in = x.shape[0]
    out = []
    for name, transform, sweeps in (("jacfwd", jax.jacfwd, n_in), ("jacrev", jax.jacrev, n_out)):
        if x.ndim == 1:
            function, point, label = jax.jit(transform(fj)), x, f"jax.jit({name})"
        else:
            function, point, label = (
                jax.jit(jax.vmap(transform(fj))),
                np.ascontiguousarray(x.T),
                f"jax.jit(vmap({name}))",
            )
        out.append(
            Contestant(
                label,
                lambda function=function, point=point: function(point).block_until_ready(),
                np.asarray,
                f"{sweeps} (vmapped)",
            )
        )
    return out


# --- CasADi ---------------------------------------------------------------------------------------------------------


def casadi_sweeps(log):
    """'F fwd + A adj' from CasADi's verbose log of a Jacobian's construction, or 'not reported'."""
    found = re.findall(r"(\d+) sweeps? needed for (\d+) forward and (\d+) reverse directions", log)
    if not found:
        return "not reported"
    forward, reverse = sum(int(f) for _, f, _ in found), sum(int(r) for _, _, r in found)
    return f"{forward + reverse} ({forward} fwd + {reverse} adj)"


def casadi_jacobian(f, n, kind):
    """(symbol, Jacobian expression, its sweeps) for SX or MX."""
    casadi = peers.load("casadi")
    x = getattr(casadi, kind).sym("x", n)
    y = f(x, casadi_math())
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        J = casadi.jacobian(y, x, {"helper_options": {"verbose": True}})
    return x, J, casadi_sweeps(log.getvalue())


def casadi_dense(dm, shape=None):
    """A DM as a dense ndarray (its nonzeros scattered; DM.full() is slow on big matrices)."""
    rows, columns = dm.sparsity().get_triplet()
    out = np.zeros(shape or dm.shape)
    out.reshape(dm.shape)[rows, columns] = dm.nonzeros()
    return out


JIT_DIRECTORY = []  # one temporary directory for CasADi's generated C, removed at the end of the run


def jit_directory():
    """Where CasADi's shell compiler writes (it writes to the working directory): the run's temporary one."""
    if not JIT_DIRECTORY:
        JIT_DIRECTORY.append(tempfile.TemporaryDirectory(prefix="bench-jacobian-casadi-"))
    return contextlib.chdir(JIT_DIRECTORY[0].name)


JIT_OPTIONS = {"jit": True, "compiler": "shell", "jit_cleanup": True, "jit_options": {"flags": ["-O2"]}}


@cache
def c_compiler_works():
    casadi = peers.load("casadi")
    x = casadi.SX.sym("x")
    try:
        with jit_directory():
            return float(casadi.Function("probe", [x], [2 * x], JIT_OPTIONS)(1.5)) == 3.0
    except Exception:  # any failure means: no jit row
        return False


def casadi_contestants(f, x, n_out, jit):
    casadi = peers.load("casadi")
    names = ["casadi SX", "casadi SX → ndarray", "casadi MX", "casadi SX jit (C)"]
    if casadi is None:
        return [missing(name, "not installed") for name in names]
    n, shape = x.shape[0], (n_out, x.shape[0])
    out = []
    for kind in ("SX", "MX"):
        start = time.perf_counter()
        symbol, J, sweeps = casadi_jacobian(f, n, kind)
        function = casadi.Function("J", [symbol], [J])
        setup = time.perf_counter() - start
        if kind == "SX":
            rows, columns = J.sparsity().get_triplet()

            def dense(function=function, rows=rows, columns=columns):
                out = np.zeros(shape)
                out[rows, columns] = function(x).nonzeros()
                return out

            out.append(
                Contestant("casadi SX", lambda function=function: function(x), casadi_dense, sweeps, setup=setup)
            )
            out.append(Contestant("casadi SX → ndarray", dense, np.asarray, sweeps, setup=setup))
        else:
            out.append(
                Contestant("casadi MX", lambda function=function: function(x), casadi_dense, sweeps, setup=setup)
            )
    if not jit:
        out.append(missing(names[3], "not run (--no-jit)"))
    elif not c_compiler_works():
        out.append(missing(names[3], "no C compiler"))
    else:
        start = time.perf_counter()
        symbol, J, sweeps = casadi_jacobian(f, n, "SX")
        with jit_directory():
            function = casadi.Function("J", [symbol], [J], JIT_OPTIONS)
        setup = time.perf_counter() - start
        out.append(Contestant(names[3], lambda: function(x), casadi_dense, sweeps, setup=setup))
    return out


def casadi_map(f, X, n_out):
    """The SX Jacobian Function's ``.map(B)`` on the (n, B) points: its result is (K, B·L), point by point."""
    casadi = peers.load("casadi")
    if casadi is None:
        return missing("casadi SX map", "not installed")
    n, batch = X.shape
    symbol, J, sweeps = casadi_jacobian(f, n, "SX")
    function = casadi.Function("J", [symbol], [J]).map(batch)

    def answer(dm):
        return casadi_dense(dm).reshape(n_out, batch, n).transpose(1, 0, 2)

    return Contestant("casadi SX map", lambda: function(X), answer, sweeps)


# --- the tables -----------------------------------------------------------------------------------------------------


def functions(args):
    """(title, f, n_in, n_out)."""
    return [
        ("dense 20→3", dense_wide, 20, 3),
        ("dense 3→20", dense_tall, 3, 20),
        (f"banded {args.n}→{args.n}", banded, args.n, args.n),
    ]


def best_jax(contestants):
    times = [c.median for c in contestants if c.name.startswith("jax") and c.median is not None]
    return min(times) if times else None


def by_name(contestants, name):
    return next((c for c in contestants if c.name == name), None)


def table_rows(contestants, baselines, is_reference, scale=1.0):
    """A table row per contestant: name, time, sweeps, its ratio to each of ``baselines`` (times, or None) and
    its difference from the reference (the contestant ``is_reference`` picks); times divided by ``scale``."""
    baselines = [None if b is None else b / scale for b in baselines]
    rows = []
    for c in contestants:
        median = None if c.median is None else c.median / scale
        rows.append(
            [
                c.name,
                micro(median) if c.missing is None else c.missing,
                c.sweeps if c.missing in (None, "DIFFERENT") else "-",
                *(text(ratio(median, b)) for b in baselines),
                "(reference)" if is_reference(c) else ("-" if c.diff is None else f"{c.diff:.1e}"),
            ]
        )
    return rows


def _traced_backward(c):
    """The Jacobian tables' reference: pathad's backward sweep on the trace."""
    return c.diff == 0.0 and c.name.endswith("on a trace, backward")


GOALS = []  # (text, ok)


def one_point(args, title, f, n_in, n_out):
    rng = np.random.default_rng(n_in * 1000 + n_out)
    traced_at, x = rng.uniform(-1, 1, n_in), rng.uniform(-1, 1, n_in)
    contestants = [
        *pathad_trace_contestants(f, x),
        *pathad_compiled(f, traced_at, x, args.backends),
        *jax_contestants(f, x, n_out),
        *casadi_contestants(f, x, n_out, args.jit),
    ]
    reference = by_name(contestants, "pathad jacobian on a trace, backward")
    rounds = race(title, contestants, reference, args.rounds, args.budget)
    jax_best = best_jax(contestants)
    casadi_sx = by_name(contestants, "casadi SX")
    casadi_time = casadi_sx.median if casadi_sx else None
    notes = [first_calls(contestants)]
    if rounds < args.rounds:
        notes.append(f"{rounds} rounds only (the time limit)")
    notes.append("sweeps of the colored modes: one per colour class, plus one (not counted) finding the pattern")
    print_table(
        f"{title}: the Jacobian at one point, µs per Jacobian (median of {rounds} rounds)",
        ["contestant", "µs", "sweeps", "× best jax", "× casadi SX", "max abs diff"],
        table_rows(contestants, [jax_best, casadi_time], _traced_backward),
        [n for n in notes if n],
    )
    for backend in args.backends:
        c = by_name(contestants, f"pathad compiled {backend}")
        if c is None or c.median is None:
            continue
        if title.startswith("banded"):
            sweeps = c.result.sweeps
            GOALS.append((f"{title}, pathad compiled {backend}: {sweeps} sweeps ≤ 4", sweeps <= 4))
            r = ratio(c.median, casadi_time)
            if r is not None:
                GOALS.append((f"{title}, pathad compiled {backend}: {r:.2f}× casadi SX ≤ 2", r <= 2))
            jit = by_name(contestants, "casadi SX jit (C)")
            if jit is not None and jit.median is not None:
                r = ratio(c.median, jit.median)
                GOALS.append((f"{title}, pathad compiled {backend}: {r:.2f}× casadi SX jit (C) ≤ 2", r <= 2))
        else:
            r = ratio(c.median, jax_best)
            if r is not None:
                GOALS.append((f"{title}, pathad compiled {backend}: {r:.2f}× the better JAX mode ≤ 1.5", r <= 1.5))


def batched(args, title, f, n_in, n_out):
    rng = np.random.default_rng(n_in * 1000 + n_out + 1)
    traced_at, X = rng.uniform(-1, 1, n_in), rng.uniform(-1, 1, (n_in, args.batch))
    contestants = [
        *pathad_compiled(f, traced_at, X, args.backends),
        *jax_contestants(f, X, n_out),
        casadi_map(f, X, n_out),
    ]
    reference = contestants[0]
    rounds = race(f"{title} batch", contestants, reference, args.rounds, args.budget)
    jax_best = best_jax(contestants)
    casadi_c = by_name(contestants, "casadi SX map")
    casadi_time = casadi_c.median if casadi_c else None
    rows = table_rows(contestants, [jax_best, casadi_time], lambda c: c is contestants[0], scale=args.batch)
    notes = [first_calls(contestants)]
    print_table(
        f"{title}: the Jacobian at {args.batch} points at once, µs per point (median of {rounds} rounds); "
        f"the ratios are to the best jax vmap and to casadi SX map",
        ["contestant", "µs/point", "sweeps/point", "× best jax", "× casadi map", "max abs diff"],
        rows,
        [n for n in notes if n],
    )


# --- the run ----------------------------------------------------------------------------------------------------------

NUMBA = find_spec("numba") is not None
QUICK = {"rounds": 1, "budget": 0.002, "n": 12, "batch": 4, "backends": ["numpy"], "jit": False}
FULL = {"rounds": 7, "budget": 0.2, "n": 200, "batch": 100, "backends": ["numba", "numpy"] if NUMBA else ["numpy"]}


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 12-long band, batch 4, 1 round, numpy backend")
    parser.add_argument("--n", type=int, help="the banded function's size (200)")
    return parsed(parser, argv, QUICK, FULL)


def parsed(parser, argv, quick, full):
    """The arguments both benchmarks share added to ``parser``, ``argv`` parsed, and each option not given
    taken from ``quick`` (with --quick) or ``full``."""
    parser.add_argument("--rounds", type=int, help="alternated rounds per table (7; --quick 1)")
    parser.add_argument("--budget", type=float, help="seconds of repeated calls per measurement (0.2)")
    parser.add_argument("--batch", type=int, help="points of the batched tables (100)")
    parser.add_argument("--backends", nargs="+", choices=["numba", "numpy"], help="pathad's compiled backends")
    parser.add_argument("--no-jit", dest="jit", action="store_false", default=None, help="no CasADi jit row")
    parser.add_argument("--no-batch", dest="batched", action="store_false", help="skip the batched tables")
    args = parser.parse_args(argv)
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.jit is None:
        args.jit = True
    return args


def header(args):
    import platform

    found = ", ".join(f"{name} {v or 'not installed'}" for name, v in peers.versions().items() if name != "micrograd")
    print(
        f"pathad {getattr(pathad, '__version__', '')} on Python {platform.python_version()}, numpy {np.__version__}; "
        f"pathad backends {' '.join(args.backends)}; peers: {found}"
    )
    print(
        f"medians of {args.rounds} alternated rounds, ≥ {args.budget:g} s of calls each; gc off while timing; "
        f"one thread each; load average {' '.join(f'{a:.1f}' for a in os.getloadavg())} at the start"
    )


def main(argv=None):
    args = parse(argv)
    header(args)
    gc.disable()
    for title, f, n_in, n_out in functions(args):
        start = time.perf_counter()
        one_point(args, title, f, n_in, n_out)
        if args.batched:
            batched(args, title, f, n_in, n_out)
        print(f"  ({title} took {time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    gc.enable()
    gc.collect()  # the jit Functions go first: CasADi removes their files when they are freed
    for directory in JIT_DIRECTORY:
        directory.cleanup()
    print("\ngoals:")
    for line, ok in GOALS:
        print(f"  {mark(ok)} {line}")
    print(f"\nload average at the end: {' '.join(f'{a:.1f}' for a in os.getloadavg())}")
    if DIFFERENT:
        print("\nDIFFERENT Jacobians (max abs diff above 1e-10, not timed): "
              + "; ".join(f"{t}: {name} {d:.1e}" for t, name, d in DIFFERENT))  # fmt: skip
        return 1
    print(f"every contestant's Jacobian agrees with pathad's traced backward one to {TOLERANCE:g} (max abs diff)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
