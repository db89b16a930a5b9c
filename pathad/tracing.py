"""Tracing: run an ordinary Python function on traced numbers and record its graph.

:func:`trace` calls the function with a :class:`Traced` number for each input.
Every arithmetic operation on a ``Traced`` (Python operators, :mod:`pathad`'s math
functions, numpy ufuncs) evaluates the value, evaluates the local partial of each
traced operand (from :data:`pathad.primitives.PRIMITIVES`) and appends one node and
one edge per traced operand to a :class:`Tape`.  Constants are not nodes, with
one exception: an output that is a plain number (``lambda x: 3.0``, a constant
element of a returned array) is recorded as a node of its own, so that it has a
place in the graph: a ``mul`` of the two constants ``value`` and ``1.0``, with
no in-edges.  Every consumer (drawings, files, replay, formulas) already
understands such a node; it depends on no input, so its derivatives are 0
(:attr:`Trace.constant_outputs` lists such outputs, and the derivative
functions warn about them).

Inputs may be numbers or numpy arrays of real numbers: an array becomes an
object array of traced inputs labeled ``v[0]``, ``W[1,2]`` (numpy's index
style), and the function may return arrays too.  :attr:`Trace.inputs` lists
every scalar input node by name; :attr:`Trace.arguments` keeps the shapes.

The tape is a handful of flat Python lists; :attr:`Trace.graph` turns it into a
``networkx.MultiDiGraph`` the first time it is asked for.  The derivatives do
not ask for it: :func:`pathad.solve` reads a trace's tape directly (see
:meth:`Tape.in_edges`).  A ``Traced`` refers to its tape but the tape never
refers back, so tracing creates no reference cycles for the garbage collector
to chase.

Examples
--------
>>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> tr.value
920.0
>>> tr.graph.number_of_nodes(), tr.graph.number_of_edges()
(7, 9)
>>> import numpy as np
>>> tr = trace(lambda W, v: W @ v, W=np.eye(2), v=np.array([3.0, 4.0]))
>>> list(tr.inputs)[:3], tr.arguments["v"].tolist(), tr.value.tolist()
(['W[0,0]', 'W[0,1]', 'W[1,0]'], [4, 5], [3.0, 4.0])
"""

import gc
import inspect
import itertools
import linecache
import math
import numbers
import operator
import os
import sys
import threading
import types
import warnings
import weakref
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, NamedTuple

import networkx as nx
import numpy as np

from .errors import DomainError, LostDerivativeError, MixedTraceError, NoDependenceError, UnknownNodeError
from .operators import METHODS, PrimitiveArithmetic
from .primitives import DOMAIN_ERRORS, FLOAT, PRIMITIVES
from .types import NodeRef

__all__ = ["Traced", "Guard", "Tape", "Trace", "trace", "scope", "apply", "resolve_node", "rebuild", "gc_paused"]


class Tape:
    """The flat record of one trace: nodes and edges in creation order.

    Node ``i`` is the i-th operation; its operands are earlier nodes, so creation
    order is a topological order.  Edge ``k`` goes from ``src[k]`` to ``dst[k]``,
    is the operand at position ``arg[k]`` and carries ``partial[k]``.  Tracing
    appends a node's edges right after its operands' nodes exist, so the edges
    are in head order and the edges into node v are one block
    (:meth:`in_edges`).
    """

    __slots__ = (
        "ops",
        "values",
        "labels",
        "consts",
        "src",
        "dst",
        "arg",
        "partial",
        "guards",
        "scopes",
        "_ends",
        "_tails",
    )

    def __init__(self):
        self.ops = []  # primitive name, or "input"
        self.values = []  # float value of each node
        self.labels = {}  # node -> user-visible name, only for named nodes
        self.consts = {}  # node -> ((position, constant), ...), only where constants occur
        self.src, self.dst, self.arg, self.partial = [], [], [], []
        self.guards = []  # Guard records: the branches the trace took
        self.scopes = []  # (name, first node, end node): the nodes recorded in a `with scope(name):` block
        # _ends[v + 1]: the number of edges once node v is recorded (kept by the recording methods; a tape
        # filled by other means leaves it short); _tails: the edges grouped by tail, made on first use
        self._ends = [0]
        self._tails = None

    def label(self, node):
        """The node's label: its user name, else ``v<id>``."""
        return self.labels.get(node, f"v{node}")

    def in_edges(self):
        """Block boundaries of the edges by head: the edges into node v are ``ends[v]`` to ``ends[v + 1] - 1``.

        None for a tape not written by tracing alone (one filled by hand, say),
        whose edges need not be in that order.

        Examples
        --------
        >>> tape = trace(lambda x, y: x * y + x, 2.0, 3.0).tape
        >>> tape.in_edges(), tape.src, tape.dst
        ([0, 0, 0, 2, 4], [0, 1, 2, 0], [2, 2, 3, 3])
        """
        ends = self._ends
        if len(ends) != len(self.ops) + 1 or ends[-1] != len(self.src):
            return None
        return ends

    def out_edges(self):
        """The edges grouped by tail: ``(starts, heads, edges)``, the edges out of node u being
        ``edges[starts[u]:starts[u + 1]]`` (in the tape's order), whose heads are ``heads[...]`` alike.

        Made on first use and kept (until the tape grows); None where :meth:`in_edges` is None.

        Examples
        --------
        >>> starts, heads, edges = trace(lambda x, y: x * y + x, 2.0, 3.0).tape.out_edges()
        >>> list(starts), list(heads), list(edges)
        ([0, 2, 3, 4, 4], [2, 3, 2, 3], [0, 3, 1, 2])
        """
        if self.in_edges() is None:
            return None
        n, m = len(self.ops), len(self.src)
        if self._tails is None or self._tails[0] != (n, m):
            self._tails = ((n, m), *_group_by_tail(self.src, self.dst, n))
        return self._tails[1:]

    def add_input(self, name, value):
        """Record an input node and return it as a :class:`Traced`."""
        node = len(self.ops)
        self.ops.append("input")
        self.values.append(value)
        self.labels[node] = name
        self._ends.append(len(self.src))
        traced = _new(Traced)
        traced._tape, traced._node, traced.value = self, node, value
        return traced

    def add_constant(self, value):
        """Record a node holding the number ``value`` (an output that depends on no input); return its id.

        It is a ``mul`` of the constants ``value`` and 1.0 without in-edges:
        an ordinary operation for every consumer of the graph, computing
        ``value`` exactly.
        """
        node = len(self.ops)
        self.ops.append("mul")
        self.values.append(value)
        self.consts[node] = ((0, value), (1, 1.0))
        self._ends.append(len(self.src))
        return node

    def describe(self, operand):
        """'x = 3.0' for a traced operand, '3.0' for a constant (used in error messages)."""
        if type(operand) is Traced:
            return f"{self.label(operand._node)} = {operand.value!r}"
        return repr(operand)


