"""Replay: the recorded program evaluated at new inputs, with its gradient, on one point or a batch.

:class:`ReplayMethods` gives :class:`~pathad.compiled.CompiledTape` its
``evaluate``, ``gradient``, ``value_and_gradient`` and ``replayer``: reading
the inputs in every accepted shape, running the
:class:`~pathad.compiled.program.Program` and re-tracing points that take
another branch.  ``value_and_gradient(at=...)`` goes through a
:class:`~pathad.compiled.replayer.Replayer` kept per (of, wrt, fixed count).
"""

import numbers
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import BranchError, ReplayError
from ..tracing import rebuild, trace
from ..types import NodeRef, NodeRefs
from .program import Program

if TYPE_CHECKING:
    from .replayer import Replayer

__all__ = ["ReplayMethods", "Gradient", "Batch", "mapped"]


class ReplayMethods:
    """The replay half of :class:`~pathad.compiled.CompiledTape` (a mixin: it reads the tape's arrays)."""

    outputs: list[int]  # the tape's, as CompiledTape sets it (declared for the type checker)

    # --- replay -------------------------------------------------------------------

    @cached_property
    def _program(self):
        return Program(self)

    def evaluate(
        self, *args: npt.ArrayLike, at: npt.ArrayLike | None = None, fixed: npt.ArrayLike | None = None,
        retrace: Callable[..., Any] | None = None, **inputs: npt.ArrayLike,
    ) -> Any:  # fmt: skip
        """The program's value(s) at new inputs, by replaying the recorded operations.

        Parameters
        ----------
        *args, **inputs : float or array
            New input values, positionally in the traced function's argument
            order or by name (an argument's name, or an element's flat name
            such as ``"v[1]"``); inputs not given keep their recorded values.
            A number input takes a float for one point or an array (B,) for a
            batch of B points; an array input traced with shape S takes an
            array of shape S for one point or (B, *S) for a batch (a leading
            batch axis, as ``jax.vmap``).  A batch is computed together.
        at : array of shape (n_inputs,) or (n_inputs, B), optional
            All inputs at once, in the trace's input order (instead of
            ``args``/``inputs``): the cheapest way to call a replay often.
        fixed : array of shape (k,), optional
            With ``at``: the values of the first k inputs, the same at every
            point of the batch (a network's weights, say); ``at`` then holds
            the other inputs only, shape (n_inputs - k,) or (n_inputs - k, B).
        retrace : callable, optional
            The traced function.  Points where a guard (a comparison the
            program made) changes outcome are then traced again with it; without
            it they raise :class:`BranchError`.

        Returns
        -------
        float or numpy.ndarray, or a tuple, list or dict of them
            Shaped as :attr:`pathad.Trace.value`; for a batch each part gains
            a leading axis of length B.

        Raises
        ------
        ReplayError
            If the tape has no operations to replay (a plain graph).
        BranchError
            If a point takes another branch and ``retrace`` is not given.
        pathad.DomainError
            If an operation leaves its domain (naming the node, the operands and the batch element).

        Examples
        --------
        >>> import numpy as np
        >>> from pathad import compile, trace
        >>> tape = compile(trace(lambda x, y: x * y + y, x=2.0, y=3.0))
        >>> tape.evaluate(x=np.array([1.0, 2.0]), y=10.0).tolist()
        [20.0, 30.0]
        >>> tape = compile(trace(lambda W, v: W @ v, np.eye(2), np.ones(2)))
        >>> tape.evaluate(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0])).tolist()
        [3.0, 7.0]
        >>> tape.evaluate(v=np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])).shape  # a batch of 3 v's, W as traced
        (3, 2)
        """
        self._program  # noqa: B018 - first: a tape without operations says so before anything else
        points, scalar = self._points(args, inputs, at, fixed)
        outputs, _ = self._replay(points, None, retrace)
        return self._shape(outputs, scalar)

    def gradient(
        self, *args: npt.ArrayLike, of: NodeRef | None = None, wrt: NodeRefs | None = None,
        at: npt.ArrayLike | None = None, fixed: npt.ArrayLike | None = None,
        retrace: Callable[..., Any] | None = None, **inputs: npt.ArrayLike,
    ) -> "Gradient":  # fmt: skip
        """{input: ∂of/∂input} at new inputs: values, partials and the backward sweep, replayed.

        The same as :func:`pathad.gradient` on a fresh trace at those inputs,
        without tracing.  Inputs, ``retrace`` and the errors are as for
        :meth:`evaluate` (``at=`` takes all inputs as one array, ``fixed=`` the
        leading ones shared by a batch); ``of``
        names the output (default: the only one); ``wrt`` the inputs to
        differentiate with respect to: names, or positions in the input order
        (a ``range`` is the cheapest to pass often); default all.  Only the
        partials on paths from ``wrt`` to ``of`` are computed, so only those
        can raise a :class:`~pathad.DomainError`.

        Examples
        --------
        >>> import numpy as np
        >>> from pathad import compile, relu, trace
        >>> tape = compile(trace(lambda x, y: relu(x) * y, x=2.0, y=3.0))
        >>> g = tape.gradient(x=np.array([-1.0, 2.0]), y=np.array([3.0, 4.0]))
        >>> g["x"].tolist(), g["y"].tolist()
        ([0.0, 4.0], [0.0, 2.0])
        >>> tape.gradient(at=np.array([2.0, 5.0]))
        {'x': 5.0, 'y': 2.0}
        >>> tape.gradient(at=np.array([2.0, 5.0]), wrt="y")
        {'y': 2.0}
        """
        return self.value_and_gradient(*args, of=of, wrt=wrt, at=at, fixed=fixed, retrace=retrace, **inputs)[1]

    def value_and_gradient(
        self, *args: npt.ArrayLike, of: NodeRef | None = None, wrt: NodeRefs | None = None,
        at: npt.ArrayLike | None = None, fixed: npt.ArrayLike | None = None,
        retrace: Callable[..., Any] | None = None, **inputs: npt.ArrayLike,
    ) -> "tuple[float | np.ndarray, Gradient]":  # fmt: skip
        """(value of ``of``, :meth:`gradient`) from one replay: both for the price of the gradient.

        Takes what :meth:`gradient` takes; the value is a float, or an array
        of shape (B,) for a batch.

        Examples
        --------
        >>> from pathad import compile, trace
        >>> tape = compile(trace(lambda x, y: x * y + y, x=2.0, y=3.0))
        >>> tape.value_and_gradient(x=1.0, y=10.0)
        (20.0, {'x': 10.0, 'y': 2.0})
        >>> value, grad = tape.value_and_gradient(at=[[1.0, 2.0]], fixed=[10.0])  # x = 10 at both points
        >>> value.tolist(), grad["y"].tolist()
        ([11.0, 22.0], [11.0, 11.0])
        """
        if at is not None and not (args or inputs):  # the cheapest call: a replayer bound to (of, wrt) answers
            replayer = self._bound_replayer(of, wrt, fixed)
            if replayer is not None:
                value, grads = replayer(at, fixed, retrace)
                return value, Gradient(replayer.names, grads)
        self._program  # noqa: B018 - first: a tape without operations says so before anything else
        points, scalar = self._points(args, inputs, at, fixed)
        output, (rows, names) = self._output(of), self._wrt_rows(wrt)
        values, grads = self._replay(points, output, retrace, rows)
        value = values[self.outputs.index(output)] if output in self.outputs else self._value_of(output, points)
        if scalar:
            return float(value[0]), Gradient(names, grads[:, 0])
        return value, Gradient(names, grads)

    def replayer(self, of: NodeRef | None = None, wrt: NodeRefs | None = None, fixed: int = 0) -> "Replayer":
        """A :class:`~pathad.compiled.replayer.Replayer`: :meth:`value_and_gradient` at ``at=`` points, bound
        once to ``of`` and ``wrt`` (and a count of ``fixed`` leading inputs), for calls in a loop.

        A call ``replayer(at, fixed=None)`` returns (value, gradient array),
        the gradient's rows in the order of ``replayer.names``; on the numba
        backend it is one compiled call, its arrays kept from one call to the
        next; its answers and errors are :meth:`value_and_gradient`'s.

        Examples
        --------
        >>> import numpy as np
        >>> from pathad import compile, trace
        >>> replay = compile(trace(lambda w, x: w * x * x, 2.0, 3.0)).replayer(wrt=[0], fixed=1)
        >>> value, grad = replay(np.array([[1.0, 2.0]]), fixed=[5.0])  # w = 5 at both points x = 1, 2
        >>> value.tolist(), grad.tolist(), replay.names
        ([5.0, 20.0], [[1.0, 4.0]], {'w': 0})
        """
        from .replayer import Replayer  # it builds on this module

        return Replayer(self, of, wrt, fixed)

    def _bound_replayer(self, of, wrt, fixed):
        """The replayer :meth:`value_and_gradient` keeps for (of, wrt, count of fixed inputs); None when those
        cannot be a key (a list of names, an unhashable node)."""
        n_fixed = 0 if fixed is None else int(np.size(fixed))
        key = (of, wrt if not isinstance(wrt, list) else tuple(wrt), n_fixed)
        try:
            found = self._replayers.get(key)
        except TypeError:
            return None
        if found is None:
            if len(self._replayers) >= 64:  # a caller cycling through many (of, wrt): keep the latest few
                self._replayers.clear()
            found = self._replayers[key] = self.replayer(of, wrt, n_fixed)
        return found

    @cached_property
    def _replayers(self):
        return {}

    def _gradient_rows(self, rows):
        """{input name: row of the gradient array} for the input rows ``rows`` (cached: training asks often)."""
        if rows not in self._wrt_names:
            names = list(self.inputs)
            self._wrt_names[rows] = {names[r]: i for i, r in enumerate(rows)}
        return self._wrt_names[rows]

    def _wrt_rows(self, wrt):
        """(rows, names): None (all inputs), a range, or a tuple of input rows, from names, argument names or rows;
        and {gradient key: row of the gradient array, or an ndarray of rows for an array argument}."""
        if wrt is None:
            return None, self._argument_rows
        if isinstance(wrt, range):
            ends = (wrt[0], wrt[-1]) if len(wrt) else (0, 0)
            if not (0 <= min(ends) and max(ends) < len(self.inputs)):
                raise ValueError(f"wrt={wrt!r} is out of range for {len(self.inputs)} inputs")
            return wrt, self._gradient_rows(wrt)
        rows, names, shaped = [], {}, False
        for item in [wrt] if isinstance(wrt, str) else wrt:
            if isinstance(item, str) and item in self._input_rows:
                names[item] = len(rows)
                rows.append(self._input_rows[item])
            elif isinstance(item, str) and isinstance(self._argument_rows.get(item), np.ndarray):
                block = self._argument_rows[item]
                names[item] = len(rows) + np.arange(block.size).reshape(block.shape)
                rows.extend(block.ravel().tolist())
                shaped = True
            elif isinstance(item, numbers.Integral) and not isinstance(item, bool) and 0 <= item < len(self.inputs):
                names[list(self.inputs)[item]] = len(rows)
                rows.append(int(item))
            else:
                raise ValueError(f"wrt: {item!r} is not an input; the inputs are {list(self.inputs)[:8]}")
        rows = tuple(rows)
        return rows, (names if shaped else self._gradient_rows(rows))

    def _value_of(self, node, points):
        """The value of a node that is not an output (rare: ``of=`` an inner node), by one more replay."""
        return self._program.compute(points, exact=True).at([node])[0]

    def _output(self, of):
        if of is not None:
            return self.position(of)
        if len(self.outputs) != 1:
            raise ValueError(f"{self.name} has {len(self.outputs)} outputs; name one with of=")
        return self.outputs[0]

    def _points(self, args, inputs, at=None, fixed=None):
        """One column per input, shape (inputs, B) (a :class:`Batch` with ``fixed``); and whether every input
        was a scalar."""
        if fixed is not None:
            return self._points_fixed(at, fixed, args or inputs)
        if at is not None:
            return self._points_at(at, args or inputs)
        if not self._scalar_arguments:
            return self._points_shaped(args, inputs)
        if not inputs and len(args) == len(self.inputs):  # all given positionally: one numpy call
            try:
                points = np.array(args, dtype=np.float64)
            except ValueError:  # scalars and arrays mixed
                points = None
            if points is not None and points.ndim in (1, 2):
                return (points[:, None], True) if points.ndim == 1 else (points, False)
        names = list(self.inputs)
        if len(args) > len(names):
            raise TypeError(f"{self.name} takes {len(names)} inputs, got {len(args)} positionally")
        given = dict(zip(names, args))
        for name, value in inputs.items():
            if name not in self.inputs or name in given:
                problem = "is not an input" if name not in self.inputs else "is given twice"
                raise TypeError(f"{name!r} {problem}; the inputs are {names}")
            given[name] = value
        arrays = {name: np.asarray(value, dtype=np.float64) for name, value in given.items()}
        sizes = {a.shape[0] for a in arrays.values() if a.ndim == 1}
        if len(sizes) > 1 or any(a.ndim > 1 for a in arrays.values()):
            raise ValueError(f"batched inputs must all have the same shape (B,), got sizes {sorted(sizes)}")
        batch = sizes.pop() if sizes else 1
        points = np.empty((len(names), batch))
        for row, name in enumerate(names):
            points[row] = arrays.get(name, self.values[self.inputs[name]])
        return points, all(a.ndim == 0 for a in arrays.values())

    def _points_shaped(self, args, inputs):
        """:meth:`_points` for a trace with array arguments: each given as its traced shape S or (B, *S)."""
        names = list(self.arguments)
        if len(args) > len(names):
            raise TypeError(f"{self.name} takes {len(names)} arguments, got {len(args)} positionally")
        given = dict(zip(names, args))
        for name, value in inputs.items():
            if (name not in self.arguments and name not in self.inputs) or name in given:
                problem = "is given twice" if name in given else "is not an input"
                raise TypeError(f"{name!r} {problem}; the arguments are {names}")
            given[name] = value
        columns, batches = [], {}
        for name, value in given.items():
            flat, shape, whole = self._flat_rows(name)
            array = np.asarray(value, dtype=np.float64)
            if array.shape == shape:
                columns.append((flat, array.reshape(-1, 1)))
            elif array.ndim == len(shape) + 1 and array.shape[1:] == shape:
                batches[name] = array.shape[0]
                columns.append((flat, array.reshape(array.shape[0], -1).T))
            else:
                batch = f"({', '.join(['B', *map(str, shape)])}{',' if not shape else ''})"
                raise ValueError(
                    f"input {name!r} was traced with shape {shape}: give shape {shape} for one point or {batch} "
                    f"for a batch of B points, got shape {array.shape}"
                )
        sizes = set(batches.values())
        if len(sizes) > 1:
            shown = ", ".join(f"{name}: {size}" for name, size in batches.items())
            raise ValueError(f"batched inputs must agree on the batch size B (the leading axis), got {shown}")
        batch = sizes.pop() if sizes else 1
        if len(given) == 1 and whole:  # one argument holding every input in order: its values are the points
            return np.array(columns[0][1], dtype=np.float64, order="C"), not batches
        points = np.empty((len(self.inputs), batch))
        points[:] = self._traced_inputs[:, None]
        for rows, values in columns:
            points[rows] = values
        return points, not batches

    def _flat_rows(self, name):
        """(the input rows of argument or input ``name`` in its element order, its traced shape, whether the rows
        are all the inputs in order), kept."""
        cache = self.__dict__.setdefault("_flat_rows_cache", {})
        if name not in cache:
            rows = self._argument_rows[name] if name in self.arguments else self._input_rows[name]
            flat = np.ravel(rows).astype(np.int64)
            cache[name] = (flat, np.shape(rows), bool(np.array_equal(flat, np.arange(len(self.inputs)))))
        return cache[name]

    @cached_property
    def _traced_inputs(self):
        """The inputs' traced values, in input order: what an input not given keeps."""
        return self.values[np.array(list(self.inputs.values()), dtype=np.int64)]

    def _points_at(self, at, also_given):
        if also_given:
            raise TypeError("give the inputs either as at= or as arguments, not both")
        points = np.asarray(at, dtype=np.float64)
        if points.ndim not in (1, 2) or points.shape[0] != len(self.inputs):
            raise ValueError(
                f"at= needs shape ({len(self.inputs)},) or ({len(self.inputs)}, B) for the inputs "
                f"{list(self.inputs)[:5]}{'...' if len(self.inputs) > 5 else ''}, got {points.shape}"
            )
        return (points[:, None], True) if points.ndim == 1 else (points, False)

    def _points_fixed(self, at, fixed, also_given):
        if at is None or also_given:
            raise TypeError("fixed= goes with at= (the other inputs), not with inputs given as arguments")
        fixed = np.ascontiguousarray(fixed, dtype=np.float64)
        if fixed.ndim != 1 or fixed.size > len(self.inputs):
            raise ValueError(f"fixed= needs shape (k,) with k <= {len(self.inputs)} inputs, got {fixed.shape}")
        points = np.asarray(at, dtype=np.float64)
        rest = len(self.inputs) - fixed.size
        if points.ndim not in (1, 2) or points.shape[0] != rest:
            shapes = f"({rest},) or ({rest}, B)"
            raise ValueError(f"with {fixed.size} fixed inputs, at= needs shape {shapes}, got {points.shape}")
        return (Batch(fixed, points[:, None]), True) if points.ndim == 1 else (Batch(fixed, points), False)

    def _shape(self, outputs, scalar):
        """The outputs (one row per output) rebuilt in the traced result's shape; a batch axis first for a batch."""

        def leaf(rows, shape):
            if not shape:
                return rows[0]
            if scalar:
                return np.array(rows, dtype=np.float64).reshape(shape)
            return np.array(rows, dtype=np.float64).T.reshape((-1, *shape))

        return rebuild(self._tree, outputs[:, 0].tolist() if scalar else list(outputs), leaf)

    def _replay(self, points, output, retrace, wrt=None):
        """Outputs and gradients (lists of arrays (B,)) at ``points``, re-tracing flipped points if asked."""
        outputs, grads, flipped = self._program.run(points, output, wrt)
        if flipped is None:
            return outputs, grads
        if retrace is None:
            raise BranchError(self._program.branch_message(points, flipped))
        which = None if output is None else self._output_index(output)
        todo = np.flatnonzero(flipped >= 0)
        for variant in self._variants:
            todo = variant._fill(points, todo, which, outputs, grads, wrt)
        while todo.size:
            variant = self._retraced(retrace, points[:, todo[0]])
            left = variant._fill(points, todo, which, outputs, grads, wrt)
            if left.size and left[0] == todo[0]:
                raise ReplayError(f"re-tracing {self.name} at a point does not reproduce its own branches")
            todo = left
        return outputs, grads

    def _output_index(self, output):
        if output not in self.outputs:
            raise ReplayError("retrace= needs the differentiated node to be one of the program's outputs")
        return self.outputs.index(output)

    def _retraced(self, retrace, point):
        arguments = [point[rows] if isinstance(rows, np.ndarray) else float(point[rows])
                     for rows in self._argument_rows.values()]  # fmt: skip
        from .tape import compile  # the tape module mixes this class in: imported when first needed

        variant = compile(trace(retrace, *arguments), backend=self.backend)
        if list(variant.inputs) != list(self.inputs) or len(variant.outputs) != len(self.outputs):
            raise ReplayError(f"retrace= function has inputs {list(variant.inputs)}, the tape {list(self.inputs)}")
        self._variants.append(variant)
        return variant

    def _fill(self, points, todo, which, outputs, grads, wrt=None):
        """Replay columns ``todo`` of ``points`` here, fill in those on this branch; return the others."""
        if not todo.size:
            return todo
        output = None if which is None else self.outputs[which]
        sub_outputs, sub_grads, flipped = self._program.run(points[:, todo], output, wrt)
        ok = np.ones(todo.size, dtype=bool) if flipped is None else flipped < 0
        outputs[:, todo[ok]] = sub_outputs[:, ok]
        if grads is not None:
            grads[:, todo[ok]] = sub_grads[:, ok]
        return todo[~ok]


