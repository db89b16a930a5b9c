"""Tracing: run an ordinary Python function on traced numbers and record its graph.

:func:`trace` calls the function with a :class:`Traced` number for each input.
Every arithmetic operation on a ``Traced`` (Python operators, :mod:`pathad`'s math
functions, numpy ufuncs) evaluates the value, evaluates the local partial of each
traced operand (from :data:`pathad.primitives.PRIMITIVES`) and appends one node and
one edge per traced operand to a :class:`Tape`.  Constants are not nodes.

The tape is a handful of flat Python lists; :attr:`Trace.graph` turns it into a
``networkx.MultiDiGraph`` the first time it is asked for.  A ``Traced`` refers to
its tape but the tape never refers back, so tracing creates no reference cycles
for the garbage collector to chase.

Examples
--------
>>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> tr.value
920.0
>>> tr.graph.number_of_nodes(), tr.graph.number_of_edges()
(7, 9)
"""

import gc
import inspect
import linecache
import math
import numbers
import operator
import os
import sys
from contextlib import contextmanager
from functools import cached_property
from typing import NamedTuple

import networkx as nx
import numpy as np

from .errors import DomainError, LostDerivativeError, MixedTraceError, NoDependenceError, UnknownNodeError
from .operators import PrimitiveArithmetic
from .primitives import DOMAIN_ERRORS, FLOAT

__all__ = ["Traced", "Guard", "Tape", "Trace", "trace", "apply", "resolve_node", "gc_paused"]

class Tape:
    """The flat record of one trace: nodes and edges in creation order.

    Node ``i`` is the i-th operation; its operands are earlier nodes, so creation
    order is a topological order.  Edge ``k`` goes from ``src[k]`` to ``dst[k]``,
    is the operand at position ``arg[k]`` and carries ``partial[k]``.
    """

    __slots__ = ("ops", "values", "labels", "consts", "src", "dst", "arg", "partial", "guards")

    def __init__(self):
        self.ops = []  # primitive name, or "input"
        self.values = []  # float value of each node
        self.labels = {}  # node -> user-visible name, only for named nodes
        self.consts = {}  # node -> ((position, constant), ...), only where constants occur
        self.src, self.dst, self.arg, self.partial = [], [], [], []
        self.guards = []  # Guard records: the branches the trace took

    def label(self, node):
        """The node's label: its user name, else ``v<id>``."""
        return self.labels.get(node, f"v{node}")

    def add_input(self, name, value):
        """Record an input node and return it as a :class:`Traced`."""
        node = len(self.ops)
        self.ops.append("input")
        self.values.append(value)
        self.labels[node] = name
        return Traced(self, node, value)

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

    def __init__(self, tape, node, value):
        self._tape = tape
        self._node = node
        self.value = value

    @property
    def node(self):
        """This value's node id in the trace's graph."""
        return self._node

    def named(self, label):
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

    __hash__ = None

    def __bool__(self):
        return self._compare("!=", 0, self.value != 0)

    # float(), int(), operator.index, complex(), math.* and float ndarrays ask for a plain number:
    # giving one would drop the derivative without a word, so each of them is an error
    def __float__(self):
        raise self._lost("float()")

    def __int__(self):
        raise self._lost("int()")

    def __index__(self):
        raise self._lost("an integer index (operator.index)")

    def __complex__(self):
        raise self._lost("complex()")

    def _lost(self, asked):
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
    tape = None
    values = []
    for operand in operands:
        if type(operand) is Traced:
            if tape is None:
                tape = operand._tape
            elif operand._tape is not tape:
                raise MixedTraceError(
                    f"{primitive.name}: operands come from two different traces; "
                    "trace one function at a time"
                )
            values.append(operand.value)
        elif isinstance(operand, numbers.Real):
            values.append(float(operand))
        else:
            return NotImplemented
    if tape is None:
        return _evaluate(primitive, values, None, operands)
    return _record(tape, primitive, operands, values)