class Guard(NamedTuple):
    """A comparison the traced program made, and its outcome.

    ``left`` is a node id; the right side is the node ``right`` or, when that
    is None, the number ``constant``.  Replaying the program at another point
    takes the same branches only while every guard keeps its outcome.
    """

    op: str
    left: int
    right: int | None
    constant: float | None
    outcome: bool

    def describe(self, tape):
        """'x > 0.0' with the nodes' labels."""
        right = tape.label(self.right) if self.right is not None else repr(self.constant)
        return f"{tape.label(self.left)} {self.op} {right}"


class Traced(PrimitiveArithmetic):
    """A float whose arithmetic is recorded on a :class:`Tape`.

    Behaves like the float ``value`` in arithmetic, comparisons (recorded as
    guards, so ``if``/``while`` work and the trace keeps the branch it took),
    the functions of :mod:`pathad` and numpy ufuncs.  Anything that asks for a
    plain number (``float()``, ``int()``, ``math.sin``, a float ndarray) raises
    :class:`pathad.LostDerivativeError` instead of silently dropping the
    derivative; ``.value`` reads the number on purpose, recording no
    dependence (right for constants that cannot change the result, such as a
    log-sum-exp shift).  Traced values are not hashable, since ``==`` compares
    values.

    Examples
    --------
    >>> tr = trace(lambda x: x * x if x > 0 else -x, 3.0)
    >>> tr.value, [(g.describe(tr.tape), g.outcome) for g in tr.tape.guards]
    (9.0, [('x > 0.0', True)])
    """

    __slots__ = ("_tape", "_node", "value")

    def __init__(self, tape: Tape, node: int, value: float) -> None:
        self._tape = tape
        self._node = node
        self.value = value

    @property
    def node(self) -> int:
        """This value's node id in the trace's graph."""
        return self._node

    def named(self, label: object) -> "Traced":
        """Give this value's node a label (shown in drawings, usable in queries); returns self."""
        self._tape.labels[self._node] = str(label)
        return self

    def __repr__(self):
        return f"Traced({self.value!r}, {self._tape.label(self._node)!r})"

    def __format__(self, spec):
        """f"{x:.3f}" formats the value (printing takes nothing from the derivative)."""
        return format(self.value, spec) if spec else repr(self)

    # comparisons act on values and are recorded as guards
    def _compare(self, symbol, other, outcome):
        if isinstance(other, np.ndarray):  # elementwise: numpy calls back once per element
            return NotImplemented
        if type(other) is Traced:
            guard = Guard(symbol, self._node, other._node, None, outcome)
        else:
            guard = Guard(symbol, self._node, None, float(other), outcome)
        self._tape.guards.append(guard)
        return outcome

    def __lt__(self, other):
        return self._compare("<", other, _outcome(operator.lt, self, other))

    def __le__(self, other):
        return self._compare("<=", other, _outcome(operator.le, self, other))

    def __gt__(self, other):
        return self._compare(">", other, _outcome(operator.gt, self, other))

    def __ge__(self, other):
        return self._compare(">=", other, _outcome(operator.ge, self, other))

    def __eq__(self, other):
        if not isinstance(other, (Traced, numbers.Real)):
            return NotImplemented
        return self._compare("==", other, self.value == _value(other))

    def __ne__(self, other):
        if not isinstance(other, (Traced, numbers.Real)):
            return NotImplemented
        return self._compare("!=", other, self.value != _value(other))

    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose (== compares values)

    def __bool__(self):
        return self._compare("!=", 0, self.value != 0)

    def _lost(self, asked):  # float(), int(), ... refused by PrimitiveArithmetic: the derivative would be lost
        return LostDerivativeError(
            f"{asked} of the traced value {self._tape.describe(self)} (node v{self._node}) would drop its "
            f"derivative{_asking_line()}. For math functions use pathad.sin or np.sin (and the like); "
            "for arrays use dtype=object or pathad.zeros(...); to take the number as a deliberate constant, "
            f"which records no dependence, write {self._tape.label(self._node)}.value"
        )


def _asking_line():
    """', at file.py:12: y = math.sin(x)' for the innermost frame outside pathad and numpy (or '')."""
    frame = sys._getframe(2)
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return ""
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
    return f", at {where}: {line}" if line else f", at {where}"


def _is_internal(filename):
    return filename.startswith(_INTERNAL)


_INTERNAL = (os.path.dirname(__file__) + os.sep, os.path.dirname(np.__file__) + os.sep)


def _value(operand):
    return operand.value if type(operand) is Traced else operand


def _outcome(compare, traced, other):
    """compare(traced's value, other's), or None for arrays (which compare elementwise)."""
    if isinstance(other, np.ndarray):
        return None
    return compare(traced.value, _value(other))


def apply(primitive, *operands):
    """Apply a primitive, recording it when any operand is traced.

    With no traced operand this is plain float arithmetic.  Returns
    ``NotImplemented`` for operands that are neither traced nor real numbers, so
    Python's operator protocol can try the other side.

    Examples
    --------
    >>> from pathad.primitives import PRIMITIVES
    >>> apply(PRIMITIVES["mul"], 3.0, 5.0)
    15.0
    """
    known = _RECORDERS.get(primitive.name)
    if known is not None and known[0] is primitive and len(operands) == known[1]:
        return known[2](*operands)
    return _apply(primitive, operands)


