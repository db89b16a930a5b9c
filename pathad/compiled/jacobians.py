"""Jacobians of a compiled tape at new points: vector sweeps, compressed by colouring the sparsity pattern.

A *vector sweep* runs several sweeps in one: the tape's planned sweep over a
batch whose columns are (point, seed direction) pairs, each column with its own
seeds (``seed_values`` of :func:`~pathad.compiled.sweeps.sweep`).  Forward,
column g seeds the inputs of class g: an output's value there is the sum of its
derivatives with respect to them, which is a single Jacobian entry when the
class holds no two inputs that one output reads (:mod:`pathad.coloring`).
Backward, the outputs of a class are seeded together.  The plain forward and
backward modes are the same sweep with one input (output) per class.

The pattern itself comes from one BOOLEAN vector sweep (each start seeded in
its own column), so the colouring is found on the compiled tape alone and
kept per (of, wrt): the structure does not change from one point to the next.

On numba, :func:`~pathad.compiled.vector_loops.vector_points` fuses the
replay and the vector sweep into one loop over the replay's units, and only
when anything is unusual (another branch, a number that is not finite) does
the general way, a replay and then the planned sweep, run.

Checks are the replay's: a point that takes another branch is traced again
(``retrace=``) or refused, a value or partial that leaves its domain raises
:class:`~pathad.DomainError` naming the node, and a non-finite entry is swept
again by :func:`pathad.solve`, which names the node where it first overflowed.
"""

import functools
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..coloring import Coloring, color
from ..errors import BranchError, ReplayError
from ..types import NodeRefs
from .numba_backend import NUMBA_CODES, call_kernel, choose, plan_arrays
from .program import _check_inputs, _first_nonfinite
from .schedule import ARRAY_SEMIRINGS

if TYPE_CHECKING:
    from ..derivatives import Jacobian

__all__ = ["JacobianMethods", "TAPE_JACOBIAN_MODES", "Structure", "structure", "jacobian_at"]

#: The modes of :meth:`~pathad.compiled.CompiledTape.jacobian` ("reverse" is "backward").
TAPE_JACOBIAN_MODES = ("auto", "forward", "backward", "reverse", "colored-forward", "colored-backward")

_FORWARD = ("forward", "colored-forward")

#: Array elements per chunk of points: (nodes + edges) x points x seed directions.
_BUDGET = 2**22