Traced._apply = staticmethod(apply)  # the hook through which every operator of a Traced records


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
    if consts:
        tape.consts[node] = consts
    return Traced(tape, node, result)


def _evaluate(primitive, values, tape, operands):
    try:
        result = primitive.value(FLOAT, *values)
    except DOMAIN_ERRORS as exc:
        raise _domain_error(primitive, tape, operands, f"no real value ({exc})") from None
    if not math.isfinite(result):
        raise _domain_error(primitive, tape, operands, f"the result is {result}")
    return float(result)


def _local_partial(primitive, position, values, result, tape, operands):
    try:
        partial = primitive.partials[position](FLOAT, *values, result)
    except DOMAIN_ERRORS as exc:
        partial = exc
    if isinstance(partial, Exception) or not math.isfinite(partial):
        reason = f"the derivative in operand {position} does not exist there ({partial})"
        raise _domain_error(primitive, tape, operands, reason)
    return float(partial)


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
        Input name -> node id, in the function's argument order.
    outputs : list
        Output node ids in the order the function returned them.
    tape : Tape
        The flat record the graph is built from.

    Examples
    --------
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> tr = trace(h, 3.0, 5.0)
    >>> tr.inputs, tr.output, tr.value
    ({'x': 0, 'y': 1}, 6, 920.0)
    """

    def __init__(self, name, tape, inputs, outputs, structure):
        self.name = name
        self.tape = tape
        self.inputs = inputs
        self.outputs = outputs
        self._structure = structure  # rebuilds the returned shape: None, "tuple", "list" or dict keys

    @property
    def output(self):
        """The single output node (an error if the function returned several)."""
        if len(self.outputs) != 1:
            raise ValueError(
                f"{self.name} has {len(self.outputs)} outputs; use Trace.outputs or name one with of="
            )
        return self.outputs[0]

    @property
    def value(self):
        """The function's result as floats, in the shape it was returned."""
        values = [self.tape.values[n] for n in self.outputs]
        if self._structure is None:
            return values[0]
        if self._structure in ("tuple", "list"):
            return tuple(values) if self._structure == "tuple" else values
        return dict(zip(self._structure, values))

    @cached_property
    def graph(self):
        """The computation graph as a ``networkx.MultiDiGraph`` (built on first use).

        Nodes are ints in creation order with attributes ``op``, ``value``,
        ``label`` and ``consts`` (the constant operands as (position, value)
        pairs); an edge u→v per use of u as an operand of v, keyed by the operand
        position, with attributes ``partial`` and ``arg``.
        """
        with gc_paused():
            return _build_graph(self.tape)

    def node(self, ref):
        """Resolve an input name, a node label or a node id to a node id."""
        return resolve_node(self, ref)

    def label(self, node):
        """The display name of a node."""
        return self.tape.label(node)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """Jupyter shows a trace as its drawing (see :func:`pathad.draw`)."""
        from .draw import repr_mimebundle

        return repr_mimebundle(self, include, exclude)

    def __repr__(self):
        tape = self.tape
        return (
            f"<Trace {self.name}({', '.join(self.inputs)}) = {self.value!r}: "
            f"{len(tape.ops)} nodes, {len(tape.src)} edges>"
        )


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