Traced._apply = staticmethod(apply)  # the hook through which every operator of a Traced records


def _apply(primitive, operands):
    """:func:`apply` one operand at a time: the reference the fast recorders below fall back on."""
    tape = None
    values = []
    for operand in operands:
        if type(operand) is Traced:
            if tape is None:
                tape = operand._tape
            elif operand._tape is not tape:
                raise MixedTraceError(
                    f"{primitive.name}: operands come from two different traces; trace one function at a time"
                )
            values.append(operand.value)
        elif isinstance(operand, numbers.Real):
            values.append(float(operand))
        else:
            return NotImplemented
    if tape is None:
        return _evaluate(primitive, values, None, operands)
    return _record(tape, primitive, operands, values)


def _record(tape, primitive, operands, values):
    node = len(tape.ops)
    result = _evaluate(primitive, values, tape, operands)
    consts = None
    for position, operand in enumerate(operands):
        if type(operand) is Traced:
            partial = _local_partial(primitive, position, values, result, tape, operands)
            tape.src.append(operand._node)
            tape.dst.append(node)
            tape.arg.append(position)
            tape.partial.append(partial)
        else:
            consts = (consts or ()) + ((position, values[position]),)
    tape.ops.append(primitive.name)
    tape.values.append(result)
    tape._ends.append(len(tape.src))
    if consts:
        tape.consts[node] = consts
    return Traced(tape, node, result)


# --- the fast recorders: one closure per primitive and arity, the same work as _apply + _record -------
#
# They cover the common cases (a Traced with a Traced of its own tape, or with a float or an int) and
# do the arithmetic first: when anything is unusual (another operand type, another tape, a rule that
# raises, a value or partial that is not finite) nothing has been recorded yet, and _apply does it
# again one step at a time, raising exactly its errors.  One test covers the three numbers:
# r + p + q is finite only if each is (a false alarm, a sum overflowing, just takes the slow path).

_new = object.__new__
_isfinite = math.isfinite


def _binary_recorder(primitive):
    """(record(a, b), reflected(b, a)) for a binary primitive, a or b traced."""
    name, rule, (left, right) = primitive.name, primitive.value, primitive.partials

    def record(x, y):
        if type(x) is Traced and type(y) is Traced:
            tape, a, b = x._tape, x.value, y.value
            if y._tape is not tape:
                return _apply(primitive, (x, y))  # the MixedTraceError
            try:
                r = float(rule(FLOAT, a, b))
                p = float(left(FLOAT, a, b, r))
                q = float(right(FLOAT, a, b, r))
                finite = _isfinite(r + p + q)
            except Exception:
                finite = False
            if not finite:
                return _apply(primitive, (x, y))
            node = len(tape.ops)
            tape.src += (x._node, y._node)
            tape.dst += (node, node)
            tape.arg += _BOTH
            tape.partial += (p, q)
        else:  # one traced operand and one number: the operand at ``position``, the number at the other
            if type(x) is Traced and (type(y) is float or type(y) is int):
                tape, traced, position, a, b = x._tape, x, 0, x.value, float(y)
                constant = (1, b)
            elif type(y) is Traced and (type(x) is float or type(x) is int):
                tape, traced, position, a, b = y._tape, y, 1, float(x), y.value
                constant = (0, a)
            else:
                return _apply(primitive, (x, y))
            try:
                r = float(rule(FLOAT, a, b))
                p = float((right if position else left)(FLOAT, a, b, r))
                finite = _isfinite(r + p)
            except Exception:
                finite = False
            if not finite:
                return _apply(primitive, (x, y))
            node = len(tape.ops)
            tape.src.append(traced._node)
            tape.dst.append(node)
            tape.arg.append(position)
            tape.partial.append(p)
            tape.consts[node] = (constant,)
        tape.ops.append(name)
        tape.values.append(r)
        tape._ends.append(len(tape.src))
        traced = _new(Traced)  # not Traced(...): the same three fields without a call to __init__
        traced._tape, traced._node, traced.value = tape, node, r
        return traced

    def reflected(self, other):
        return record(other, self)

    return record, reflected


def _unary_recorder(primitive):
    """record(a) for a unary primitive, a traced."""
    name, rule, (derivative,) = primitive.name, primitive.value, primitive.partials

    def record(x):
        if type(x) is not Traced:
            return _apply(primitive, (x,))
        a = x.value
        try:
            r = float(rule(FLOAT, a))
            p = float(derivative(FLOAT, a, r))
            finite = _isfinite(r + p)
        except Exception:
            finite = False
        if not finite:
            return _apply(primitive, (x,))
        tape = x._tape
        node = len(tape.ops)
        tape.src.append(x._node)
        tape.dst.append(node)
        tape.arg.append(0)
        tape.partial.append(p)
        tape.ops.append(name)
        tape.values.append(r)
        tape._ends.append(len(tape.src))
        traced = _new(Traced)
        traced._tape, traced._node, traced.value = tape, node, r
        return traced

    return record


_BOTH = (0, 1)


def _recorders():
    """name -> (primitive, arity, record, reflected) for every unary and binary primitive (reflected: None if
    unary)."""
    recorders = {}
    for primitive in PRIMITIVES.values():
        if primitive.arity == 2:
            recorders[primitive.name] = (primitive, 2, *_binary_recorder(primitive))
        elif primitive.arity == 1:
            recorders[primitive.name] = (primitive, 1, _unary_recorder(primitive), None)
    return recorders


_RECORDERS = _recorders()

# Traced's operators and element methods are the recorders themselves (PrimitiveArithmetic's generic
# ones would go through _apply): x * y calls record(x, y), 2 * x reflected(x, 2), x.exp() record(x).
for _method, (_primitive, _kind) in METHODS.items():
    _, _, _record_it, _reflected = _RECORDERS[_primitive.name]
    setattr(Traced, _method, _reflected if _kind == "reflected" else _record_it)