class JacobianMethods:
    """The Jacobian half of :class:`~pathad.compiled.CompiledTape` (a mixin, as the replay's)."""

    if TYPE_CHECKING:  # what it reads of the rest of CompiledTape (declared for the type checker only)
        _program: Any
        _points: Callable[..., Any]

    def jacobian(
        self, *args: npt.ArrayLike, of: NodeRefs | None = None, wrt: NodeRefs | None = None,
        at: npt.ArrayLike | None = None, fixed: npt.ArrayLike | None = None,
        retrace: Callable[..., Any] | None = None, mode: str = "auto", **inputs: npt.ArrayLike,
    ) -> "Jacobian":  # fmt: skip
        """Values and the Jacobian ∂of/∂wrt at new inputs, by vector sweeps over the replayed partials.

        Inputs, ``at=``, ``fixed=``, ``retrace=`` and the errors are those of
        :meth:`evaluate`.  One replay gives every value and partial; then one
        sweep with several seed directions per point (see the module
        docstring) gives the Jacobian.

        Parameters
        ----------
        of : reference or list of references, optional
            The rows: outputs or other nodes, by node, label or input name
            (default: every output of the program).
        wrt : str, int or list, optional
            The columns, as for :meth:`gradient` (default: every input).
        mode : {"auto", "forward", "backward", "reverse", "colored-forward", "colored-backward"}
            "forward": one direction per column; "backward" (or "reverse"):
            one per row; the colored modes: one per colour class of the
            sparsity pattern (columns that share no row, or rows that share
            no column, seeded together).  "auto" takes the colored direction
            with fewer classes and says why in ``Jacobian.why``.

        Returns
        -------
        pathad.Jacobian
            ``matrix`` has shape (rows, columns) for one point and
            (B, rows, columns) for a batch; ``value`` holds the rows' values
            (shaped as :meth:`evaluate` returns the outputs when ``of`` is
            not given); ``sweeps`` is the number of seed directions per
            point, ``coloring`` the classes.

        Examples
        --------
        >>> import numpy as np
        >>> from pathad import compile, trace
        >>> def banded(v):
        ...     return [v[i - 1] * v[i] + v[i] * v[(i + 1) % 6] for i in range(6)]
        >>> tape = compile(trace(banded, np.ones(6)))
        >>> J = tape.jacobian(np.arange(6.0))
        >>> J.mode, J.sweeps, J.matrix[1].tolist()
        ('colored-forward', 3, [1.0, 2.0, 1.0, 0.0, 0.0, 0.0])
        >>> tape.jacobian(np.array([np.arange(6.0), np.ones(6)]), mode="backward").matrix.shape
        (2, 6, 6)
        """
        Jacobian = _jacobian_class()
        self._program  # noqa: B018 - first: a tape without operations says so before anything else
        setup = self._jacobian_setup(of, wrt, mode)
        points, scalar = self._points(args, inputs, at, fixed)
        found = setup.fast(self, points)
        values, matrices = found or jacobian_at(self, points, setup.found, setup.mode, retrace, setup.indices)
        return Jacobian(
            matrices[0] if scalar else matrices,
            setup.wrt,
            setup.of,
            setup.mode,
            setup.coloring.count,
            setup.layout,
            setup.coloring if setup.mode.startswith("colored") else None,
            values=values[:, 0] if scalar else values.T,
            why=setup.why,
        )

    def sparsity(self, of: NodeRefs | None = None, wrt: NodeRefs | None = None) -> np.ndarray:
        """The Jacobian's sparsity pattern, ``pattern[i, j]``: does row i depend on column j (structurally)?

        Rows and columns as for :meth:`jacobian`; found by one BOOLEAN vector
        sweep and kept, as :func:`pathad.sparsity` finds it on a trace.

        >>> from pathad import compile, trace
        >>> compile(trace(lambda x, y, z: (x * y, z + 1.0), 1.0, 2.0, 3.0)).sparsity().astype(int).tolist()
        [[1, 1, 0], [0, 0, 1]]
        """
        return self._jacobian_setup(of, wrt, "forward").found.pattern.copy()

    def _jacobian_setup(self, of, wrt, mode):
        """What a Jacobian's calls for (of, wrt, mode) share, kept when they can be a key."""
        try:
            key = (tuple(of) if isinstance(of, list) else of, tuple(wrt) if isinstance(wrt, list) else wrt, mode)
            found = self._jacobian_setups.get(key)
        except TypeError:
            key, found = None, None
        if found is None:
            found = _Setup(self, of, wrt, mode)
            if key is not None:
                if len(self._jacobian_setups) >= 64:
                    self._jacobian_setups.clear()
                self._jacobian_setups[key] = found
        return found

    @cached_property
    def _jacobian_setups(self):
        return {}

    @cached_property
    def _structures(self):
        return {}


@functools.cache
def _jacobian_class():
    """:class:`pathad.derivatives.Jacobian`, imported when first needed: the derivatives module imports the
    compiled package's users."""
    from ..derivatives import Jacobian

    return Jacobian


class _Setup:
    """The rows, columns, structure, mode and result layout of a tape's Jacobian for one (of, wrt, mode)."""

    def __init__(self, tape, of, wrt, mode):
        if mode not in TAPE_JACOBIAN_MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, TAPE_JACOBIAN_MODES))}, got {mode!r}")
        if of is None:
            rows, self.of, row_tree = list(tape.outputs), tuple(tape.label(p) for p in tape.outputs), tape._tree
        else:
            self.of = tuple(of) if isinstance(of, (list, tuple)) else (of,)
            rows, row_tree = [tape.position(r) for r in self.of], ("dict", tuple((ref, None) for ref in self.of))
        input_rows, names = tape._wrt_rows(wrt)
        every = range(len(tape.inputs)) if input_rows is None else input_rows
        input_names, positions = list(tape.inputs), list(tape.inputs.values())
        self.wrt = tuple(input_names[r] for r in every)
        self.found = structure(tape, [positions[r] for r in every], rows)
        self.why = None
        if mode == "auto":
            mode, self.why = self.found.choose()
        self.mode = "backward" if mode == "reverse" else mode
        self.coloring = self.found.coloring(self.mode)
        output_index = {p: k for k, p in enumerate(tape.outputs)}
        indices = [output_index.get(r) for r in rows]
        self.indices = None if None in indices else indices
        columns = [(key, np.shape(index), tuple(np.ravel(index).tolist())) for key, index in names.items()]
        self.layout = (row_tree, columns)
        self._fused = None

    def fast(self, tape, points):
        """(values, Jacobians) on numba by one call of the fused kernel (:class:`_FusedJacobian`); None: the
        general way (which also says what went wrong)."""
        if choose(tape.backend, "vector_points") != "numba":
            return None
        if self._fused is None:
            self._fused = _FusedJacobian(tape, self.found, self.mode)
        return self._fused(points)


