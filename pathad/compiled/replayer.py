"""A replay bound once to one output and the inputs it is differentiated by: the lean path for calls in a loop.

:meth:`CompiledTape.replayer <pathad.compiled.replay.ReplayMethods.replayer>`
returns a :class:`Replayer`; :meth:`~pathad.compiled.replay.ReplayMethods.value_and_gradient`
with ``at=`` uses one too.  Everything a call does not depend on is looked up
when it is bound (the numba layout, the units of the backward pass, the rows
of the gradient) or on the first call of a batch size (the kernel, the arrays
it works in), so that a call on the numba backend is: the inputs handed to one
compiled call, the guards and the finiteness of the results checked, the value
and the gradient handed out (a fresh array each call: a caller may keep it).
Whatever is not the plain case (the numpy backend, a number that is not
finite, a guard that changes outcome, a batch too big for one call) goes the
general way, :meth:`~pathad.compiled.replay.ReplayMethods.value_and_gradient`'s,
so a Replayer gives exactly its answers and raises exactly its errors.
"""

import math
import threading

import numpy as np

from . import numba_backend
from .program import as_index, numba_chunk
from .replay import Batch

__all__ = ["Replayer"]

#: Above this many gradient elements per call, the gradient is handed out as rows of the kernel's adjoint array,
#: allocated for that call, instead of a copy of them from a reused one (a copy costs more than the allocation).
_HAND_OUT_FROM = 1 << 16


