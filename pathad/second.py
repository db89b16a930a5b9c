"""Second derivatives as path problems: Hessian-vector products, Hessians and their sparsity.

Differentiate the gradient along a direction v.  Every edge label ∂u/∂a_j
(the local partial) then changes at the rate

    d/dt ∂u/∂a_j = Σ_k ∂²u/∂a_j∂a_k · ȧ_k,

where ȧ_k, the tangent of operand k along v, is the path value of a_k in the
forward sweep seeded with v (forward mode).  Label each edge with the pair
(∂u/∂a_j, its rate) and sweep backward from f in the :data:`pathad.DUAL`
semiring, whose product is the product rule: at each input x the pair is
(∂f/∂x, ∂(∇f·v)/∂x), the gradient and the Hessian-vector product (Hv)_x.
One forward sweep, one backward sweep: forward-over-reverse, with the
ordinary :func:`pathad.solve` and the second partials of the primitive table
(:attr:`pathad.Primitive.second`).

A Hessian is n HVPs, one per unit vector, or fewer: columns i and j of H may
share an HVP (v = e_i + e_j) when no row of H has both, and H's sparsity
pattern is a path analysis too (:func:`hessian_sparsity`): x_i and x_j meet
in H only where paths from them reach two operands of one node with a
nonzero second partial on the way to f.

Examples
--------
>>> import numpy as np
>>> import pathad
>>> def rosenbrock(x, y):
...     return (1 - x) ** 2 + 100 * (y - x * x) ** 2
>>> tr = pathad.trace(rosenbrock, -1.2, 1.0)
>>> hvp(tr, {"x": 1.0})
{'x': 1330.0, 'y': 480.0}
>>> hessian(tr).matrix.tolist()
[[1330.0, 480.0], [480.0, 200.0]]
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .coloring import color
from .derivatives import _output, _warn_constant, _wrt_groups, flat_columns, shaped
from .errors import DomainError
from .primitives import DOMAIN_ERRORS, FLOAT, PRIMITIVES, is_zero_rule
from .semirings import BITSETS, COUNTING, DUAL, DualValue
from .solver import solve
from .tracing import Trace, check_trace, resolve_node
from .types import NodeRef, NodeRefs

__all__ = ["hvp", "dual_sweep", "hessian", "Hessian", "hessian_sparsity", "explain_second", "HESSIAN_MODES",
           "second_labels"]  # fmt: skip

#: The modes of :func:`hessian`.
HESSIAN_MODES = ("auto", "dense", "colored")

#: The second rule of operands (j, k) in ``Primitive.second``: (aa,) for one operand, (aa, ab, bb) for two.
_PAIR = {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 2}


def hvp(
    tr: Trace, v: Mapping[str, float | npt.ArrayLike] | npt.ArrayLike, of: NodeRef | None = None, *,
    wrt: NodeRefs | None = None,
) -> dict[NodeRef, float | np.ndarray]:  # fmt: skip
    """The Hessian-vector product H·v of one output: {input: (Hv)_input}, by one forward and one backward sweep.

    Parameters
    ----------
    tr : Trace
    v : dict or array_like
        The direction: {input name or array argument name: component(s)}
        (inputs not named have component 0), or an array with one component
        per input of the trace, in its input order.
    of : reference, optional
        The output (default: the trace's single output).
    wrt : reference or list, optional
        The components returned, as for :func:`pathad.gradient` (default:
        every argument, an array argument as an array shaped like it).

    Returns
    -------
    dict
        Keyed as :func:`pathad.gradient` is.

    Raises
    ------
    pathad.DomainError
        If a second partial has no real value (naming the node), or if a
        product overflows (naming where).

    Examples
    --------
    >>> import pathad
    >>> tr = pathad.trace(lambda x, y: x * x * y, 3.0, 2.0)
    >>> hvp(tr, {"x": 1.0}), hvp(tr, [0.0, 1.0])
    ({'x': 4.0, 'y': 6.0}, {'x': 6.0, 'y': 0.0})
    """
    check_trace(tr, "hvp")
    target = _output(tr, of)
    _warn_constant(tr, [target])
    groups = _wrt_groups(tr, wrt)
    pairs = _backward_dual(tr, target, _direction(tr, v))
    return shaped(groups, {n: pairs.get(n, DUAL.zero).dot for n in _flat(groups)})


def dual_sweep(tr, v, of=None):
    """The backward DUAL sweep of :func:`hvp` itself: {node: DualValue(∂of/∂node, its rate along v)}.

    What a drawing shows in green beside the pairs on the edges
    (``pathad.draw(tr, second=v, sweep=dual_sweep(tr, v))``).

    >>> import pathad
    >>> tr = pathad.trace(lambda x, y: x * x * y, 3.0, 2.0)
    >>> dual_sweep(tr, {"x": 1.0})[0]  # at x: (∂f/∂x, (Hv)_x) = (2xy, 2y)
    DualValue(value=12.0, dot=4.0)
    """
    check_trace(tr, "dual_sweep")
    target = _output(tr, of)
    return _backward_dual(tr, target, _direction(tr, v))


def second_labels(tr, v):
    """{(node, operand position): d/dt of that edge's partial along ``v``}, nonzero ones only.

    The rate of each edge label of the trace along the direction ``v``
    (keyed by input node: {node: component}): Σ_k ∂²u/∂a_j∂a_k · ȧ_k, the
    tangents ȧ from one forward sweep seeded with ``v``.  What :func:`hvp`
    pairs with the partials; :func:`pathad.draw` can show them.

    >>> import pathad
    >>> tr = pathad.trace(lambda x, y: x * y, 3.0, 2.0)
    >>> second_labels(tr, {0: 1.0})  # ∂(xy)/∂y = x changes at the rate ẋ = 1
    {(2, 1): 1.0}
    """
    tangents = solve(tr, v, direction="forward") if v else {}
    rates = {}
    for node, op, value, operands in _operations(tr):
        primitive = PRIMITIVES[op]
        dots = [0.0 if src is None else tangents.get(src, 0.0) for src, _ in operands]
        if not any(dots):
            continue
        numbers = [number for _, number in operands]
        for j, (src, _) in enumerate(operands):
            if src is None:
                continue
            rate = 0.0
            for k, dot in enumerate(dots):
                rule = primitive.second[_PAIR[j, k]]
                if dot and not is_zero_rule(rule):
                    rate += _second(primitive, rule, numbers, value, tr, node) * dot
            if rate:
                rates[node, j] = rate
    return rates


def explain_second(tr: Trace, wrt: NodeRef, other: NodeRef | None = None, of: NodeRef | None = None) -> str:
    """∂²of/∂wrt∂other written out, one term per place where a path from each input meets the other's.

    The second-order chain rule on a graph: ∂²f/∂x∂y is the sum, over the
    nodes u with operands a and b whose second partial ∂²u/∂a∂b is not
    identically zero, of (∂a/∂x)·(∂²u/∂a∂b)·(∂b/∂y)·(∂f/∂u): the paths from x
    to a and from y to b meet at u, and u's paths go on to f.  Each factor
    is itself a sum over paths (one sweep each); the line of a term says how
    many triples of paths it stands for.

    Parameters
    ----------
    tr : Trace
    wrt, other : references
        The two inputs (``other`` defaults to ``wrt``: ∂²f/∂x²).
    of : reference, optional
        The output (default: the trace's single output).

    Examples
    --------
    >>> import pathad
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> print(explain_second(pathad.trace(h, x=3.0, y=5.0), "x", "y"))
    ∂²h/∂x∂y = Σ (∂a/∂x)·(∂²u/∂a∂b)·(∂b/∂y)·(∂h/∂u) over the nodes u where paths from x and y meet:
      u = (x+y)·y, a = x+y, b = y: 1·1·1·23 = 23  (1 path pair, 1 path on)
      u = h, a = x+4y, b = (x+y)·y: 1·1·13·1 = 13  (2 path pairs, 1 path on)
      u = h, a = (x+y)·y, b = x+4y: 5·1·4·1 = 20  (1 path pair, 1 path on)
    = 23 + 13 + 20 = 56
    """
    from .enumeration import reader_names  # enumeration sweeps with the solver; imported when used

    check_trace(tr, "explain_second")
    x = resolve_node(tr, wrt, "wrt")
    y = x if other is None else resolve_node(tr, other, "other")
    target = _output(tr, of)
    from_x, from_y = solve(tr, x), solve(tr, y)
    paths_x, paths_y = solve(tr, x, semiring=COUNTING), solve(tr, y, semiring=COUNTING)
    to_f = solve(tr, target, direction="backward")
    paths_on = solve(tr, target, direction="backward", semiring=COUNTING)
    names = reader_names(tr)
    terms = []
    for node, op, value, operands in _operations(tr):
        if node not in to_f:
            continue
        primitive = PRIMITIVES[op]
        numbers = [number for _, number in operands]
        for j, (a, _) in enumerate(operands):
            for k, (b, _) in enumerate(operands):
                rule = primitive.second[_PAIR[j, k]]
                if a is None or b is None or is_zero_rule(rule) or a not in from_x or b not in from_y:
                    continue
                second = _second(primitive, rule, numbers, value, tr, node)
                factors = (from_x[a], second, from_y[b], to_f[node])
                pairs = paths_x[a] * paths_y[b]
                text = "·".join(_short(f) for f in factors)
                terms.append((math.prod(factors), f"  u = {names[node]}, a = {names[a]}, b = {names[b]}: {text} = "
                              f"{_short(math.prod(factors))}  ({pairs} path pair{'s' if pairs != 1 else ''}, "
                              f"{paths_on[node]} path{'s' if paths_on[node] != 1 else ''} on)"))  # fmt: skip
    name = f"∂²{names[target]}/∂{names[x]}" + ("²" if x == y else f"∂{names[y]}")
    if not terms:
        return f"{name} = 0 (no paths from {names[x]} and {names[y]} meet at a node with a second partial)"
    head = (f"{name} = Σ (∂a/∂{names[x]})·(∂²u/∂a∂b)·(∂b/∂{names[y]})·(∂{names[target]}/∂u) over the nodes u "
            f"where paths from {names[x]} and {names[y]} meet:")  # fmt: skip
    total = " + ".join(_short(t) for t, _ in terms).replace("+ -", "- ")
    tail = f"= {total} = {_short(sum(t for t, _ in terms))}" if len(terms) > 1 else f"= {_short(terms[0][0])}"
    return "\n".join([head, *(line for _, line in terms), tail])


def _short(number):
    return f"{number:.10g}"


def _backward_dual(tr, target, v):
    """{node: DualValue(∂target/∂node, its rate along v)} by one backward sweep in the DUAL semiring."""
    rates = second_labels(tr, v)

    def weight(u, w, data):
        return DualValue(data["partial"], rates.get((w, data["arg"]), 0.0))

    return solve(tr, target, direction="backward", semiring=DUAL, weight=weight)


def _second(primitive, rule, numbers, value, tr, node):
    """One second partial at the recorded numbers; a DomainError naming the node where it has no value."""
    try:
        found = rule(FLOAT, *numbers, value)
    except DOMAIN_ERRORS as exc:
        found, reason = math.nan, f"no real value ({exc})"
    else:
        reason = f"it is {found}"
    if not math.isfinite(found):
        shown = ", ".join(repr(float(n)) for n in numbers)
        raise DomainError(f"the second derivative of {primitive.name} at node {tr.label(node)} with operands "
                          f"{shown} does not exist: {reason}")  # fmt: skip
    return found


def _operations(tr):
    """(node, op, value, [(operand node or None for a constant, operand value)]) for every operation recorded."""
    tape = tr.tape
    ends = tape.in_edges()
    if ends is None or "graph" in tr.__dict__:
        graph = tr.graph
        for node, data in graph.nodes(data=True):
            op = data.get("op")
            if op in PRIMITIVES:
                operands = dict((position, (None, c)) for position, c in data.get("consts", ()))
                for u, _, edge in graph.in_edges(node, data=True):
                    operands[edge["arg"]] = (u, graph.nodes[u]["value"])
                yield node, op, data["value"], [operands[j] for j in sorted(operands)]
        return
    values, src, arg, consts = tape.values, tape.src, tape.arg, tape.consts
    for node, op in enumerate(tape.ops):
        if op not in PRIMITIVES:
            continue
        operands = {position: (None, c) for position, c in consts.get(node, ())}
        for e in range(ends[node], ends[node + 1]):
            operands[arg[e]] = (src[e], values[src[e]])
        yield node, op, values[node], [operands[j] for j in sorted(operands)]


def _direction(tr, v):
    """The direction as {input node: component}, zeros left out."""
    if isinstance(v, dict):
        found = {}
        for ref, component in v.items():
            nodes = tr.arguments.get(ref) if isinstance(ref, str) else None
            if isinstance(nodes, np.ndarray):
                values = np.broadcast_to(np.asarray(component, dtype=np.float64), nodes.shape)
                found.update(zip(nodes.ravel().tolist(), values.ravel().tolist()))
            else:
                found[resolve_node(tr, ref, "v")] = float(component)
    else:
        components = np.asarray(v, dtype=np.float64).ravel()
        if components.size != len(tr.inputs):
            raise ValueError(f"v needs one component per input ({len(tr.inputs)}: {list(tr.inputs)[:6]}), "
                             f"got {components.size}")  # fmt: skip
        found = dict(zip(tr.inputs.values(), components.tolist()))
    for node, component in found.items():
        if not math.isfinite(component):
            raise ValueError(f"v must be finite: its component for {tr.label(node)} is {component}")
    return {node: c for node, c in found.items() if c}


def _flat(groups):
    return list(dict.fromkeys(n for _, nodes in groups for n in np.ravel(nodes).tolist()))


# --- Hessians --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hessian:
    """A Hessian and how it was computed.

    Attributes
    ----------
    matrix : numpy.ndarray
        ``matrix[i, j]`` = ∂²of/∂wrt[i]∂wrt[j], symmetric.
    wrt : tuple
        The references of the rows and columns (flat: ``"v[0]"``).
    of : str
        The output.
    mode : str
        "dense" (one HVP per column) or "colored" (one per colour class).
    hvps : int
        The Hessian-vector products computed.
    coloring : Coloring or None
        For "colored": the columns that shared an HVP.
    asymmetry : float
        The largest difference between H[i, j] and H[j, i] before the two were averaged: rounding,
        unless a second rule were wrong.
    gradient, value : numpy.ndarray, float or None
        From :meth:`pathad.compiled.CompiledTape.hessian`: the gradient and
        the output's value at the points, from the same sweeps.
    """

    matrix: np.ndarray
    wrt: tuple
    of: str
    mode: str
    hvps: int
    coloring: object = field(default=None, repr=False, compare=False)
    asymmetry: float = field(default=0.0, repr=False, compare=False)
    shape: tuple | None = field(default=None, repr=False, compare=False)
    gradient: np.ndarray | None = field(default=None, repr=False, compare=False)
    value: object = field(default=None, repr=False, compare=False)

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return self.matrix if dtype is None else self.matrix.astype(dtype)

    @property
    def array(self) -> np.ndarray:
        """The matrix shaped input-shape + input-shape (for one array argument of shape S: S + S)."""
        return self.matrix if self.shape is None else self.matrix.reshape(self.shape + self.shape)


def hessian(tr: Trace, wrt: NodeRefs | None = None, of: NodeRef | None = None, *, mode: str = "auto") -> Hessian:
    """The Hessian of one output by Hessian-vector products: n of them, or one per colour class of its pattern.

    Parameters
    ----------
    tr : Trace
    wrt : reference or list, optional
        The inputs (default: every input); an array argument's name stands
        for all its elements.
    of : reference, optional
        The output (default: the trace's single output).
    mode : {"auto", "dense", "colored"}
        "dense": one HVP per input (column).  "colored": the pattern
        (:func:`hessian_sparsity`) coloured by columns that share no row,
        one HVP per class, each entry read from its column's class.  "auto":
        colored when that takes fewer HVPs.

    Returns
    -------
    Hessian
        Symmetric: each entry and its mirror come from different HVPs, so the
        matrix returned is their average and ``asymmetry`` says how far apart
        they were.

    Examples
    --------
    >>> import pathad, numpy as np
    >>> def chain(x):  # each x[i] meets only its neighbours: a tridiagonal Hessian
    ...     return sum((x[i + 1] - x[i] ** 2) ** 2 for i in range(len(x) - 1))
    >>> H = hessian(pathad.trace(chain, np.ones(6)))
    >>> H.mode, H.hvps, int((H.matrix != 0).sum())
    ('colored', 3, 16)
    """
    check_trace(tr, "hessian")
    if mode not in HESSIAN_MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, HESSIAN_MODES))}, got {mode!r}")
    target = _output(tr, of)
    _warn_constant(tr, [target])
    columns, refs, shape = _columns(tr, wrt)
    n = len(columns)
    pattern = _pattern(tr, columns, target)
    coloring = color(pattern) if mode != "dense" else None
    if mode == "auto":
        mode = "colored" if coloring.count < n else "dense"  # type: ignore[union-attr]  # not None: mode is auto
    groups = coloring.groups if mode == "colored" else [[j] for j in range(n)]  # type: ignore[union-attr]
    raw = np.zeros((n, n))
    for group in groups:
        pairs = _backward_dual(tr, target, {columns[j]: 1.0 for j in group})
        column = np.array([pairs.get(c, DUAL.zero).dot for c in columns])
        for j in group:
            rows = pattern[:, j] if mode == "colored" else slice(None)
            raw[rows, j] = column[rows]  # a row i of this column's pattern meets no other column of the class
    asymmetry = float(np.abs(raw - raw.T).max(initial=0.0))
    matrix = (raw + raw.T) / 2
    return Hessian(matrix, refs, tr.label(target), mode, len(groups), coloring if mode == "colored" else None,
                   asymmetry, shape)  # fmt: skip


def hessian_sparsity(tr: Trace, wrt: NodeRefs | None = None, of: NodeRef | None = None) -> np.ndarray:
    """The Hessian's sparsity pattern: ``pattern[i, j]``: can ∂²of/∂wrt[i]∂wrt[j] be nonzero?

    Structural, from two sweeps: a BITSETS sweep forward from the inputs
    gives each node the inputs that reach it, a BOOLEAN one backward the
    nodes that reach ``of``.  Then x_i and x_j meet wherever a node on the
    way to ``of`` has operands a and b (or a twice) with a second partial
    that is not identically zero (:func:`pathad.primitives.is_zero_rule`),
    x_i reaching a and x_j reaching b.

    Parameters
    ----------
    tr : Trace
    wrt : list, optional
        Input references or node ids (default: every input).
    of : reference, optional

    Examples
    --------
    >>> import pathad
    >>> tr = pathad.trace(lambda x, y, z: x * y + pathad.sin(z), 1.0, 2.0, 3.0)
    >>> hessian_sparsity(tr).astype(int).tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
    """
    check_trace(tr, "hessian_sparsity")
    return _pattern(tr, _columns(tr, wrt)[0], _output(tr, of))


def _pattern(tr, columns, target):
    """:func:`hessian_sparsity` for input node ids and an output node id."""
    n = len(columns)
    pattern = np.zeros((n, n), dtype=bool)
    if not n:
        return pattern
    seeds = {}
    for j, node in enumerate(columns):
        seeds[node] = seeds.get(node, 0) | (1 << j)
    ahead = solve(tr, seeds, direction="forward", semiring=BITSETS)
    behind = solve(tr, target, direction="backward", semiring="boolean")
    for node, op, _, operands in _operations(tr):
        if node not in behind:
            continue
        second = PRIMITIVES[op].second
        for j, (a, _) in enumerate(operands):
            for k, (b, _) in enumerate(operands):
                if k < j or a is None or b is None or is_zero_rule(second[_PAIR[j, k]]):
                    continue
                left, right = ahead.get(a, 0), ahead.get(b, 0)
                if left and right:
                    rows, cols = _bit_indices(left), _bit_indices(right)
                    pattern[np.ix_(rows, cols)] = True
                    pattern[np.ix_(cols, rows)] = True
    return pattern


def _bit_indices(bits):
    """The positions of the set bits of an int, lowest first."""
    found = []
    while bits:
        low = bits & -bits
        found.append(low.bit_length() - 1)
        bits ^= low
    return found


def _columns(tr, wrt):
    """(input node ids, their flat references, the argument's shape when wrt is one array argument or None)."""
    groups = _wrt_groups(tr, wrt)
    columns, refs, _ = flat_columns(tr, groups)
    shape = groups[0][1].shape if len(groups) == 1 and isinstance(groups[0][1], np.ndarray) else None
    return columns, refs, shape