del _method, _primitive, _kind, _record_it, _reflected


def _evaluate(primitive, values, tape, operands):
    try:
        result = primitive.value(FLOAT, *values)
    except DOMAIN_ERRORS as exc:
        raise _domain_error(primitive, tape, operands, failure(exc, "the result")) from None
    if not math.isfinite(result):
        reason = (
            f"the result overflows: it is too large for a float ({result})"
            if math.isinf(result)
            else (f"the result is {result}")
        )
        raise _domain_error(primitive, tape, operands, reason)
    return float(result)


def _local_partial(primitive, position, values, result, tape, operands):
    try:
        partial = primitive.partials[position](FLOAT, *values, result)
    except DOMAIN_ERRORS as exc:
        partial = exc
    if isinstance(partial, OverflowError) or (not isinstance(partial, Exception) and math.isinf(partial)):
        reason = f"the derivative in operand {position} overflows: it is too large for a float"
        raise _domain_error(primitive, tape, operands, reason)
    if isinstance(partial, Exception) or not math.isfinite(partial):
        shown = _reason(partial) if isinstance(partial, Exception) else partial
        reason = f"the derivative in operand {position} does not exist there ({shown})"
        raise _domain_error(primitive, tape, operands, reason)
    return float(partial)


def failure(exc, what, where=""):
    """Why a float rule raised ``exc``, in words: an overflow is not a value that does not exist.

    >>> failure(OverflowError(34, "Numerical result out of range"), "the result")
    'the result overflows: it is too large for a float'
    >>> failure(ValueError("math domain error"), "the result")
    'no real value (math domain error)'
    """
    if isinstance(exc, OverflowError):
        return f"{what}{where} overflows: it is too large for a float"
    return f"no real value{where} ({_reason(exc)})"


def _reason(exc):
    """The text of an exception without an errno tuple: OverflowError(34, '...') says only '...'."""
    args = exc.args
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return args[1]
    return str(exc)


def _domain_error(primitive, tape, operands, reason):
    if tape is None:
        where, shown = "", ", ".join(repr(o) for o in operands)
    else:
        where, shown = f" at node v{len(tape.ops)}", ", ".join(tape.describe(o) for o in operands)
    plural = "s" if len(operands) > 1 else ""
    return DomainError(f"{primitive.name}{where} with operand{plural} {shown}: {reason}")