class Replayer:
    """(value of ``of``, gradient with respect to ``wrt``) at new points: :meth:`value_and_gradient`, bound once.

    Build one with :meth:`CompiledTape.replayer <pathad.compiled.replay.ReplayMethods.replayer>`.
    Each thread that calls it works in arrays of its own, so one Replayer may
    serve several threads.

    Parameters
    ----------
    tape : CompiledTape
    of : node, optional
        The output differentiated (default: the only one).
    wrt : names, input rows or a range, optional
        As for ``value_and_gradient`` (default: all inputs).
    fixed : int
        How many leading inputs a call gives as ``fixed=`` (the same at every point of a batch: a network's weights).

    Attributes
    ----------
    names : dict
        {input name: row of the gradient array}, as :class:`~pathad.compiled.Gradient` reads it.
    """

    def __init__(self, tape, of=None, wrt=None, fixed=0):
        tape._program  # noqa: B018 - first: a tape without operations says so before anything else
        self.tape, self.of, self.wrt = tape, of, wrt
        self.output = tape._output(of)
        self.rows, self.names = tape._wrt_rows(wrt)
        self.n_fixed = int(fixed)
        if not 0 <= self.n_fixed <= len(tape.inputs):
            raise ValueError(f"fixed= is a count of leading inputs, 0 to {len(tape.inputs)}; got {fixed!r}")
        self.n_points = len(tape.inputs) - self.n_fixed
        self._index = as_index(self.rows, len(tape.inputs))
        self._n_wrt = len(tape.inputs) if self.rows is None else len(self.rows)
        self._lean = self.output in tape.outputs  # ``of=`` an inner node: its value takes another replay
        self._numba = None  # (units, backward pass, output slot, guard slots), bound on the first numba call
        self._compiled = set()  # the kernels the backend choice gave to numba
        self._means = {}  # batch size -> its weights 1/B, for mean()
        self._mine = threading.local()

    def __call__(self, at, fixed=None, retrace=None):
        """(value, gradient) at the points ``at``.

        Parameters
        ----------
        at : array of shape (inputs,) or (inputs, B)
            The inputs after the fixed ones, in the trace's input order; a 2-d
            array is a batch of B points, one per column.
        fixed : array of shape (k,), optional
            The first k inputs (k = the ``fixed`` the Replayer was bound with).
        retrace : callable, optional
            As for ``value_and_gradient``: points that take another branch are traced again with it.

        Returns
        -------
        value : float, or numpy.ndarray (B,) for a batch
        gradient : numpy.ndarray (wrt,) or (wrt, B), rows in the order of :attr:`names`
        """
        points, fixed, one = self._read(at, fixed)
        found = self._run_numba(points, fixed, None) if self._numba_for(points.shape[1]) else None
        value, grads, lent = found or (*self._general(points, fixed, retrace), False)
        if one:
            return float(value[0]), np.array(grads[:, 0])
        return np.array(value), np.array(grads) if lent else grads

    def mean(self, at, fixed=None, retrace=None):
        """(mean value, mean gradient (wrt,)) over the points of ``at``: a training step's numbers.

        The same as averaging what :meth:`__call__` returns (by the same
        matrix-vector product), without handing out the gradient at each point.
        """
        points, fixed, _ = self._read(at, fixed)
        batch = points.shape[1]
        weights = self._means.get(batch)
        if weights is None:
            weights = self._means[batch] = np.full(batch, 1.0 / batch)
        found = self._run_numba(points, fixed, weights) if self._numba_for(batch) else None
        if found is None:
            value, grads = self._general(points, fixed, retrace)
            found = value @ weights, grads @ weights
        return float(found[0]), found[1]

    def _read(self, at, fixed):
        """(points (inputs, B), fixed or None, whether ``at`` was one point), their shapes checked."""
        points = np.asarray(at, dtype=np.float64)
        if self.n_fixed and fixed is None:
            raise TypeError(f"this replayer takes the first {self.n_fixed} inputs as fixed=")
        if self.n_fixed or fixed is not None:
            fixed = np.ascontiguousarray(fixed, dtype=np.float64)
        if (points.ndim not in (1, 2) or points.shape[0] != self.n_points
                or (fixed is not None and fixed.shape != (self.n_fixed,))):  # fmt: skip
            self._refuse(points, fixed)
        one = points.ndim == 1
        return points.reshape(-1, 1) if one else points, fixed if self.n_fixed else None, one

    def _numba_for(self, batch):
        """Whether the compiled call may answer for ``batch`` points."""
        kernel = "program_one" if batch == 1 else "program_batch"
        return self._lean and batch > 0 and (kernel in self._compiled or self._backend(batch) == "numba")

    def _refuse(self, points, fixed):
        """The error value_and_gradient gives for these shapes (its own words), or one of ours."""
        self.tape._points((), {}, points, fixed)
        raise ValueError(
            f"this replayer takes at= of shape ({self.n_points},) or ({self.n_points}, B) and "
            f"{f'fixed= of shape ({self.n_fixed},)' if self.n_fixed else 'no fixed='}; "
            f"got {points.shape} and {None if fixed is None else fixed.shape}"
        )

    def _backend(self, batch):
        """The tape's backend for this batch size; once numba, always numba (a compiled kernel stays compiled)."""
        kernel = "program_one" if batch == 1 else "program_batch"
        backend = self.tape._replay_backend(batch)
        if backend == "numba":
            self._compiled.add(kernel)
        return backend

    # --- the plain case: one compiled call ---

    def _bind_numba(self):
        program = self.tape._program
        layout = program.layout(program.fast.folds(self.output))
        back, seed, active = layout.backward(self.output, self.rows)
        slots = layout.slot_of_node if program.guard_ops else None  # the guards' nodes always have slots
        self._numba = (layout.program, back, seed, active, int(layout.slot_of_node[self.output]), slots)
        self._layout = layout
        return self._numba

    def _arrays(self, batch, hand_out):
        """This thread's (kernel, values, partials, adjoint) for ``batch`` points (no adjoint when it is handed
        out: then each call allocates its own), lent by the layout's workspace as to the general way (both copy
        out what they hand out); None while the kernel has not run in this process."""
        mine = self._mine.__dict__
        found = mine.get((batch, hand_out))
        if found is None:
            units = self._numba[0]
            kernel = "program_one" if batch == 1 else "program_batch"
            if (kernel, units.units.dtype.char) not in numba_backend._READY:
                return None
            arrays = numba_backend._buffers(units, batch, not hand_out, self._layout.workspace)  # shared with the
            found = mine[batch, hand_out] = (getattr(numba_backend.kernels(), kernel), *arrays)  # general way's
        return found

    def _run_numba(self, points, fixed, mean):
        """(value row, gradients (wrt, B), whether they are lent) by one compiled call; with ``mean`` (weights per
        point) the weighted sums (value, gradient (wrt,)) instead.  None when the general way must answer."""
        units, back, seed, active, out_slot, slots = self._numba or self._bind_numba()
        batch = points.shape[1]
        if batch > 1 and batch > numba_chunk(units):
            return None
        hand_out = mean is None and self._n_wrt * batch >= _HAND_OUT_FROM and self._n_wrt * 2 >= units.n_slots
        arrays = self._arrays(batch, hand_out)
        if arrays is None:  # the kernel's first call (it may compile, and say so) goes through run_program
            return None
        kernel, values, partials, adjoint = arrays
        if hand_out:
            adjoint = np.empty((units.n_slots, batch))
        if not (points.flags.c_contiguous and points.flags.writeable):  # the kernel's compiled signature: C, writable
            points = np.array(points, order="C")
        if fixed is not None and not fixed.flags.writeable:
            fixed = fixed.copy()
        finite = kernel(units.units, units.terms, units.signs, units.consts,
                        numba_backend._NO_VALUES if fixed is None else fixed, points,
                        back, seed, active, values, partials, adjoint)  # fmt: skip
        if not finite:
            return None
        if slots is not None:
            first = self.tape._program.check_guards(lambda positions: values[slots[positions]])
            if (first >= 0).any():
                return None
        if mean is None:
            value, grads = values[out_slot], adjoint[self._index]
        elif batch == 1:  # the mean of one point is that point's
            value, grads = values[out_slot, 0], np.array(adjoint[self._index, 0])
        else:
            value, grads = values[out_slot] @ mean, adjoint[self._index] @ mean
        with np.errstate(over="ignore", invalid="ignore"):  # a lane's inf or nan makes a weighted sum inf or nan
            if not math.isfinite(np.add.reduce(grads, axis=None)):  # one pass; an overflow goes the careful way
                return None
        return (value, grads) if mean is not None else (value, grads, not hand_out)

    # --- everything else: value_and_gradient's way ---

    def _general(self, points, fixed, retrace):
        tape = self.tape
        whole = points if fixed is None else Batch(fixed, points)
        values, grads = tape._replay(whole, self.output, retrace, self.rows)
        if self._lean:
            return values[tape.outputs.index(self.output)], grads
        return tape._value_of(self.output, whole), grads

    def __repr__(self):
        return f"Replayer({self.tape.name}, of={self.of!r}, wrt={self.wrt!r}, fixed={self.n_fixed})"