class Structure:
    """The structural facts of ∂rows/∂columns on a tape: the pattern, the active edges and both colourings.

    Attributes
    ----------
    columns, rows : numpy.ndarray
        Input and output positions (a position may repeat).
    pattern : numpy.ndarray of bool, shape (rows, columns)
    active : numpy.ndarray of bool
        Per node: on a path from a column to a row.
    edges : int
        The edges between active nodes: what each sweep direction costs.
    """

    def __init__(self, tape, columns, rows):
        self.columns, self.rows = np.asarray(columns, dtype=np.int64), np.asarray(rows, dtype=np.int64)
        self.active = tape._reach(self.columns.tolist(), True) & tape._reach(self.rows.tolist(), False)
        self.edges = int((self.active[tape.src] & self.active[tape.dst]).sum())
        self.n_nodes = tape.n_nodes
        self.pattern = _pattern(tape, self.columns, self.rows)
        self._colorings, self._seedings, self._numba_sweeps = {}, {}, {}

    def coloring(self, mode):
        """The classes swept together in ``mode`` (one per column or row for the plain modes)."""
        if mode not in self._colorings:
            forward = mode in _FORWARD
            size = self.pattern.shape[1 if forward else 0]
            if mode.startswith("colored"):
                found = color(self.pattern, axis="columns" if forward else "rows")
            else:
                bound = int(self.pattern.sum(axis=1 if forward else 0).max(initial=0))
                found = Coloring([[j] for j in range(size)], "none", bound, "columns" if forward else "rows")
            self._colorings[mode] = found
        return self._colorings[mode]

    def seeding(self, mode):
        """(seeds, their values per class, the nonzeros' flat indices into one point's swept values and into its
        matrix) for the vector sweep of ``mode``, kept; None when the pattern is empty."""
        if mode not in self._seedings:
            self._seedings[mode] = self._seeding(mode)
        return self._seedings[mode]

    def _seeding(self, mode):
        groups = self.coloring(mode).groups
        if not (groups and self.pattern.any()):
            return None
        forward = mode in _FORWARD
        seeds, reads = (self.columns, self.rows) if forward else (self.rows, self.columns)
        unique, where = np.unique(seeds, return_inverse=True)
        klass = np.empty(len(seeds), dtype=np.int64)
        for g, members in enumerate(groups):
            klass[members] = g
        direction = np.zeros((unique.size, len(groups)))
        direction[where, klass] = 1.0  # a position listed twice is seeded in each of its classes
        i, j = np.nonzero(self.pattern)
        read, klass_of = (i, klass[j]) if forward else (j, klass[i])  # forward: row i read in column j's class
        # a point's swept values are (class g, node v) at g·n + v; its matrix entry (i, j) at i·columns + j
        flat = (klass_of * self.n_nodes + reads[read], i * self.pattern.shape[1] + j)
        return unique, direction, flat

    def numba_sweep(self, tape, mode, batch):
        """The :class:`_NumbaSweep` of ``mode`` for ``batch`` points, kept (a few batch sizes)."""
        key = (mode, batch)
        found = self._numba_sweeps.get(key)
        if found is None:
            if len(self._numba_sweeps) >= 8:
                self._numba_sweeps.clear()
            found = self._numba_sweeps[key] = _NumbaSweep(tape, self.seeding(mode), mode in _FORWARD, batch)
        return found

    def choose(self):
        """(mode, why) for ``mode="auto"``: the colored direction with fewer classes (forward on a tie)."""
        ahead, back = self.coloring("colored-forward"), self.coloring("colored-backward")
        mode, chosen, other = (
            ("colored-forward", ahead, back) if ahead.count <= back.count else ("colored-backward", back, ahead)
        )
        n_columns, n_rows = self.pattern.shape[1], self.pattern.shape[0]
        why = (
            f"{mode}: {chosen.count} vector sweep direction{'s' if chosen.count != 1 else ''} over {self.edges} "
            f"edges (lower bound {chosen.lower_bound}), against {other.count} colored the other way and "
            f"{n_columns} forward / {n_rows} backward uncompressed"
        )
        return mode, why


