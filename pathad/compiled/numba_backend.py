"""The numba side: the compiled loops, loaded from a disk cache, and the calls into them.

The loops are plain Python in :mod:`pathad.compiled.loops`; the op dispatch is
written from the primitive table by :mod:`pathad.compiled.kernel_source`.
Their text together is a module that this file writes into pathad's cache
directory (:func:`cache_dir`) under a name carrying a hash of everything the
machine code depends on: the files that text is written from (the table's,
the loops', the generator's), numba's, numpy's and Python's versions.
numba compiles its entry points with ``cache=True``, so the machine code is
kept beside the module: the first process on a machine compiles (and says
so, once per kernel, on stderr), every later one loads.  A changed table or a
new numba gives a new name, so a stale kernel is never loaded.

``sweep_numba`` runs a :class:`~pathad.compiled.schedule.Schedule` (the same
levels, the same order of ⊕ within a root as numpy) but fills each tree node
from its parent, value(parent) ⊗ w, where numpy multiplies value(root) by a
pointer-jumped product: the same path products, associated differently, so the
two agree exactly where the arithmetic is exact (boolean, counting, dyadic
weights) and to rounding otherwise.  ``run_program`` evaluates a program unit
by unit and runs its backward pass; numba calls the C math library as tracing
does, while numpy's vectorized exp, log, tanh, tan and pow may round the last
bit differently, so the two replays agree to within an ulp or so per such
operation.
"""

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..files import write_atomically
from .loops import SUM

__all__ = ["numba_available", "sweep_numba", "run_program", "node_depths", "Units", "SUM", "NUMBA_CODES",
           "kernels", "cache_dir", "is_compiled", "prepare", "choose",
           "spending", "BREAK_EVEN", "call_kernel", "plan_arrays", "run_second", "curvature", "LANES_FROM",
           "LANES"]  # fmt: skip

#: Semiring codes of the compiled loops (boolean runs on 0.0/1.0 there).
NUMBA_CODES = {"real": 0, "counting": 0, "boolean": 1, "max-times": 2, "min-plus": 3, "max-plus": 4}


def numba_available():
    """Whether numba can be imported (the optional extra ``pathad[fast]``).

    Examples
    --------
    >>> numba_available() in (True, False)
    True
    """
    from importlib.util import find_spec  # a cheap check; numba itself loads only when used

    return find_spec("numba") is not None