class Trace:
    """One recorded run of a function: its graph, inputs, outputs and value.

    Attributes
    ----------
    name : str
        The function's name (``"h"``); a single output node is labeled with it.
    inputs : dict
        Input name -> node id for every scalar input node, in the function's
        argument order; an array argument ``v`` contributes ``v[0]``, ``v[1]``, ...
    arguments : dict
        Argument name -> node id (a number) or integer ndarray of node ids
        shaped like the array given: what shapes gradients.
    outputs : list
        Output node ids in the order the function returned them (arrays
        flattened in C order).
    tape : Tape
        The flat record the graph is built from.

    Examples
    --------
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> tr = trace(h, 3.0, 5.0)
    >>> tr.inputs, tr.output, tr.value
    ({'x': 0, 'y': 1}, 6, 920.0)
    >>> import numpy as np
    >>> tr = trace(lambda v: (v * v, v.sum()), np.array([1.0, 2.0]))
    >>> tr.inputs, tr.arguments["v"].tolist(), tr.outputs, tr.value
    ({'v[0]': 0, 'v[1]': 1}, [0, 1], [2, 3, 4], (array([1., 4.]), 3.0))
    """

    def __init__(
        self, name: str, tape: Tape, inputs: dict[str, int], outputs: list[int], structure: Any,
        arguments: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self.tape = tape
        self.inputs = inputs
        self.outputs = outputs
        self.arguments = dict(inputs) if arguments is None else arguments
        # how the returned value is rebuilt from the flat outputs: an output tree (see _output_tree), or
        # the flat forms older files hold (None, "tuple", "list" or dict keys)
        self._tree = _as_tree(structure, len(outputs))

    @property
    def _structure(self):
        """The returned shape in the flat form (None, "tuple", "list" or dict keys), or "tree" when it nests."""
        return _flat_structure(self._tree)

    @property
    def output(self) -> int:
        """The single output node (an error if the function returned several)."""
        if len(self.outputs) != 1:
            raise ValueError(f"{self.name} has {len(self.outputs)} outputs; use Trace.outputs or name one with of=")
        return self.outputs[0]

    @property
    def value(self) -> Any:
        """The function's result as floats, in the shape it was returned (float ndarrays for arrays)."""
        return rebuild(self._tree, [self.tape.values[n] for n in self.outputs])

    @property
    def constant_outputs(self) -> tuple[str, ...]:
        """The labels of the outputs that depend on no input (their derivatives are all 0).

        Examples
        --------
        >>> trace(lambda x: (x, 2.0), 1.0).constant_outputs
        ('<lambda>[1]',)
        """
        return tuple(self.label(n) for n in self._independent(self.outputs))

    def _independent(self, nodes):
        """The nodes among ``nodes`` (each once) that depend on no input: not inputs, and without edges in."""
        tape = self.tape
        ends = tape._ends
        if "graph" in self.__dict__ or len(ends) != len(tape.ops) + 1 or ends[-1] != len(tape.src):  # in_edges()
            pred, data = self.graph._pred, self.graph._node  # not in_degree: networkx caches that view, a cycle
            return [n for n in dict.fromkeys(nodes) if not pred[n] and data[n].get("op") != "input"]
        ops = tape.ops
        return list(dict.fromkeys([n for n in nodes if ends[n] == ends[n + 1] and ops[n] != "input"]))

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The computation graph as a ``networkx.MultiDiGraph`` (built on first use).

        Nodes are ints in creation order with attributes ``op``, ``value``,
        ``label`` and ``consts`` (the constant operands as (position, value)
        pairs); an edge u→v per use of u as an operand of v, keyed by the operand
        position, with attributes ``partial`` and ``arg``.

        Derivatives and :func:`pathad.solve` do not need it (they read the
        tape); once built, they read it instead, so changes made to it count.
        """
        with gc_paused():
            return _build_graph(self.tape)

    def node(self, ref: NodeRef) -> int:
        """Resolve an input name, a node label or a node id to a node id."""
        return resolve_node(self, ref)

    def label(self, node: int) -> str:
        """The display name of a node."""
        return self.tape.label(node)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """Jupyter shows a trace as its drawing (see :func:`pathad.draw`)."""
        from .draw import repr_mimebundle

        return repr_mimebundle(self, include, exclude)

    def __repr__(self):
        tape = self.tape
        value = self.value
        if isinstance(value, np.ndarray) and value.size > 6:
            value = f"<array of shape {value.shape}>"
        else:
            value = repr(value)
        return (
            f"<Trace {self.name}({', '.join(self.arguments)}) = {value}: {len(tape.ops)} nodes, {len(tape.src)} edges>"
        )


# --- output trees: how a returned value is rebuilt from the flat output list ------------------------
#
# A tree is None (one number), ("array", shape) (prod(shape) numbers, C order), or ("tuple", children),
# ("list", children), ("dict", ((key, child), ...)).


def _as_tree(structure, count):
    """An output tree from a tree or from the flat structures (None, "tuple", "list", dict keys)."""
    if structure is None or (isinstance(structure, tuple) and structure and structure[0] in _TREE_KINDS):
        return structure
    if structure in ("tuple", "list"):
        return (structure, (None,) * count)
    return ("dict", tuple((key, None) for key in structure))


_TREE_KINDS = ("array", "tuple", "list", "dict")


def _flat_structure(tree):
    if tree is None:
        return None
    kind, content = tree
    if kind == "array":
        return "tree"
    if kind in ("tuple", "list"):
        return kind if all(child is None for child in content) else "tree"
    return tuple(key for key, _ in content) if all(child is None for _, child in content) else "tree"


def rebuild(tree, values, leaf=None):
    """The nested result an output tree describes, from the flat ``values`` (one per output).

    ``leaf(values, shape)`` builds one leaf from its values (shape ``()`` for
    a number); by default a float, or a float ndarray of the shape.

    Examples
    --------
    >>> rebuild(("tuple", (None, ("array", (2,)))), [1.0, 2.0, 3.0])
    (1.0, array([2., 3.]))
    """
    return _build(tree, values, _float_leaf if leaf is None else leaf, [0])


def _build(node, values, leaf, position):
    # module-level recursion (a recursive closure would be a reference cycle: tracing makes none)
    start = position[0]
    if node is None:
        position[0] += 1
        return leaf(values[start : start + 1], ())
    kind, content = node
    if kind == "array":
        position[0] += math.prod(content)
        return leaf(values[start : position[0]], tuple(content))
    if kind == "dict":
        return {key: _build(child, values, leaf, position) for key, child in content}
    items = [_build(child, values, leaf, position) for child in content]
    return tuple(items) if kind == "tuple" else items


def _float_leaf(values, shape):
    if shape == ():
        return values[0]
    return np.array(values, dtype=np.float64).reshape(shape)


def _build_graph(tape):
    """The tape as a MultiDiGraph, filled through networkx's adjacency dicts.

    Equivalent to ``add_nodes_from`` + ``add_edges_from`` (a test checks that),
    several times faster: the tape already is a valid topologically ordered
    edge list, so the per-edge checks networkx makes are not needed.
    """
    n = len(tape.ops)
    consts, labels = tape.consts, tape.labels
    nodes = {
        node: {"op": op, "value": value, "label": labels.get(node, f"v{node}"), "consts": consts.get(node, ())}
        for node, (op, value) in enumerate(zip(tape.ops, tape.values))
    }
    for node, path in _scope_paths(tape.scopes, n).items():
        nodes[node]["scope"] = path
    succ = {node: {} for node in range(n)}
    pred = {node: {} for node in range(n)}
    for u, v, k, p in zip(tape.src, tape.dst, tape.arg, tape.partial):
        edges = succ[u].get(v)
        if edges is None:  # the same {key: data} dict sits in succ and pred, as networkx keeps it
            succ[u][v] = pred[v][u] = {k: {"partial": p, "arg": k}}
        else:
            edges[k] = {"partial": p, "arg": k}
    graph = nx.MultiDiGraph()
    graph._node.update(nodes)
    graph._succ.update(succ)  # graph._adj is graph._succ
    graph._pred.update(pred)
    return graph


def _scope_paths(scopes, n):
    """node -> "outer/inner", the names of the scopes it was recorded in (nodes outside every scope: absent)."""
    paths = {}
    for name, first, end in sorted(scopes, key=lambda s: (s[1], -s[2])):  # outer scopes first
        for node in range(first, min(end, n)):
            paths[node] = f"{paths[node]}/{name}" if node in paths else name
    return paths


class _Running(threading.local):
    """The tapes of the traces running now in this thread, innermost last: where :func:`scope` records."""

    def __init__(self):
        self.tapes = []


_RUNNING = _Running()


@contextmanager
def scope(name: str) -> Iterator[None]:
    """Name the operations traced inside the block: their nodes get the graph attribute ``scope``.

    Scopes nest (``"layer1/neuron3"``); :func:`pathad.draw` can collapse a scope
    (``collapse="layer1"``) into the edges from its operands to its results,
    each labeled with its path value.  Outside a trace the block runs as it is.

    Examples
    --------
    >>> def f(x, y):
    ...     with scope("hidden"):
    ...         u = x * y + x
    ...     return u * u
    >>> tr = trace(f, 2.0, 3.0)
    >>> [tr.graph.nodes[n].get("scope") for n in tr.graph]
    [None, None, 'hidden', 'hidden', None]
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"a scope's name is a non-empty str without '/', got {name!r}")
    tape = _RUNNING.tapes[-1] if _RUNNING.tapes else None
    first = len(tape.ops) if tape is not None else 0
    try:
        yield
    finally:
        if tape is not None:
            tape.scopes.append((name, first, len(tape.ops)))