def structure(tape, columns, rows):
    """The tape's :class:`Structure` for (columns, rows), kept on the tape."""
    key = (tuple(columns), tuple(rows))
    found = tape._structures.get(key)
    if found is None:
        if len(tape._structures) >= 16:
            tape._structures.clear()
        found = tape._structures[key] = Structure(tape, columns, rows)
    return found


def _pattern(tape, columns, rows):
    """``pattern[i, j]``: does rows[i] depend on columns[j]? One BOOLEAN vector sweep from the fewer side."""
    forward = len(columns) <= len(rows)
    starts, ends = (columns, rows) if forward else (rows, columns)
    pattern = np.zeros((len(ends), len(starts)), dtype=bool)
    if not (len(starts) and len(ends)):
        return pattern if forward else pattern.T
    unique, where = np.unique(starts, return_inverse=True)
    step = max(1, _BUDGET // max(tape.n_nodes + tape.n_edges, 1))
    weights = np.ones((tape.n_edges, 1), dtype=bool)
    for lo in range(0, len(starts), step):
        hi = min(len(starts), lo + step)
        seed_values = np.zeros((unique.size, hi - lo), dtype=bool)
        seed_values[where[lo:hi], np.arange(hi - lo)] = True
        reached = tape._run(unique.tolist(), forward, weights, ARRAY_SEMIRINGS["boolean"], hi - lo, seed_values)
        pattern[:, lo:hi] = reached[ends]
    return pattern if forward else pattern.T


def jacobian_at(tape, points, found, mode, retrace, output_indices):
    """(values of the rows (rows, B), Jacobians (B, rows, columns)) at ``points`` by the vector sweeps of ``mode``.

    ``output_indices`` (an index into ``tape.outputs`` per row, or None when a
    row is not an output) lets a re-traced variant answer for the same rows.
    """
    outputs, matrices, flipped = _columns(tape, points, found, mode)
    todo = np.flatnonzero(flipped >= 0)
    if not todo.size:
        return outputs, matrices
    if retrace is None:
        raise BranchError(tape._program.branch_message(points, flipped))
    if output_indices is None:
        raise ReplayError("retrace= needs every differentiated node to be one of the program's outputs")
    for variant in list(tape._variants):
        todo = _fill(variant, tape, points, todo, found, mode, output_indices, outputs, matrices)
    while todo.size:
        variant = tape._retraced(retrace, points[:, todo[0]])
        left = _fill(variant, tape, points, todo, found, mode, output_indices, outputs, matrices)
        if left.size and left[0] == todo[0]:
            raise ReplayError(f"re-tracing {tape.name} at a point does not reproduce its own branches")
        todo = left
    return outputs, matrices


def _fill(variant, tape, points, todo, found, mode, output_indices, outputs, matrices):
    """Answer the columns ``todo`` that keep ``variant``'s branches from it; return the others."""
    if not todo.size:
        return todo
    input_rows = {position: row for row, position in enumerate(tape.inputs.values())}
    positions = list(variant.inputs.values())
    columns = [positions[input_rows[int(c)]] for c in found.columns]
    rows = [variant.outputs[k] for k in output_indices]
    sub_outputs, sub_matrices, flipped = _columns(variant, points[:, todo], structure(variant, columns, rows), mode)
    ok = flipped < 0
    outputs[:, todo[ok]], matrices[todo[ok]] = sub_outputs[:, ok], sub_matrices[ok]
    return todo[~ok]


def _columns(tape, points, found, mode):
    """(outputs, Jacobians, first changed guard per point or -1) at ``points``, chunk by chunk."""
    program, batch = tape._program, points.shape[1]
    groups = found.coloring(mode).groups
    chunk = max(1, _BUDGET // max((tape.n_nodes + tape.n_edges) * max(1, len(groups)), 1))
    if chunk >= batch:
        return _chunk(tape, program, points, 0, found, mode, groups)
    outputs = np.empty((len(found.rows), batch))
    matrices = np.empty((batch, len(found.rows), len(found.columns)))
    flipped = np.full(batch, -1, dtype=np.int64)
    for lo in range(0, batch, chunk):
        hi = min(batch, lo + chunk)
        outputs[:, lo:hi], matrices[lo:hi], flipped[lo:hi] = _chunk(
            tape, program, points[:, lo:hi], lo, found, mode, groups
        )
    return outputs, matrices, flipped


def _chunk(tape, program, points, offset, found, mode, groups):
    """One chunk: values and partials, guards and domain checks, the vector sweep, the entries read off."""
    batch = points.shape[1]
    replayed, partials = program.values_and_partials(points, found.active)
    first_guard = program._excuse_traced_point(program.check_guards(replayed.at), points)
    if first_guard is None:
        first_guard = np.full(batch, -1, dtype=np.int64)
    keep = first_guard < 0
    if not replayed.finite:  # not known to be: look, and name the first node that is not
        values = replayed.at(np.arange(tape.n_nodes))
        if not np.isfinite(values).all():
            _check_inputs(tape, points)
            program._raise_domain(values, _first_nonfinite(values), first_guard, offset, batch)
        program._check_partials(values, partials, keep[None, :], offset)
    matrices, finite = _swept(tape, partials, found, mode)
    bad = ~finite & keep
    for column in np.flatnonzero(bad):
        matrices[column] = _generic_entries(tape, partials[:, column], found, mode, column + offset, batch)
    return replayed.at(found.rows), matrices, first_guard


def _swept(tape, partials, found, mode):
    """The Jacobians (B, rows, columns) from one vector sweep with a seed direction per colour class, and
    whether each point's are finite."""
    batch = partials.shape[1]
    seeding = found.seeding(mode)
    if seeding is None:
        return np.zeros((batch, *found.pattern.shape)), np.ones(batch, dtype=bool)
    if choose(tape.backend, "sweep") == "numba":
        swept = found.numba_sweep(tape, mode, batch)(partials)
    else:
        seeds, direction, _ = seeding
        width = direction.shape[1]
        seed_values = np.tile(direction, (1, batch)) if batch > 1 else direction  # column b·width + g
        weights = np.repeat(partials, width, axis=1) if width > 1 else partials
        swept = tape._run(seeds, mode in _FORWARD, weights, ARRAY_SEMIRINGS["real"], batch * width, seed_values).T
    return _read_off(swept, seeding, batch, found.pattern.shape)


def _read_off(swept, seeding, batch, shape):
    """(Jacobians (B, *shape), whether each point's entries are finite) from the swept path values, one row per
    (point b, class g) at b·width + g, one column per node."""
    flat = seeding[2]
    entries = swept.reshape(batch, -1)[:, flat[0]]  # (B, nonzeros): each its read node's value in its class
    matrices = np.zeros((batch, *shape))
    matrices.reshape(batch, -1)[:, flat[1]] = entries
    return matrices, np.isfinite(entries).all(axis=1)


class _FusedJacobian:
    """A tape's Jacobian at new points by :func:`~pathad.compiled.vector_loops.vector_points`: the replay and
    the vector sweep of one seeding in one kernel call, everything else made once.

    Anything unusual (a point on another branch, a value, partial or entry
    that is not finite, an empty pattern) returns None, and the general way
    answers: the same numbers or the same errors.
    """

    def __init__(self, tape, found, mode):
        program = self.program = tape._program
        self.seeding, self.shape = found.seeding(mode), found.pattern.shape
        if self.seeding is None:
            return
        forward = self.forward = mode in _FORWARD
        ends = np.concatenate([found.rows, found.columns])
        self.layout = layout = program.layout(any(program.fast.folds(int(v)) for v in ends))
        slot = layout.slot_of_node
        seeds, direction, _ = self.seeding
        self.seeds, self.direction = slot[seeds], np.ascontiguousarray(direction)
        self.rows, self.reads = slot[found.rows], slot[found.rows if forward else found.columns]
        self.active = np.zeros(layout.n_slots, dtype=np.bool_)
        self.active[slot[found.active & (slot >= 0)]] = True
        self.back = np.flatnonzero(found.active[layout.kept])[::-1].astype(layout.program.units.dtype)
        klass = np.empty(len(found.columns if forward else found.rows), dtype=np.int64)
        for g, members in enumerate(found.coloring(mode).groups):
            klass[members] = g
        i, j = np.nonzero(found.pattern)  # entry (i, j): lane of read i in j's class (forward), else of j in i's
        read, lane = (i, klass[j]) if forward else (j, klass[i])
        self.take, self.place = read * direction.shape[1] + lane, i * self.shape[1] + j

    def __call__(self, points):
        if self.seeding is None or not self.program.keeps_branch(points):
            return None
        fixed, rest = (points.fixed, points.rest) if hasattr(points, "fixed") else (_NO_VALUES, points)
        rest = np.ascontiguousarray(rest, dtype=np.float64)
        program, batch, width = self.layout.program, rest.shape[1], self.direction.shape[1]
        values, found = np.empty((batch, self.rows.size)), np.empty((batch, self.reads.size, width))
        workspace = self.layout.workspace  # this thread's work arrays, lent from one call to the next
        work = workspace.get(("vector", width))
        if work is None:
            work = workspace["vector", width] = (np.empty(program.n_slots), np.empty(max(program.n_partials, 1)),
                                                 np.empty((program.n_slots, width)))  # fmt: skip
        finite = call_kernel("vector_points", program.units.dtype.char, program.units, program.terms, program.signs,
                             program.consts, fixed, rest, self.forward, self.back, self.active, self.seeds,
                             self.direction, self.rows, self.reads, *work, values, found)  # fmt: skip
        if not finite:
            return None
        flat = found.reshape(batch, -1)
        matrices = np.zeros((batch, self.shape[0] * self.shape[1]))
        if batch <= 2:  # point by point: numpy's 1-d gather and scatter cost a third of its 2-d ones
            for b in range(batch):
                matrices[b][self.place] = flat[b][self.take]
        else:
            matrices[:, self.place] = flat[:, self.take]
        return values.T, matrices.reshape(batch, *self.shape)


_NO_VALUES = np.zeros(0)


class _NumbaSweep:
    """The compiled vector sweep of one seeding at one batch size, its arrays made once: a call is one copy of
    the partials (repeated per seed direction, each point's contiguous) and one kernel call."""

    def __init__(self, tape, seeding, forward, batch):
        seeds, direction, _ = seeding
        self.width = direction.shape[1]
        plan = tape._plan_from(seeds, forward)
        self.arrays = plan_arrays(plan)
        self.seeded = np.zeros(plan.n, dtype=np.bool_)
        self.seeded[seeds] = True
        self.initial = np.ones((batch * self.width, plan.n))
        self.initial[:, seeds] = np.tile(direction, (1, batch)).T
        self.tag = self.arrays[0].dtype.name

    def __call__(self, partials):
        """Path values (B·width, n) from the partials (E, B)."""
        one_point = partials.shape[1] == 1  # the kernel reads one row of weights for every direction
        weights = partials.T if self.width == 1 or one_point else np.repeat(partials.T, self.width, axis=0)
        weights = np.ascontiguousarray(weights)
        values = np.empty(self.initial.shape)  # per call: two threads may sweep the same tape
        call_kernel("sweep", self.tag, NUMBA_CODES["real"], 0.0, self.initial, self.seeded, weights, *self.arrays,
                    values)  # fmt: skip
        return values


def _generic_entries(tape, partials, found, mode, column, batch):
    """One point's Jacobian by :func:`pathad.solve` from each seed on its own: its DomainError names the node
    where a path value first left the floats; if every entry is finite that way (the vector sweep multiplied
    tree paths in another order), those are the entries."""
    forward = mode in _FORWARD
    needed = np.flatnonzero(found.active[tape.src] & found.active[tape.dst])
    where = f"replaying batch element {column}" if batch > 1 or column else "replaying"
    seeds, reads = (found.columns, found.rows) if forward else (found.rows, found.columns)
    matrix = np.zeros((len(found.rows), len(found.columns)))
    for s, seed in enumerate(seeds.tolist()):
        values = tape._generic_solve(partials[needed], needed, [seed], forward, reads.tolist(), where)
        line = [values.get(int(r), 0.0) for r in reads]
        if forward:
            matrix[:, s] = line
        else:
            matrix[s, :] = line
    return matrix