def cache_dir():
    """Where pathad keeps its compiled kernels: ``$PATHAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/pathad``, else
    ``~/.cache/pathad``.

    Examples
    --------
    >>> cache_dir().name in ("pathad", os.environ.get("PATHAD_CACHE_DIR", "pathad").rstrip("/").split("/")[-1])
    True
    """
    if os.environ.get("PATHAD_CACHE_DIR"):
        return Path(os.environ["PATHAD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pathad"


_LOADED: dict[str, Any] = {}


def _location():
    """(module name, file) of the kernel module, writing the file if needed; numba is not imported here."""
    if "file" not in _LOADED:
        from importlib.metadata import version

        key = _key(version("numba"))
        _LOADED["name"], _LOADED["file"] = f"pathad_kernels_{key}", _module_file(key)
        _LOADED["dir"] = _LOADED["file"].parent
    return _LOADED["name"], _LOADED["file"]


def kernels():
    """The kernel module, imported once per process from the cache directory (written there first if needed).

    Its ``program_one``, ``program_batch``, ``sweep`` and ``depths`` are numba
    dispatchers that compile on first use, or load what an earlier process
    compiled.
    """
    if "module" not in _LOADED:
        name, path = _location()
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _LOADED["module"] = module
    return _LOADED["module"]


def _key(numba_version):
    """A hash of everything the kernels' machine code depends on: the files their text is written from and the
    versions of numba, numpy and Python (cheaper than writing the text, which is written only when new)."""
    from .. import primitives
    from . import freeze, kernel_source, loops, second_loops, vector_loops

    digest = hashlib.sha256()
    for module in (primitives, freeze, loops, second_loops, vector_loops, kernel_source):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(f"{numba_version} {np.__version__} {sys.version} {sys.platform}".encode())
    return digest.hexdigest()[:16]


def _module_file(key):
    """The module's file in the first writable of the cache directory and a per-user temporary one."""
    user = os.getuid() if hasattr(os, "getuid") else 0
    for base in (cache_dir(), Path(tempfile.gettempdir()) / f"pathad-{user}"):
        folder = base / f"kernels-{key}"
        path = folder / "kernels.py"
        try:
            if not path.exists():
                from .kernel_source import module_source

                folder.mkdir(parents=True, exist_ok=True)
                write_atomically(path, module_source().encode())
            return path
        except OSError:
            continue
    raise OSError(f"pathad cannot write its compiled kernels to {cache_dir()} nor to the temporary directory")


def call_kernel(kernel, tag, *args):
    """Call a kernel; the first call of a kernel and signature (``tag``) on this machine says on stderr that it is
    being compiled, so the 10-30 s it takes are not a silent pause."""
    if (kernel, tag) in _READY:  # the common case, kept cheap: a training step calls this once
        return getattr(_LOADED["module"], kernel)(*args)
    dispatcher = getattr(kernels(), kernel)
    marker = _LOADED["dir"] / f"{kernel}-{tag}.compiled"
    first = not marker.exists()
    if first:
        print(
            f"pathad: compiling the {kernel} kernel with numba, once for this machine (about 10-30 s); "
            f"later processes load it from {_LOADED['dir']}",
            file=sys.stderr,
            flush=True,
        )
    result = dispatcher(*args)
    if first:
        try:
            marker.touch()
        except OSError:
            pass
    _READY.add((kernel, tag))
    return result


_READY: set[tuple[str, str]] = set()  # (kernel, tag) called in this process already


def is_compiled(kernel="program_one"):
    """Whether a kernel is ready without compiling: loaded in this process, or compiled once on this machine.

    ``kernel`` is "program_one" (replay at one point), "program_batch",
    "sweep", "depths", "second_points" or "second_lanes" (Hessian-vector
    products point by point, or all points at once), "symmetric_entries"
    or "vector_points" (a Jacobian).  False without numba.
    """
    if "module" in _LOADED and getattr(_LOADED["module"], kernel).signatures:
        return True
    if not numba_available():
        return False
    _location()
    return any(_LOADED["dir"].glob(f"{kernel}-*.compiled"))


#: Seconds of numpy work after which ``backend="auto"`` compiles a kernel: about what compiling it costs, so that
#: a process never spends more than about twice the better choice's time (the ski-rental rule).
BREAK_EVEN = {"program_one": 15.0, "program_batch": 15.0, "sweep": 5.0, "second_points": 15.0, "second_lanes": 15.0,
              "symmetric_entries": 15.0, "vector_points": 15.0}
_NUMPY_SECONDS = dict.fromkeys(BREAK_EVEN, 0.0)


def choose(backend, kernel):
    """ "numpy" or "numba" for one call of ``kernel`` by a tape whose backend is ``backend``.

    "numpy" and "numba" are kept.  "auto" takes numba when the kernel is
    compiled already (in this process, or cached on this machine); otherwise
    numpy, until this process has spent :data:`BREAK_EVEN` seconds in numpy
    doing that kernel's work: then it compiles it (saying so once on stderr),
    since the work so far shows the compile will pay.

    Examples
    --------
    >>> choose("numpy", "program_one")
    'numpy'
    """
    if backend != "auto":
        return backend
    if not numba_available():
        return "numpy"
    if _NUMPY_SECONDS[kernel] >= BREAK_EVEN[kernel] or is_compiled(kernel):
        return "numba"
    return "numpy"


@contextmanager
def spending(kernel):
    """Count the time of a block of numpy work done instead of ``kernel`` (see :func:`choose`)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _NUMPY_SECONDS[kernel] += time.perf_counter() - start


def prepare():
    """Compile (or load) every kernel now, for every index width: what a first process would otherwise do as it goes.

    Useful in a Docker build or an install step; ``python -m pathad kernels`` does it.  Returns the cache directory.
    """
    for dtype in (np.int32, np.int64):
        units = Units(np.zeros((0, 8), dtype), np.zeros((0, 3), dtype), np.zeros(0), np.zeros(0), 1, 0)
        for batch in (1, 2):
            run_program(units, np.zeros((1, batch)), np.zeros(0, dtype), 0, np.ones(1, dtype=np.bool_))
        for batch in (1, LANES_FROM):
            run_second(units, np.zeros((1, batch)), np.zeros(0, dtype), 0, np.ones(1, np.bool_), np.ones((1, 1, 1)))
        one = np.zeros(1, dtype=np.int64)  # the vector kernel of a Jacobian: seeds, rows and reads are slots
        call_kernel("vector_points", units.units.dtype.char, units.units, units.terms, units.signs, units.consts,
                    np.zeros(0), np.zeros((1, 1)), True, np.zeros(0, dtype), np.ones(1, np.bool_), one, np.ones((1, 1)),
                    one, one, np.empty(1), np.empty(1), np.empty((1, 1)), np.empty((1, 1)), np.empty((1, 1, 1)))
    index = np.zeros(1, dtype=np.int64)
    call_kernel("symmetric_entries", "int64", np.zeros((1, 1)), index, index, index, np.zeros((1, 1)))
    call_kernel("depths", "int64", np.zeros((2, 1), dtype=np.int64))
    from .schedule import ARRAY_SEMIRINGS, Schedule

    sweep_numba(Schedule(2, np.array([1]), np.array([0])), np.ones((1, 1)), [0], ARRAY_SEMIRINGS["real"])
    return _LOADED["dir"]


def sweep_numba(plan, weights, seeds, semiring, batch=1, seed_values=None):
    """:func:`~pathad.compiled.sweeps.sweep` run by a numba loop over the same plan; same arguments, same result
    shape (n, batch).

    The loop keeps one point's values contiguous (arrays (batch, n) inside,
    returned transposed), so a single point runs as fast as a 1-D loop.
    """
    as_float = semiring.name == "boolean"
    w = np.ascontiguousarray(weights.T, dtype=np.float64)
    seeded = np.zeros(plan.n, dtype=np.bool_)
    seeds = np.asarray(seeds, dtype=np.int64)
    seeded[seeds] = True
    values = np.empty((batch, plan.n))
    zero, one = (0.0, 1.0) if as_float else (float(semiring.zero), float(semiring.one))
    initial = np.full((1 if seed_values is None else batch, plan.n), one)
    if seed_values is not None:
        initial[:, seeds] = np.asarray(seed_values, dtype=np.float64).T
    arrays = plan_arrays(plan)
    call_kernel("sweep", arrays[0].dtype.name, NUMBA_CODES[semiring.name], zero, initial, seeded, w, *arrays, values)
    return values.T.astype(bool) if as_float else values.T


def plan_arrays(plan):
    """A plan's arrays in the order the sweep kernel takes them."""
    return (plan.tree_edge, plan.tree_parent, plan.tree_nodes, plan.tree_offsets, plan.root_nodes,
            plan.root_readers, plan.root_edges, plan.root_starts, plan.root_offsets)  # fmt: skip


@dataclass(frozen=True)
class Units:
    """A recorded program laid out for :func:`run_program`: value slots, units in order, fused sums.

    Every value lives in a *slot* (a row of the values array): the inputs
    first, in the trace's input order, then the nodes whose values are kept,
    then the distinct constants.  A *unit* is one step of the program:

    * an op node: ``(code, slot, slot of operand 0, slot of operand 1, partial
      row of edge 0, partial row of edge 1, 0, 0)``; the op's rules from the
      primitive table give its value and the partials, stored in their rows
      (-1: no edge, the operand is a constant or there is no second operand);
    * a fused sum, ``(SUM, slot, 0, 0, 0, 0, t0, t1)``: a chain of add/sub
      nodes, each partial sum used only by the next, equal to Σ sign_t · a_t
      (· b_t) over ``terms[t0:t1]``; a term is ``(slot a, slot b, fused)``,
      where ``fused`` = 1 stands for a product a·b whose only use is the sum.
      Only the last sum's value is kept; its partials (±1 and the other
      factor) are never stored, the backward pass applies them directly.

    ``terms`` and ``signs`` hold the terms; ``consts`` the constants' values
    (their slots are the last ones).
    """

    units: np.ndarray
    terms: np.ndarray
    signs: np.ndarray
    consts: np.ndarray
    n_slots: int
    n_partials: int


def run_program(program, points, back=None, seed=-1, active=None, workspace=None):
    """(values, partials, adjoint or None, all finite?) of ``program`` at ``points`` (inputs × batch) in one call.

    ``points`` may also carry ``fixed`` (k,) and ``rest`` (inputs − k, batch)
    (see :class:`pathad.compiled.replay.Batch`): the first k inputs the same at every point.

    Values and adjoints are arrays (slots, batch) and partials (rows, batch),
    a batch point's numbers contiguous per slot, so that every unit runs one
    tight loop over the batch.  Given ``back`` (the indices of the units on
    the way to the ``seed`` slot, last first) and ``active`` (a bool per slot:
    whose adjoint is wanted) the backward pass follows: each unit adds its
    adjoint times its partials into its active operands' adjoints.  Only the
    partials it needs are computed; "finite" covers them and every value.
    ``workspace``, a dict kept by the caller, lends the three arrays from one
    call to the next of the same batch size (no allocation per training step);
    the results then live in it until the next call.

    Examples
    --------
    >>> p = Units(np.array([[SUM, 2, 0, 0, 0, 0, 0, 2]]), np.array([[0, 1, 1], [1, 1, 0]]),
    ...           np.array([1.0, -1.0]), np.zeros(0), 3, 0)   # slot 2 = x·y − y
    >>> active = np.array([True, True, True])
    >>> values, _, adjoint, finite = run_program(p, np.array([[3.0], [5.0]]), np.array([0]), 2, active)
    >>> values[2, 0], adjoint[:2, 0].tolist(), finite
    (np.float64(10.0), [5.0, 2.0], True)
    """
    fixed, points = (points.fixed, points.rest) if hasattr(points, "fixed") else (_NO_VALUES, points)
    points = np.ascontiguousarray(points, dtype=np.float64)
    batch = points.shape[1]
    if seed < 0:
        back = _NO_UNITS.astype(program.units.dtype)
    if active is None:  # no partials, no adjoints
        active = np.zeros(program.n_slots, dtype=np.bool_)
    values, partials, adjoint = _buffers(program, batch, seed >= 0, workspace)
    kernel = "program_one" if batch == 1 else "program_batch"
    finite = call_kernel(kernel, program.units.dtype.char, program.units, program.terms, program.signs, program.consts,
                   fixed, points, back, seed, active, values, partials, adjoint)  # fmt: skip
    return values, partials, (adjoint if seed >= 0 else None), finite


def run_second(program, points, back, seed, active, directions, workspace=None):
    """(value (B,), gradient (B, inputs), Hessian-vector products (B, inputs, k), all finite?) of ``program`` at
    ``points`` (inputs × B, or a :class:`~pathad.compiled.replay.Batch`) along ``directions`` (D, inputs, k), one
    set for every point (D = 1) or a set per point (D = B), in one kernel call: below :data:`LANES_FROM` points
    :func:`~pathad.compiled.second_loops.second_points`, else
    :func:`~pathad.compiled.second_loops.second_lanes` on chunks of at most
    :data:`LANES` points.

    ``back``, ``seed`` and ``active`` as for :func:`run_program`, with
    ``active`` every slot on a path from the inputs to the seed;
    ``workspace``, as there, lends the point-by-point kernel's work arrays
    from one call to the next (measured: 6 µs of the 80 a Rosenbrock-200
    Hessian takes, mostly cache misses on new arrays).

    Examples
    --------
    >>> p = Units(np.array([[SUM, 2, 0, 0, 0, 0, 0, 1]]), np.array([[0, 1, 1]]), np.array([1.0]), np.zeros(0),
    ...           3, 0)   # slot 2 = x·y
    >>> value, gradient, products, finite = run_second(p, np.array([[3.0], [5.0]]), np.array([0]), 2,
    ...                                                np.ones(3, dtype=bool), np.eye(2)[None])
    >>> float(value[0]), gradient[0].tolist(), products[0].tolist(), finite
    (15.0, [5.0, 3.0], [[0.0, 1.0], [1.0, 0.0]], True)
    """
    fixed, points = (points.fixed, points.rest) if hasattr(points, "fixed") else (_NO_VALUES, points)
    points = np.ascontiguousarray(points, dtype=np.float64)
    directions = np.ascontiguousarray(directions, dtype=np.float64)
    batch, n, width, slots = points.shape[1], directions.shape[1], directions.shape[2], program.n_slots
    value, gradient, products = np.empty(batch), np.empty((batch, n)), np.empty((batch, n, width))
    arrays = (program.units, program.terms, program.signs, program.consts, fixed)
    rows, tag = max(program.n_partials, 1), program.units.dtype.char
    if batch < LANES_FROM:
        work = None if workspace is None else workspace.get(("second", width))
        if work is None:
            work = (np.empty(slots), np.empty(rows), np.empty((slots, width)), np.empty(slots),
                    np.empty((slots, width)))  # fmt: skip
            if workspace is not None:
                workspace["second", width] = work
        finite = call_kernel("second_points", tag, *arrays, points, back, seed, active, curvature(), directions, *work,
                             value, gradient, products)  # fmt: skip
        return value, gradient, products, finite
    chunk = -(-batch // -(-batch // LANES))  # at most LANES points a call, the calls of even size
    finite = True
    for start in range(0, batch, chunk):
        part = slice(start, min(start + chunk, batch))
        size = part.stop - part.start
        finite &= call_kernel("second_lanes", tag, *arrays, np.ascontiguousarray(points[:, part]), back, seed, active,
                              curvature(), directions[part] if directions.shape[0] > 1 else directions,
                              np.empty((slots, size)), np.empty((rows, size)), np.empty((slots, width, size)),
                              np.empty((slots, size)), np.empty((slots, width, size)), np.empty((3, size)),
                              value[part], gradient[part], products[part])  # fmt: skip
    return value, gradient, products, finite


#: From this many points on, :func:`run_second` takes every unit once for all points (``second_lanes``), in calls
#: of at most :data:`LANES` points.  Measured per point, on the 200-input Rosenbrock function (3 directions,
#: 1,398 slots) and the 20-input dense one (20 directions, 434 slots) at 96 points: 82 and 34 µs one point
#: at a time; 85 and 78 in calls of 4 points; 42 and 29 of 16; 26 and 18 of 32; 26 and 28 of 64 and 50 and
#: 35 of 96, whose work arrays (slots × directions × points) no longer stay in the cache.
LANES_FROM = 16
LANES = 32


@functools.cache
def curvature():
    """Per op code, which of its second partials (∂²/∂a², ∂²/∂a∂b, ∂²/∂b²) are not the table's zero rule: the
    ``curved`` argument of the kernels of :mod:`~pathad.compiled.second_loops`.

    >>> from pathad.compiled.freeze import CODE
    >>> curvature()[CODE["mul"]].tolist(), curvature()[CODE["add"]].tolist(), curvature()[CODE["exp"]].tolist()
    ([False, True, False], [False, False, False], [True, False, False])
    """
    from ..primitives import PRIMITIVES, is_zero_rule
    from .freeze import OPS

    flags = np.zeros((len(OPS), 3), dtype=np.bool_)
    for code, op in enumerate(OPS):
        if op in PRIMITIVES:
            second = PRIMITIVES[op].second
            flags[code, : len(second)] = [not is_zero_rule(rule) for rule in second]
    return flags


def _buffers(program, batch, backward, workspace):
    """(values, partials, adjoint) for ``batch`` points (no adjoint rows without ``backward``), lent by
    ``workspace`` when given: one values and partials array per batch size, whether or not there is an adjoint."""
    key = (batch, backward)
    if workspace is not None and key in workspace:
        return workspace[key]
    shared = None if workspace is None else workspace.get(batch)
    if shared is None:
        shared = (np.empty((program.n_slots, batch)), np.empty((program.n_partials, batch)))
        if workspace is not None:
            workspace[batch] = shared
    arrays = (*shared, np.empty((program.n_slots if backward else 0, batch)))
    if workspace is not None:
        workspace[key] = arrays
    return arrays


_NO_UNITS = np.zeros(0, dtype=np.int64)
_NO_VALUES = np.zeros(0)


def node_depths(node_of):
    """The longest path from an operand-free node to each node, by numba; ``node_of[j, v]`` is operand j of
    node v (-1: none) and every operand precedes its node.

    The same numbers :func:`~pathad.compiled.schedule.levels` finds for any
    edge list; this one relies on the positions being a topological order and
    takes one pass instead of a round of numpy calls per level (a replayed
    10⁶-deep loop has 10⁶ levels).

    Examples
    --------
    >>> node_depths(np.array([[-1, -1, 0, 2], [-1, -1, 1, -1]])).tolist()
    [0, 0, 1, 2]
    """
    node_of = np.ascontiguousarray(node_of, dtype=np.int64)
    if node_of.shape[1] < SMALL and not is_compiled("depths"):  # a small graph needs no compile for this
        return _python_depths(node_of)
    return call_kernel("depths", "int64", node_of)


#: Below this many nodes, a kernel not compiled yet whose result is exact either way (depths, reachability) is
#: done without numba: a few milliseconds instead of a compile.
SMALL = 20_000


def _python_depths(node_of):
    depth = [0] * node_of.shape[1]
    for v, operands in enumerate(node_of.T.tolist()):
        for u in operands:
            if u >= 0 and depth[u] + 1 > depth[v]:
                depth[v] = depth[u] + 1
    return np.array(depth, dtype=np.int64)