def _group_by_tail(src, dst, n):
    """(starts, heads, edges) of :meth:`Tape.out_edges`, as int64 arrays: the edges sorted stably by tail."""
    m = len(src)
    if m < 4096:  # numpy's fixed cost is more than the work
        edges = sorted(range(m), key=src.__getitem__)
        counts = [0] * (n + 1)
        for u in src:
            counts[u + 1] += 1
        starts = array("q", itertools.accumulate(counts))
        return starts, array("q", [dst[k] for k in edges]), array("q", edges)
    tails = np.fromiter(src, dtype=np.int64, count=m)
    order = np.argsort(tails, kind="stable")
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=starts[1:])
    heads = np.fromiter(dst, dtype=np.int64, count=m)[order]
    return array("q", starts.tobytes()), array("q", heads.tobytes()), array("q", order.astype(np.int64).tobytes())


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for a block (if it was running).

    Tracing allocates millions of small acyclic objects; without the pause the
    collector keeps re-scanning all of them for cycles that cannot exist.
    Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def described(obj):
    """What ``obj`` is, for a message: 'None', 'int 42', 'networkx.DiGraph', 'str 'h''.

    >>> described(None), described(42), described(nx.DiGraph())
    ('None', 'int 42', 'networkx.DiGraph')
    """
    if obj is None:
        return "None"
    kind = type(obj)
    if kind.__module__.startswith("networkx"):
        return f"networkx.{kind.__name__}"
    if isinstance(obj, (numbers.Number, str)):
        text = repr(obj)
        return f"{kind.__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    return kind.__name__


def check_trace(obj, function):
    """A TypeError unless ``obj`` is a :class:`Trace`: what ``function`` needs, what it got, and what to do."""
    if isinstance(obj, Trace):
        return
    hint = " (from pathad.trace(f, ...))"
    if isinstance(obj, nx.DiGraph):
        hint += (
            "; a networkx graph has no inputs and outputs to differentiate: sweep it with "
            "pathad.solve(G, source), or list its paths with pathad.paths(G, source, target)"
        )
    elif callable(obj):
        hint += f"; trace the function first: {function}(pathad.trace(f, ...))"
    raise TypeError(f"{function} needs a pathad.Trace{hint}, got {described(obj)}")


def check_graph(obj, function):
    """A TypeError unless ``obj`` is a :class:`Trace`, a networkx DiGraph or MultiDiGraph."""
    if isinstance(obj, (Trace, nx.DiGraph)):  # a MultiDiGraph is a DiGraph
        return
    hint = f"; trace the function first: {function}(pathad.trace(f, ...), ...)" if callable(obj) else ""
    raise TypeError(f"{function} needs a pathad.Trace or a networkx DiGraph/MultiDiGraph{hint}, got {described(obj)}")


def check_ref(ref, what):
    """A TypeError for a reference that cannot name a node: a bool (True is not node 1), a list, a dict."""
    if isinstance(ref, bool) or ref is None or isinstance(ref, (list, dict, set)):
        raise TypeError(f"{what} must be a node: an input name, a label or a node id, got {described(ref)}")


def resolve_node(obj, ref, what=None):
    """Turn an input name, a label or a node id into a node id of ``obj``'s graph.

    ``obj`` is a :class:`Trace` or a networkx graph.  In a Trace, input names
    come first, then the function's name (its single output), then labels,
    then node ids; in a plain graph a node is itself first, then a label.  An
    unknown reference raises :class:`UnknownNodeError` listing what is known.
    A Trace whose graph has not been built answers from its tape.

    Examples
    --------
    >>> tr = trace(lambda x, y: x * y, 2.0, 3.0)
    >>> resolve_node(tr, "y"), resolve_node(tr, 2)
    (1, 2)
    >>> resolve_node(nx.DiGraph([("s", "t")]), "s")
    's'
    """
    if isinstance(ref, bool):  # True == 1, but a bool is not a node id: of=True is a mistake, not node 1
        check_ref(ref, what or "a node reference")
    if isinstance(obj, Trace):
        tape, on_tape = obj.tape, "graph" not in obj.__dict__
        if on_tape and type(ref) is int and 0 <= ref < len(tape.ops):
            return ref
        if isinstance(ref, str) and ref in obj.inputs:
            return obj.inputs[ref]
        if isinstance(ref, str) and ref == obj.name and len(obj.outputs) == 1:
            return obj.outputs[0]
        graph = None if on_tape else obj.graph
    else:
        graph = obj
        if ref in graph:
            return ref
    if graph is None:  # a trace's tape: the same labels and node ids as its graph
        labeled = _labeled(tape, ref) if isinstance(ref, str) else []
        node = _node_number(ref, len(tape.ops))
    else:
        labeled = [n for n, label in graph.nodes(data="label") if label == ref] if isinstance(ref, str) else []
        node = ref if ref in graph else None
    if len(labeled) == 1:
        return labeled[0]
    if len(labeled) > 1:
        raise UnknownNodeError(f"label {ref!r} names {len(labeled)} nodes {labeled}; use a node id")
    if node is not None:
        return node
    if isinstance(obj, Trace):
        if isinstance(ref, str) and isinstance(obj.arguments.get(ref), np.ndarray):
            example = next(iter(_element_names(ref, obj.arguments[ref].shape)), f"{ref}[0]")
            raise UnknownNodeError(
                f"{ref!r} is an array input of shape {obj.arguments[ref].shape}, not one node; "
                f"name an element such as {example!r}"
            )
        raise UnknownNodeError(f"no node {ref!r}; {_known_names(obj, graph)}")
    nodes = list(graph)
    labels = [label for n, label in graph.nodes(data="label") if label is not None and label != n]
    known = f"the nodes are {_listed(nodes)}" + (f", the labels {_listed(labels)}" if labels else "")
    raise UnknownNodeError(f"no node {ref!r} in the graph (nor a node labeled so); {known}")