class Gradient(Mapping):
    """What :meth:`CompiledTape.gradient` returns: {input name: ∂output/∂input}, read from one array.

    A read-only mapping that compares equal to the dict :func:`pathad.gradient`
    returns; values are floats for one point, arrays (B,) for a batch; for an
    array argument of shape S, arrays of shape S, or ``(B, *S)`` for a batch.
    ``array`` holds all of them in input order, shape (inputs,) or (inputs, B),
    without building a dict (which, for thousands of inputs, costs more than
    the replay).

    Examples
    --------
    >>> from pathad import compile, trace
    >>> g = compile(trace(lambda x, y: x * y, 2.0, 3.0)).gradient(2.0, 3.0)
    >>> g, g["x"], g.array.tolist()
    ({'x': 3.0, 'y': 2.0}, 3.0, [3.0, 2.0])
    """

    __slots__ = ("_rows", "array")

    def __init__(self, rows: Mapping[str, int | np.ndarray], array: np.ndarray) -> None:
        self._rows, self.array = rows, array

    def __getitem__(self, name: str) -> float | np.ndarray:
        rows = self._rows[name]
        value = self.array[rows]
        if isinstance(rows, np.ndarray):  # an array argument: its shape, the batch axis first
            return value if self.array.ndim == 1 else np.moveaxis(value, -1, 0)
        return float(value) if self.array.ndim == 1 else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self):
        return repr(dict(self))


class Batch:
    """Points whose first inputs are the same at every point: ``fixed`` (k,) and ``rest`` (n - k, B).

    Stands in for the (n, B) array of points where replay takes one: column
    selections stay a :class:`Batch`, a single column is the full point, and
    numpy sees the full array.
    """

    def __init__(self, fixed, rest):
        self.fixed, self.rest = fixed, rest
        self.shape = (fixed.size + rest.shape[0], rest.shape[1])

    def __getitem__(self, key):
        _, columns = key  # replay only ever selects columns: points[:, columns]
        if isinstance(columns, numbers.Integral):
            return np.concatenate([self.fixed, self.rest[:, columns]])
        return Batch(self.fixed, self.rest[:, columns])

    def __array__(self, dtype=None, copy=None):
        repeated = np.broadcast_to(self.fixed[:, None], (self.fixed.size, self.shape[1]))
        return np.vstack([repeated, self.rest]).astype(dtype or np.float64, copy=False)


def mapped(ids, lookup):
    """``lookup`` applied to one id, or to each id of an int ndarray (keeping its shape)."""
    if not isinstance(ids, np.ndarray):
        return lookup(ids)
    return np.array([lookup(i) for i in ids.ravel().tolist()], dtype=np.int64).reshape(ids.shape)
