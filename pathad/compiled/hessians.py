"""Hessian-vector products and Hessians of a compiled tape at new points, batched.

The trace's way (:mod:`pathad.second`) on arrays, every (point, direction)
pair a column of one vector sweep:

1. one replay gives every value and partial;
2. a forward vector sweep seeded with the directions gives every node's
   tangent ȧ (forward mode);
3. the second partials of the primitive table, one numpy call per (op,
   operand pair), give each edge label's rate ẇ = Σ_k ∂²u/∂a_j∂a_k · ȧ_k;
4. the backward sweep in the DUAL semiring.  Its pairs (ā, ǡ) split into two
   REAL sweeps: ā is the adjoint, and ǡ_u = Σ_e (w_e ǡ_s + ẇ_e ā_s) is a
   backward sweep of the partials seeded at every node u with its own
   c_u = Σ_e ẇ_e ā_s (the ``seed_values`` of the sweep).  At the inputs, ā is
   the gradient and ǡ the Hessian-vector product.

On numba the four steps are one pass of a compiled loop over the replay's
units (:mod:`pathad.compiled.second_loops`): each unit's tangents as it is
evaluated, then its adjoint and second adjoint on the way back, the second
partials generated from the same table.  The steps above run only when that
pass meets something unusual (a point on another branch, a number that is not
finite), or on numpy: they name the branch or the node.

A Hessian takes one direction per colour class of its sparsity pattern
(found structurally on the tape, as :func:`pathad.hessian_sparsity` finds it
on a trace), all in the same sweeps.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..coloring import color
from ..errors import BranchError, DomainError
from ..primitives import PRIMITIVES, is_zero_rule
from ..second import HESSIAN_MODES, Hessian
from ..types import NodeRef
from .freeze import OPS
from .jacobians import structure
from .numba_backend import LANES_FROM, call_kernel, choose, curvature, run_second, spending
from .program import _check_inputs, _first_nonfinite
from .program_numpy import _call
from .schedule import ARRAY_SEMIRINGS

__all__ = ["HessianMethods"]

_REAL = ARRAY_SEMIRINGS["real"]


class HessianMethods:
    """The second-derivative half of :class:`~pathad.compiled.CompiledTape` (a mixin)."""

    if TYPE_CHECKING:  # what it reads of the rest of CompiledTape (declared for the type checker only)
        inputs: dict[str, int]
        backend: str
        _program: Any
        _points: Callable[..., Any]
        _output: Callable[..., Any]
        label: Callable[[int], str]

    def hvp(
        self, v: npt.ArrayLike, *args: npt.ArrayLike, of: NodeRef | None = None, at: npt.ArrayLike | None = None,
        fixed: npt.ArrayLike | None = None, retrace: Callable[..., Any] | None = None, **inputs: npt.ArrayLike,
    ) -> np.ndarray:  # fmt: skip
        """The Hessian-vector product H·v of one output at new inputs: an array (n_inputs,) or (B, n_inputs).

        Parameters
        ----------
        v : array_like
            The direction, one component per input in the tape's input
            order: shape (n_inputs,), the same at every point, or (B, n_inputs)
            one per point.
        *args, at, fixed, retrace, **inputs
            The points, as for :meth:`evaluate`.
        of : reference, optional
            The output (default: the only one).

        Examples
        --------
        >>> import numpy as np
        >>> from pathad import compile, trace
        >>> tape = compile(trace(lambda x, y: x * x * y, 3.0, 2.0))
        >>> tape.hvp([1.0, 0.0], at=[3.0, 2.0]).tolist()
        [4.0, 6.0]
        >>> tape.hvp([1.0, 0.0], at=np.array([[3.0, 1.0], [2.0, 5.0]])).tolist()
        [[4.0, 6.0], [10.0, 2.0]]
        """
        self._program  # noqa: B018 - first: a tape without operations says so before anything else
        points, scalar = self._points(args, inputs, at, fixed)
        output = self._output(of)
        directions = np.asarray(v, dtype=np.float64)
        batch = points.shape[1]
        if directions.shape not in ((len(self.inputs),), (batch, len(self.inputs))):
            raise ValueError(f"v needs shape ({len(self.inputs)},) or ({batch}, {len(self.inputs)}) for "
                             f"{batch} point(s), got {directions.shape}")  # fmt: skip
        if not np.isfinite(directions).all():
            raise ValueError("v must be finite")
        # directions (1, n, 1), the same at every point, or (B, n, 1), one per point
        _, _, products = _second_order(self, points, output, directions.reshape(-1, len(self.inputs), 1), retrace)
        return products[0, :, 0] if scalar else products[:, :, 0]

    def hessian(
        self, *args: npt.ArrayLike, of: NodeRef | None = None, at: npt.ArrayLike | None = None,
        fixed: npt.ArrayLike | None = None, retrace: Callable[..., Any] | None = None, mode: str = "auto",
        **inputs: npt.ArrayLike,
    ) -> Hessian:  # fmt: skip
        """The Hessian of one output with respect to every input at new points, by coloured HVPs in one sweep.

        Parameters
        ----------
        *args, at, fixed, retrace, **inputs
            The points, as for :meth:`evaluate`.
        of : reference, optional
            The output (default: the only one).
        mode : {"auto", "dense", "colored"}
            As for :func:`pathad.hessian`: one direction per input, or per
            colour class of the structural pattern ("auto": the fewer).

        Returns
        -------
        pathad.Hessian
            ``matrix`` (n, n) for one point, (B, n, n) for a batch;
            ``gradient`` and ``value`` too, from the same sweeps.

        Examples
        --------
        >>> import numpy as np
        >>> from pathad import compile, trace
        >>> def rosenbrock(x, y):
        ...     return (1 - x) ** 2 + 100 * (y - x * x) ** 2
        >>> tape = compile(trace(rosenbrock, 0.0, 0.0))
        >>> H = tape.hessian(-1.2, 1.0)
        >>> H.matrix.tolist(), H.gradient.round(12).tolist()
        ([[1330.0, 480.0], [480.0, 200.0]], [-215.6, -88.0])
        """
        self._program  # noqa: B018
        if mode not in HESSIAN_MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, HESSIAN_MODES))}, got {mode!r}")
        points, scalar = self._points(args, inputs, at, fixed)
        output = self._output(of)
        n = len(self.inputs)
        if mode == "auto":
            mode = "colored" if self._hessian_coloring(output).count < n else "dense"
        read = self._hessian_reading(output, mode)
        value, gradient, products = _second_order(self, points, output, read.directions, retrace)
        matrix, asymmetry = read.symmetric(products, self.backend)
        return Hessian(
            matrix[0] if scalar else matrix,
            read.wrt,
            self.label(output),
            mode,
            products.shape[2],
            self._hessian_coloring(output) if mode == "colored" else None,
            asymmetry,
            None,
            gradient=gradient[0] if scalar else gradient,
            value=float(value[0]) if scalar else value,
        )

    def hessian_sparsity(self, of: NodeRef | None = None) -> np.ndarray:
        """The structural pattern of the Hessian of ``of`` with respect to every input (kept per output).

        Inputs i and j meet where a node on the way to ``of`` has two operands
        (or one twice) with a second partial that is not identically zero,
        i reaching the one and j the other; the reach is one BOOLEAN vector
        sweep from the inputs (each in its own column).

        >>> from pathad import compile, trace
        >>> compile(trace(lambda x, y, z: x * y + z * z, 1.0, 2.0, 3.0)).hessian_sparsity().astype(int).tolist()
        [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
        """
        return self._hessian_pattern(self._output(of)).copy()

    def _hessian_pattern(self, output):
        cache = self.__dict__.setdefault("_hessian_patterns", {})
        if output not in cache:
            cache[output] = _hessian_pattern(self, output)
        return cache[output]

    def _hessian_reading(self, output, mode):
        """How a Hessian of ``output`` in ``mode`` ("colored" or "dense") is seeded and read (kept)."""
        cache = self.__dict__.setdefault("_hessian_readings", {})
        key = (output, mode)
        if key not in cache:
            n = len(self.inputs)
            if mode == "colored":
                groups, pattern = self._hessian_coloring(output).groups, self._hessian_pattern(output)
            else:
                groups, pattern = [[j] for j in range(n)], np.ones((n, n), dtype=bool)
            cache[key] = _Reading(groups, pattern, tuple(self.inputs))
        return cache[key]

    def _hessian_coloring(self, output):
        """The colouring of the pattern's columns, kept with it: the structure is the same at every point."""
        cache = self.__dict__.setdefault("_hessian_colorings", {})
        if output not in cache:
            cache[output] = color(self._hessian_pattern(output))
        return cache[output]


class _Reading:
    """The directions of a Hessian's HVPs and where its entries are read: entry (i, j) of the pattern is row i of
    the HVP along j's group of columns.

    Attributes
    ----------
    directions : numpy.ndarray, shape (1, n, groups)
        Column g is 1 on the members of group g.
    take : numpy.ndarray
        Per entry (i, j), in the pattern's row-major order: its index i·groups + g in the flat (n, groups) HVPs.
    mirror : numpy.ndarray
        Per entry: the index of its mirror (j, i) (the pattern is symmetric).
    place : numpy.ndarray
        Per entry: its index i·n + j in the flat (n, n) matrix.
    wrt : tuple
        The input names, the rows and columns.
    """

    def __init__(self, groups, pattern, wrt):
        n, self.wrt = pattern.shape[0], wrt
        klass = np.empty(n, dtype=np.int64)
        self.directions = np.zeros((1, n, len(groups)))
        for g, members in enumerate(groups):
            klass[members] = g
            self.directions[0, members, g] = 1.0
        rows, columns = np.nonzero(pattern)
        position = np.full((n, n), -1, dtype=np.int64)
        position[rows, columns] = np.arange(rows.size)
        self.take = rows * len(groups) + klass[columns]
        self.mirror = position[columns, rows]
        self.place = rows * n + columns

    def symmetric(self, products, backend):
        """(matrix (B, n, n), asymmetry) from the HVPs (B, n, groups): each entry the mean of itself and its
        mirror, and the largest difference between the two."""
        batch, n, width = products.shape
        flat = np.ascontiguousarray(products).reshape(batch, n * width)
        matrix = np.zeros((batch, n * n))
        if choose(backend, "symmetric_entries") == "numba":
            asymmetry = call_kernel("symmetric_entries", "int64", flat, self.take, self.mirror, self.place, matrix)
            return matrix.reshape(batch, n, n), asymmetry
        with spending("symmetric_entries"):
            entries = flat[:, self.take]
            mirrored = entries[:, self.mirror]
            matrix[:, self.place] = (entries + mirrored) * 0.5
            return matrix.reshape(batch, n, n), float(np.abs(entries - mirrored).max(initial=0.0))


def _hessian_pattern(tape, output):
    program = tape._program
    n = len(tape.inputs)
    inputs = list(tape.inputs.values())
    reach = structure(tape, inputs, list(range(tape.n_nodes))).pattern  # (nodes, inputs): node depends on input
    behind = tape._reach([output], False)
    pattern = np.zeros((n, n), dtype=bool)
    for code in np.unique(tape.codes[tape.codes > 0]):
        primitive = PRIMITIVES[OPS[code]]
        nodes = np.flatnonzero((tape.codes == code) & behind)
        for (j, k), rule in zip(_pairs(primitive.arity), primitive.second):
            if is_zero_rule(rule) or not nodes.size:
                continue
            a, b = program.node_of[j, nodes], program.node_of[k, nodes]
            both = (a >= 0) & (b >= 0)
            if both.any():
                left, right = reach[a[both]].astype(np.int64), reach[b[both]].astype(np.int64)
                meets = (left.T @ right) > 0
                pattern |= meets | meets.T
    return pattern


def _pairs(arity):
    return [(0, 0)] if arity == 1 else [(0, 0), (0, 1), (1, 1)]


def _second_order(tape, points, output, directions, retrace):
    """(value (B,), gradient (B, inputs), H·v (B, inputs, k)) for directions (D, inputs, k) at ``points``: one
    set of k directions for every point (D = 1) or a set per point (D = B).

    On numba, one call of a fused kernel (:mod:`~pathad.compiled.second_loops`) when every
    point keeps the traced branch and everything it computes is finite; else (and on numpy) the four steps in
    turn, which re-trace or name the branch, or name the node where something is not finite.
    """
    kernel = "second_points" if points.shape[1] < LANES_FROM else "second_lanes"
    if choose(tape.backend, kernel) == "numba":
        found = _fused(tape, points, output, directions)
        return _general(tape, points, output, directions, retrace) if found is None else found
    with spending(kernel):  # numpy work instead of the kernel: counted towards compiling it
        return _general(tape, points, output, directions, retrace)


def _fused(tape, points, output, directions):
    """:func:`_second_order` by one kernel call, or None when a point takes another branch or anything was not
    finite (the general way says which)."""
    program = tape._program
    if not program.keeps_branch(points):
        return None
    layout = program.layout(program.fast.folds(output))
    back, seed, active = layout.backward(output, None)
    value, gradient, products, finite = run_second(layout.program, points, back, seed, active, directions,
                                                   layout.workspace)  # fmt: skip
    return (value, gradient, products) if finite else None


def _general(tape, points, output, directions, retrace):
    """:func:`_second_order` in four steps: replay, tangents, rates and the two backward sweeps."""
    program = tape._program
    batch, width = points.shape[1], directions.shape[2]
    directions = np.broadcast_to(directions, (batch, *directions.shape[1:])).transpose(1, 0, 2)
    inputs = np.array(list(tape.inputs.values()), dtype=np.int64)
    active = structure(tape, inputs.tolist(), [output]).active
    replayed, partials = program.values_and_partials(points, active)
    values = replayed.at(np.arange(tape.n_nodes))
    first_guard = program._excuse_traced_point(program.check_guards(replayed.at), points)
    if first_guard is not None:
        if retrace is None:
            raise BranchError(program.branch_message(points, first_guard))
        return _retraced(tape, points, output, directions, retrace, first_guard)
    if not np.isfinite(values).all():
        _check_inputs(tape, points)
        program._raise_domain(values, _first_nonfinite(values), np.full(batch, -1, dtype=np.int64), 0, batch)
    program._check_partials(values, partials, np.ones((1, batch), dtype=bool), 0)
    # 2. tangents: columns b·width + g (point b, direction g)
    wide = np.repeat(partials, width, axis=1) if width > 1 else partials
    seed_values = directions.reshape(len(inputs), batch * width)
    tangents = tape._run(inputs, True, wide, _REAL, batch * width, seed_values)
    # 3. each edge's rate; 4. the adjoint, the sources c and the second sweep
    rates = _rates(tape, program, values, tangents, active, width)
    adjoint = tape._run([output], False, partials, _REAL, batch)
    spread = np.repeat(adjoint, width, axis=1) if width > 1 else adjoint
    sources = np.zeros((tape.n_nodes, batch * width))
    order, tails, starts = _by_tail(tape)
    if order.size:
        sources[tails] = np.add.reduceat((rates * spread[tape.dst])[order], starts, axis=0)
    seeds = _source_nodes(tape)  # the same seeds at every point, so that the sweep's plan is made once
    products = np.zeros((tape.n_nodes, batch * width))
    if seeds.size:
        products = tape._run(seeds, False, wide, _REAL, batch * width, sources[seeds])
    found = products[inputs]
    finite = np.isfinite(found).all(axis=0).reshape(batch, width).all(axis=1) & np.isfinite(adjoint[inputs]).all(0)
    if not finite.all():
        column = int(np.flatnonzero(~finite)[0])
        raise DomainError(
            f"the Hessian-vector product of {tape.label(output)} is not a finite number at batch element "
            f"{column}: a product of partials or second partials overflows on the way"
        )
    return values[output], adjoint[inputs].T, found.reshape(len(inputs), batch, width).transpose(1, 0, 2)


def _by_tail(tape):
    """(edges sorted by tail, the distinct tails, where each tail's edges start): for sums per tail."""
    found = tape.__dict__.get("_edges_by_tail")
    if found is None:
        order = np.argsort(tape.src, kind="stable")
        tails, starts = np.unique(tape.src[order], return_index=True)
        found = tape.__dict__["_edges_by_tail"] = (order, tails, starts)
    return found


def _source_nodes(tape):
    """The nodes that can have a source c_u: the tails of the edges into ops with a second partial not
    identically zero (structural, kept on the tape)."""
    found = tape.__dict__.get("_hvp_sources")
    if found is None:
        curved = curvature().any(axis=1)
        found = tape.__dict__["_hvp_sources"] = np.unique(tape.src[curved[tape.codes[tape.dst]]])
    return found


def _rates(tape, program, values, tangents, active, width):
    """Each edge's rate along its column's direction, (E, B·width): Σ_k ∂²u/∂a_j∂a_k · ȧ_k, by op group."""
    batch = values.shape[1]
    rates = np.zeros((tape.n_edges, batch * width))
    for code in np.unique(tape.codes[tape.codes > 0]):
        primitive = PRIMITIVES[OPS[code]]
        nodes = np.flatnonzero((tape.codes == code) & active)
        if not nodes.size or all(map(is_zero_rule, primitive.second)):
            continue
        arity = primitive.arity
        operands = [_operand(program, values, j, nodes) for j in range(arity)]
        result = values[nodes]
        dots = [_tangent(program, tangents, j, nodes, width) for j in range(arity)]
        second = {}
        for (j, k), rule in zip(_pairs(arity), primitive.second):
            both = (program.node_of[j, nodes] >= 0) & (program.node_of[k, nodes] >= 0)
            if is_zero_rule(rule) or not both.any():
                continue  # a pair with a constant has no rate to give (pow's exponent rules at a negative base)
            with np.errstate(all="ignore"):
                found = _evaluate(rule, operands, result, program, nodes)
            found[~both] = 0.0
            _check_second(tape, primitive, found, nodes, values, program)
            second[j, k] = second[k, j] = found
        for j in range(arity):
            edges = program.edge_of[j, nodes]
            traced = edges >= 0
            if not traced.any():
                continue
            rate = np.zeros((nodes.size, batch * width))
            for k in range(arity):
                if (j, k) in second and dots[k] is not None:
                    rate += np.repeat(second[j, k], width, axis=1) * dots[k]
            rates[edges[traced]] = rate[traced]
    return rates


def _evaluate(rule, operands, result, program, nodes):
    """A second rule on a group's operands, (nodes, B).  A rule that branches on an operand (pow's, on its
    exponent) is evaluated once per value of that operand where it is a constant with few values (x ** 2:
    one call), else point by point (:func:`~pathad.compiled.program_numpy._call`)."""
    if len(operands) == 2 and (program.node_of[1, nodes] < 0).all():
        exponents = program.const_of[1, nodes]
        distinct = np.unique(exponents)
        if distinct.size <= 8:
            found = np.empty_like(result)
            for value in distinct.tolist():
                rows = exponents == value
                found[rows] = np.asarray(_call(rule, (operands[0][rows], value), (result[rows],)))
            return found
    return np.asarray(_call(rule, operands, (result,))) * np.ones_like(result)


def _operand(program, values, j, nodes):
    """Operand j of ``nodes`` at every point, (nodes, B): a node's values or a constant."""
    sources = program.node_of[j, nodes]
    found = np.repeat(program.const_of[j, nodes][:, None], values.shape[1], axis=1)
    traced = sources >= 0
    found[traced] = values[sources[traced]]
    return found


def _tangent(program, tangents, j, nodes, width):
    """Operand j's tangent, (nodes, B·width); None when every operand j is a constant."""
    sources = program.node_of[j, nodes]
    traced = sources >= 0
    if not traced.any():
        return None
    found = np.zeros((nodes.size, tangents.shape[1]))
    found[traced] = tangents[sources[traced]]
    return found


def _check_second(tape, primitive, found, nodes, values, program):
    """A DomainError naming the first node where a second partial has no finite value."""
    bad = ~np.isfinite(found)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        node = int(nodes[row])
        reason = f"its second derivative in its operands is {found[row, column]}"
        raise DomainError(program._describe(values, node, int(column), 0, values.shape[1], reason))


def _retraced(tape, points, output, directions, retrace, first_guard):
    """The points one at a time, each from the tape its own trace gives (those on this branch from this one)."""
    index = tape.outputs.index(output) if output in tape.outputs else None
    if index is None:
        from ..errors import ReplayError

        raise ReplayError("retrace= needs the differentiated node to be one of the program's outputs")
    batch, width = points.shape[1], directions.shape[2]
    value, gradient = np.empty(batch), np.empty((batch, len(tape.inputs)))
    products = np.empty((batch, len(tape.inputs), width))
    for b in range(batch):
        point = points[:, b : b + 1]
        source = tape if first_guard[b] < 0 else tape._retraced(retrace, points[:, b])
        part = _second_order(source, point, source.outputs[index], directions[:, b : b + 1].transpose(1, 0, 2), None)
        value[b], gradient[b], products[b] = part[0][0], part[1][0], part[2][0]
    return value, gradient, products