def _known_names(tr, graph):
    """'the inputs are [...], the outputs are [...], the labels are [...]': what names a trace's nodes."""
    outputs = [tr.label(n) for n in tr.outputs]
    taken = set(tr.inputs) | set(outputs)
    if graph is None:
        named = tr.tape.labels.items()
    else:
        named = ((n, label) for n, label in graph.nodes(data="label") if label is not None and label != f"v{n}")
    labels = list(dict.fromkeys(label for _, label in named if label not in taken))
    parts = [f"the inputs are {_listed(list(tr.inputs))}", f"the outputs are {_listed(outputs)}"]
    if labels:
        parts.append(f"the labels are {_listed(labels)}")
    return ", ".join(parts) + " (or a node id)"


def _listed(names, most=8):
    """ "['x', 'y']", or the first ``most`` and how many there are in all."""
    shown = ", ".join(map(repr, names[:most]))
    return f"[{shown}, ... ({len(names)} in all)]" if len(names) > most else f"[{shown}]"


def _labeled(tape, label):
    """The nodes of the tape labeled ``label``, in id order (a node without a name is labeled v<id>)."""
    nodes = [node for node, name in tape.labels.items() if name == label]
    digits = label[1:]
    if label[:1] == "v" and digits.isdecimal() and digits == str(int(digits)):  # v12: node 12, unless named
        node = int(digits)
        if node < len(tape.ops) and node not in tape.labels:
            nodes.append(node)
    return sorted(nodes)


def _node_number(ref, n):
    """``ref`` as a node id of a tape of ``n`` nodes (a number equal to one, as networkx finds it), or None."""
    if isinstance(ref, numbers.Real):
        try:
            if ref == int(ref) and 0 <= ref < n:
                return int(ref)
        except (ValueError, OverflowError):  # nan, inf
            return None
    return None


def trace(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Trace:
    """Run ``f`` on traced numbers and return its :class:`Trace`.

    Inputs are given positionally or by keyword, as for ``f`` itself; the node
    names come from ``f``'s signature.  An input is a real number, or a numpy
    array of real numbers, which ``f`` receives as an object array of traced
    inputs named ``v[0]``, ``W[1,2]`` (a 0-d array is a number).  ``f`` may
    return a value, an array, or tuples, lists and dicts of them.  An output
    that is a plain number depends on no input: it is recorded as a constant
    node (its derivatives are 0), and when no output depends on any input a
    ``UserWarning`` says so.

    Examples
    --------
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> trace(h, x=3.0, y=5.0).value
    920.0
    >>> trace(lambda a, b: {"sum": a + b, "prod": a * b}, 2.0, 3.0).value
    {'sum': 5.0, 'prod': 6.0}
    >>> tr = trace(lambda W, v: W @ v, np.eye(2), np.array([1.0, 2.0]))
    >>> tr.value, [tr.label(n) for n in tr.outputs]
    (array([1., 2.]), ['<lambda>[0]', '<lambda>[1]'])
    """
    name = getattr(f, "__name__", "f")
    tape = Tape()
    arguments: dict[str, Any] = {}
    call_args, call_kwargs = _traced_arguments(f, name, args, kwargs, tape, arguments)
    inputs = {tape.labels[node]: node for node in range(len(tape.ops))}
    if not inputs:
        raise TypeError(f"{name} was given no inputs to trace")
    collecting = gc.isenabled()  # as gc_paused(), without a context manager's cost on small traces
    gc.disable()
    _RUNNING.tapes.append(tape)
    try:
        result = f(*call_args, **call_kwargs)
    finally:
        _RUNNING.tapes.pop()
        if collecting:
            gc.enable()
    if type(result) is Traced and result._tape is tape:  # one traced number: what _collect_outputs finds
        node = result._node
        outputs, tree = [node], None
        if node not in tape.labels:
            tape.labels[node] = name
        constant = False  # a Traced is an input or has operands (tracing records constants as numbers)
    else:
        outputs, tree = _collect_outputs(name, result, tape)
        _label_outputs(tape, name, outputs, tree)
        constant = None
    tr = Trace(name, tape, inputs, outputs, tree, arguments)
    if constant is None and len(tr._independent(outputs)) == len(set(outputs)):
        constants = tr.constant_outputs
        warnings.warn(
            f"no output of {name} depends on any input: {', '.join(constants)} "
            f"{'is a constant' if len(constants) == 1 else 'are constants'}, so every derivative is 0",
            UserWarning,
            stacklevel=2,
        )
    return tr


def _traced_arguments(f, name, args, kwargs, tape, arguments):
    """Bind the inputs to ``f``'s parameters, each number (array) replaced by traced input nodes.

    ``arguments`` gets argument name -> node id, or ndarray of node ids for an array.
    """
    names = _plain_parameters(f, len(args), kwargs)
    if names is not None:  # the common case, bound without inspect.signature
        values = [*args, *(kwargs[param] for param in names[len(args) :])] if kwargs else args
        inputs = []
        for param, value in zip(names, values):
            if type(value) is float and value - value == 0.0:  # a finite float: an input as it is
                traced = tape.add_input(param, value)
                arguments[param] = traced._node
            else:
                traced = _traced_input(tape, name, param, value)
                arguments[param] = _node_ids(traced)
            inputs.append(traced)
        return inputs, {}

    def traced(arg, value):
        result = _traced_input(tape, name, arg, value)
        arguments[arg] = _node_ids(result)
        return result

    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # no signature (some builtins): inputs x0, x1, ...
        if kwargs:
            raise TypeError(f"{name} has no signature; give its inputs positionally") from None
        return [traced(f"x{i}", a) for i, a in enumerate(args)], {}
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"cannot call {name} with the given inputs: {exc}") from None
    for param, value in list(bound.arguments.items()):
        kind = signature.parameters[param].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:  # *xs: inputs xs0, xs1, ...
            result = tuple(traced(f"{param}{i}", v) for i, v in enumerate(value))
        elif kind is inspect.Parameter.VAR_KEYWORD:
            result = {key: traced(key, v) for key, v in value.items()}
        else:
            result = traced(param, value)
        bound.arguments[param] = result
    return bound.args, bound.kwargs