def resolve_node(obj, ref):
    """Turn an input name, a label or a node id into a node id of ``obj``'s graph.

    ``obj`` is a :class:`Trace` or a networkx graph.  In a Trace, input names
    come first, then the function's name (its single output), then labels,
    then node ids; in a plain graph a node is itself first, then a label.  An
    unknown reference raises :class:`UnknownNodeError` listing what is known.

    Examples
    --------
    >>> tr = trace(lambda x, y: x * y, 2.0, 3.0)
    >>> resolve_node(tr, "y"), resolve_node(tr, 2)
    (1, 2)
    >>> resolve_node(nx.DiGraph([("s", "t")]), "s")
    's'
    """
    if isinstance(obj, Trace):
        if isinstance(ref, str) and ref in obj.inputs:
            return obj.inputs[ref]
        if isinstance(ref, str) and ref == obj.name and len(obj.outputs) == 1:
            return obj.outputs[0]
        graph = obj.graph
    else:
        graph = obj
        if ref in graph:
            return ref
    if isinstance(ref, str):
        matches = [n for n, label in graph.nodes(data="label") if label == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnknownNodeError(f"label {ref!r} names {len(matches)} nodes {matches}; use a node id")
    if ref in graph:
        return ref
    if isinstance(obj, Trace):
        raise UnknownNodeError(f"no node {ref!r}; the inputs are {list(obj.inputs)}")
    raise UnknownNodeError(f"no node {ref!r} in the graph (nor a node labeled so)")


def trace(f, *args, **kwargs):
    """Run ``f`` on traced numbers and return its :class:`Trace`.

    Inputs are given positionally or by keyword, as for ``f`` itself; the node
    names come from ``f``'s signature.  ``f`` may return one value or a
    tuple, list or dict of values, each depending on some input.

    Examples
    --------
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> trace(h, x=3.0, y=5.0).value
    920.0
    >>> trace(lambda a, b: {"sum": a + b, "prod": a * b}, 2.0, 3.0).value
    {'sum': 5.0, 'prod': 6.0}
    """
    name = getattr(f, "__name__", "f")
    tape = Tape()
    call_args, call_kwargs = _traced_arguments(f, name, args, kwargs, tape)
    inputs = {tape.labels[node]: node for node in range(len(tape.ops))}
    if not inputs:
        raise TypeError(f"{name} was given no inputs to trace")
    with gc_paused():
        result = f(*call_args, **call_kwargs)
    outputs, structure = _collect_outputs(name, result)
    _label_outputs(tape, name, outputs, structure)
    return Trace(name, tape, inputs, outputs, structure)


def _traced_arguments(f, name, args, kwargs, tape):
    """Bind the inputs to ``f``'s parameters, each number replaced by a traced input node."""
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # no signature (some builtins): inputs x0, x1, ...
        if kwargs:
            raise TypeError(f"{name} has no signature; give its inputs positionally") from None
        return [_traced_input(tape, name, f"x{i}", a) for i, a in enumerate(args)], {}
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"cannot call {name} with the given inputs: {exc}") from None
    for param, value in list(bound.arguments.items()):
        kind = signature.parameters[param].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:  # *xs: inputs xs0, xs1, ...
            traced = tuple(_traced_input(tape, name, f"{param}{i}", v) for i, v in enumerate(value))
        elif kind is inspect.Parameter.VAR_KEYWORD:
            traced = {key: _traced_input(tape, name, key, v) for key, v in value.items()}
        else:
            traced = _traced_input(tape, name, param, value)
        bound.arguments[param] = traced
    return bound.args, bound.kwargs


def _traced_input(tape, name, arg, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"input {arg!r} of {name} must be a real number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"input {arg!r} of {name} must be finite, got {value!r}")
    return tape.add_input(arg, float(value))


def _collect_outputs(name, result):
    if isinstance(result, dict):
        structure, items = tuple(result), list(result.items())
    elif isinstance(result, (tuple, list)):
        structure = "tuple" if isinstance(result, tuple) else "list"
        items = list(enumerate(result))
    else:
        structure, items = None, [(None, result)]
    outputs = []
    for key, value in items:
        if type(value) is not Traced:
            which = name if key is None else f"{name}[{key!r}]"
            raise NoDependenceError(
                f"{which} returned {value!r}, which does not depend on any input, "
                "so there is nothing to differentiate"
            )
        outputs.append(value._node)
    return outputs, structure


def _label_outputs(tape, name, outputs, structure):
    for index, node in enumerate(outputs):
        if node in tape.labels:  # an input, or named by the user: keep its name
            continue
        if structure is None:
            tape.labels[node] = name
        elif isinstance(structure, tuple):  # dict keys
            tape.labels[node] = str(structure[index])
        else:
            tape.labels[node] = f"{name}[{index}]"