def _plain_parameters(f, n_args, kwargs):
    """The parameter names of a plain Python function when the inputs give each exactly once, else None.

    A plain function: no defaults, no ``*args``/``**kwargs``, no keyword-only or
    positional-only parameters, no ``__signature__`` or ``__wrapped__``: what
    ``inspect.signature(f).bind`` would bind is then plain to see.  Anything
    else (and every mistake) goes through :mod:`inspect`, which words the errors.
    """
    if type(f) is not types.FunctionType or f.__defaults__ or f.__kwdefaults__ or f.__dict__:
        return None  # (a __dict__ may hold __signature__ or __wrapped__)
    names = _PLAIN_CODE.get(f.__code__, False)
    if names is False:
        names = _PLAIN_CODE[f.__code__] = _plain_names(f.__code__)
    if names is None or n_args + len(kwargs) != len(names):
        return None
    if kwargs and (n_args > len(names) or not kwargs.keys() <= set(names[n_args:])):
        return None
    return names


def _plain_names(code):
    """A code object's parameter names if it takes positional-or-keyword parameters only, else None."""
    if (
        code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
        or code.co_kwonlyargcount
        or code.co_posonlyargcount
    ):
        return None
    return code.co_varnames[: code.co_argcount]


#: code object -> :func:`_plain_names` (code objects live as long as their functions' module; a weak dict
#: lets the code of a lambda made per call go)
_PLAIN_CODE: "weakref.WeakKeyDictionary[types.CodeType, tuple[str, ...] | None]" = weakref.WeakKeyDictionary()


def _node_ids(traced):
    if type(traced) is Traced:
        return traced._node
    return np.array([t._node for t in traced.flat], dtype=np.int64).reshape(traced.shape)


def _element_names(arg, shape):
    """'v[0]', 'v[1]', ... or 'W[0,0]', 'W[0,1]', ...: numpy index style, C order."""
    return (f"{arg}[{','.join(map(str, index))}]" for index in np.ndindex(*shape))


def _traced_input(tape, name, arg, value):
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _traced_number(tape, name, arg, value[()], f"a 0-d {value.dtype} array")
        names = list(_element_names(arg, value.shape))
        if value.dtype.kind not in "iuf" and value.dtype != object:
            first = f"{names[0]} = {value.flat[0]!r}" if value.size else f"dtype {value.dtype}"
            raise TypeError(
                f"input {arg!r} of {name} must be an array of real numbers, got a {value.dtype} array ({first})"
            )
        nodes = [_traced_number(tape, name, element, number) for element, number in zip(names, value.flat)]
        traced = np.empty(value.shape, dtype=object)
        traced.ravel()[:] = nodes
        return traced
    if isinstance(value, (list, tuple)):
        raise TypeError(
            f"input {arg!r} of {name} must be a real number or a numpy array, got {type(value).__name__} "
            f"{_short(value)} (for an array input pass np.array(...))"
        )
    return _traced_number(tape, name, arg, value)


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _traced_number(tape, name, arg, value, what=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        shown = (what or type(value).__name__) if isinstance(value, np.generic) else type(value).__name__
        raise TypeError(f"input {arg!r} of {name} must be a real number, got {shown} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"input {arg!r} of {name} must be finite, got {value!r}")
    return tape.add_input(arg, float(value))


def _collect_outputs(name, result, tape):
    """The flat output nodes and the output tree of what ``f`` returned; plain numbers become constant nodes."""
    outputs = []
    tree = _collect(result, name, 0, tape, outputs)
    return outputs, tree


def _collect(value, where, depth, tape, outputs):
    if depth > 64:
        raise NoDependenceError(f"{where}: the result nests more than 64 levels deep (or contains itself)")
    if isinstance(value, np.ndarray) and value.ndim > 0:
        for index, element in np.ndenumerate(value):
            outputs.append(_output_node(element, f"{where}[{','.join(map(str, index))}]", tape))
        return ("array", tuple(value.shape))
    if isinstance(value, np.ndarray):
        value = value[()]
    if isinstance(value, dict):
        return ("dict", tuple((k, _collect(v, f"{where}[{k!r}]", depth + 1, tape, outputs)) for k, v in value.items()))
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return (kind, tuple(_collect(v, f"{where}[{i}]", depth + 1, tape, outputs) for i, v in enumerate(value)))
    outputs.append(_output_node(value, where, tape))
    return None


def _output_node(value, where, tape):
    """The node of one returned number: its own if traced, else a new constant node."""
    if type(value) is Traced:
        if value._tape is not tape:
            raise MixedTraceError(f"{where} is a traced value of another trace; trace one function at a time")
        return value._node
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise NoDependenceError(
            f"{where} returned {_short(value)}, which is not a number (nor an array, tuple, list or dict "
            "of numbers), so there is nothing to differentiate"
        )
    if not math.isfinite(value):
        raise NoDependenceError(f"{where} returned {value!r}, which is not a finite number")
    return tape.add_constant(float(value))


def _label_outputs(tape, name, outputs, tree):
    """Name the output nodes: f, f[0], f[1,2], a dict's keys; inputs and user-named nodes keep their names."""
    labels = []
    _output_labels(tree, name, True, labels)
    for node, label in zip(outputs, labels):
        if node not in tape.labels:  # an input, named by the user, or an earlier output: keep its name
            tape.labels[node] = label


def _output_labels(node, stem, top, labels):
    if node is None:
        labels.append(stem)
        return
    kind, content = node
    if kind == "array":
        labels.extend(_element_names(stem, content))
    elif kind == "dict":
        for key, child in content:
            _output_labels(child, str(key) if top else f"{stem}[{key!r}]", False, labels)
    else:
        for index, child in enumerate(content):
            _output_labels(child, f"{stem}[{index}]", False, labels)
