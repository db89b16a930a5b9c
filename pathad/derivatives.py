"""Derivatives of a trace as path problems: thin functions over :func:`pathad.solve`.

∂t/∂s is the sum over all paths s→t of the product of the edge partials.  A
forward sweep from s gives ∂v/∂s for every v at once (forward mode: single
source, many targets); a backward sweep from t gives ∂t/∂v for every v at once
(reverse mode, backpropagation: many sources, single target).  For a Jacobian
with |L| inputs and |K| outputs that is |L| forward sweeps or |K| backward ones
(the lecture's Fig. 5); ``mode="auto"`` takes the fewer.

Array inputs and outputs (see :func:`pathad.trace`) are flattened into their
scalar nodes for the sweeps; the results are shaped again: :func:`gradient`
gives an array shaped like each array argument, :attr:`Jacobian.blocks` and
:attr:`Jacobian.array` give blocks shaped output-shape + input-shape.

An output that depends on no input (a plain number the function returned) has
derivatives 0; :func:`derivative`, :func:`gradient` and :func:`jacobian` say so
with a ``UserWarning`` naming it.

Examples
--------
>>> from pathad import trace
>>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> gradient(tr)
{'x': 155.0, 'y': 459.0}
>>> derivative(tr, "y", mode="forward")
459.0
"""

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .coloring import color
from .elimination import eliminated_jacobian
from .enumeration import pattern_of
from .errors import DomainError
from .solver import adjacency, is_forward, solve, solve_nodes
from .tracing import Trace, check_ref, check_trace, rebuild, resolve_node
from .types import Node, NodeRef, NodeRefs

__all__ = ["derivative", "gradient", "derivatives_from", "jacobian", "Jacobian"]


def derivative(tr: Trace, wrt: NodeRef, of: NodeRef | None = None, *, mode: str = "backward") -> float | np.ndarray:
    """∂(of)/∂(wrt) at the traced point, by one sweep restricted to the paths between them.

    Parameters
    ----------
    tr : Trace
    wrt : str or int
        Input name, node label or node id; or the name of an array argument,
        which gives an array of partials shaped like it.
    of : str or int, optional
        The output (default: the trace's single output).
    mode : {"backward", "forward"}

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x: x * x * x, 2.0)
    >>> derivative(tr, "x"), derivative(tr, "x", mode="forward")
    (12.0, 12.0)
    >>> import numpy as np
    >>> derivative(trace(lambda v: v @ v, np.array([1.0, 2.0])), "v")
    array([2., 4.])
    """
    check_trace(tr, "derivative")
    check_ref(wrt, "wrt")
    target = _output(tr, of)
    _warn_constant(tr, [target])
    key, nodes = _wrt_groups(tr, [wrt])[0]
    if isinstance(nodes, np.ndarray):
        return _partials(tr, target, [(key, nodes)], mode)[key]
    source = nodes
    if is_forward(mode, "mode"):
        return solve(tr, source, direction="forward", targets=target).get(target, 0.0)
    return solve(tr, target, direction="backward", targets=source).get(source, 0.0)


def gradient(
    tr: Trace, of: NodeRef | None = None, *, wrt: NodeRefs | None = None, mode: str = "backward"
) -> dict[NodeRef, float | np.ndarray]:
    """All partials of one output: {input: ∂output/∂input}.

    Backward mode does it in ONE sweep from the output; forward mode needs one
    sweep per scalar input.  ``wrt`` defaults to every argument of the traced
    function; it may be one reference or several: input names (``"x"``,
    ``"v[1]"``), node labels, node ids, or the name of an array argument
    (``"v"``).  The keys are the references as given (the argument names by
    default); an array argument's value is a float ndarray shaped like it.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: x * y + y, x=2.0, y=3.0)
    >>> gradient(tr), gradient(tr, mode="forward")
    ({'x': 3.0, 'y': 3.0}, {'x': 3.0, 'y': 3.0})
    >>> import numpy as np
    >>> tr = trace(lambda v, c: c * np.sum(v * v), np.array([1.0, 2.0, 3.0]), 0.5)
    >>> gradient(tr)
    {'v': array([1., 2., 3.]), 'c': 14.0}
    >>> gradient(tr, wrt="v[1]"), gradient(tr, wrt=["c", "v"])
    ({'v[1]': 2.0}, {'c': 14.0, 'v': array([1., 2., 3.])})
    """
    check_trace(tr, "gradient")
    if of is None and wrt is None and mode == "backward":
        found = _plain_gradient(tr)
        if found is not None:
            return found
    target = _output(tr, of)
    _warn_constant(tr, [target])
    return _partials(tr, target, _wrt_groups(tr, wrt), mode)


def _plain_gradient(tr):
    """``gradient(tr)`` the short way for the commonest case, else None.

    The case: a trace of scalar arguments, one output that depends on some,
    the graph not built, every path value of the sweep finite.  Then nothing
    needs resolving and one backward sweep over the whole tape gives the
    answer.  Otherwise (arrays, a constant output, a non-finite value, which
    may lie on a path to no input) the general path decides, warns or explains.
    """
    if type(tr) is not Trace or len(tr.outputs) != 1 or tr.arguments != tr.inputs or "graph" in tr.__dict__:
        return None
    ends = tr.tape.in_edges()
    (target,) = tr.outputs
    if ends is None or ends[target] == ends[target + 1]:  # a tape filled by hand; an input or constant output
        return None
    try:
        adjoint = solve_nodes(adjacency(tr), [target], None, False)
    except DomainError:
        return None
    return {name: adjoint.get(node, 0.0) for name, node in tr.arguments.items()}


def _partials(tr, target, groups, mode):
    """{key: ∂target/∂nodes} for (key, node id or ndarray of ids) groups, by one backward or many forward sweeps."""
    arrays = any(isinstance(nodes, np.ndarray) for _, nodes in groups)
    flat = [n for _, nodes in groups for n in np.ravel(nodes).tolist()] if arrays else [n for _, n in groups]
    flat = list(dict.fromkeys(flat))
    if not flat:
        found = {}
    elif is_forward(mode, "mode"):
        graph = adjacency(tr)
        found = {n: solve_nodes(graph, [n], [target], True).get(target, 0.0) for n in flat}
    else:
        adjoint = solve_nodes(adjacency(tr), [target], flat, False)
        found = {n: adjoint.get(n, 0.0) for n in flat}
    if not arrays:
        return {key: found[nodes] for key, nodes in groups}
    return shaped(groups, found)


def shaped(groups, found):
    """{key: value} for (key, node id or ndarray of ids) groups from {node: value}: an array group's values as a
    float array shaped like its ids (what :func:`gradient` and :func:`pathad.hvp` return)."""
    result = {}
    for key, nodes in groups:
        if isinstance(nodes, np.ndarray):
            result[key] = np.array([found[n] for n in nodes.ravel().tolist()], dtype=np.float64).reshape(nodes.shape)
        else:
            result[key] = found[nodes]
    return result


def flat_columns(tr: Trace, groups: list) -> tuple[list[int], tuple, list[tuple]]:
    """(node ids, their flat references, [(key, shape, column indices)]) for (key, node id or ndarray of ids)
    groups: an array argument's elements each a column (``"v[1]"``), the layout to shape them back."""
    columns: list[int] = []
    refs: list[NodeRef] = []
    layout: list[tuple] = []
    for key, nodes in groups:
        if isinstance(nodes, np.ndarray):
            ids, names, shape = nodes.ravel().tolist(), [tr.label(n) for n in nodes.ravel().tolist()], nodes.shape
        else:
            ids, names, shape = [nodes], [key], ()
        layout.append((key, shape, tuple(range(len(columns), len(columns) + len(ids)))))
        columns.extend(ids)
        refs.extend(names)
    return columns, tuple(refs), layout


def _wrt_groups(tr, wrt):
    """[(key, node id or ndarray of node ids)]: the arguments by default, else each reference as given."""
    if wrt is None:
        return list(tr.arguments.items())
    refs = [wrt] if isinstance(wrt, (str, numbers.Integral)) else list(wrt)
    arguments = getattr(tr, "arguments", {})
    groups = []
    for ref in refs:
        nodes = arguments.get(ref) if isinstance(ref, str) else None
        groups.append((ref, nodes if isinstance(nodes, np.ndarray) else resolve_node(tr, ref, "wrt")))
    return groups


def derivatives_from(tr: Trace, wrt: NodeRef) -> dict[Node, float]:
    """Single source, all targets: {node: ∂node/∂wrt} for every node wrt reaches, in one forward sweep.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x: (x * 2.0, x + 1.0), 5.0)
    >>> derivatives_from(tr, "x")
    {0: 1.0, 1: 2.0, 2: 1.0}
    """
    check_trace(tr, "derivatives_from")
    check_ref(wrt, "wrt")
    return solve(tr, resolve_node(tr, wrt, "wrt"), direction="forward")


@dataclass(frozen=True)
class Jacobian:
    """A Jacobian and how it was computed.

    ``matrix`` is flat: one row per scalar output, one column per scalar
    input.  For array programs, :attr:`blocks` and :attr:`array` give the
    same numbers shaped output-shape + input-shape (as ``jax.jacobian``
    does), so that the Jacobian of v ↦ W @ v is the matrix W itself.

    Attributes
    ----------
    matrix : numpy.ndarray
        ``matrix[i, j]`` = ∂of[i]/∂wrt[j].
    wrt, of : tuple
        Column and row references (flat: ``"v[0]"``, ``"f[1,2]"``).
    mode : str
        "forward" (one sweep per column), "backward" (one sweep per row),
        "colored-forward" / "colored-backward" (one per colour class), or
        "elimination" (no sweep: vertex elimination).
    sweeps : int
        The number of sweeps performed (not counting the one that finds the
        sparsity pattern for the colored modes).
    coloring : Coloring or None
        For the colored modes, the classes swept together (:mod:`pathad.coloring`).
    counts : dict or None
        For ``mode="elimination"``: ``{"times": ⊗, "plus": ⊕, "order": nodes}``.
    values : numpy.ndarray or None
        From :meth:`pathad.compiled.CompiledTape.jacobian`: the rows' values
        at the points, shape (rows,) or (B, rows); :attr:`Jacobian.value` shapes them.
    why : str or None
        With ``mode="auto"``: what was chosen and what it saves.

    Examples
    --------
    >>> import numpy as np
    >>> from pathad import trace
    >>> W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> J = jacobian(trace(lambda v: W @ v, np.array([1.0, 1.0])))
    >>> J.matrix.shape, J.array.tolist() == W.tolist()
    ((3, 2), True)
    >>> J = jacobian(trace(lambda v, s: {"y": s * v, "n": v @ v}, np.array([1.0, 2.0]), 3.0))
    >>> J.blocks["y"]["v"].tolist(), J.blocks["y"]["s"].tolist(), J.blocks["n"]["v"].tolist()
    ([[3.0, 0.0], [0.0, 3.0]], [1.0, 2.0], [2.0, 4.0])
    """

    matrix: np.ndarray
    wrt: tuple
    of: tuple
    mode: str
    sweeps: int
    # (row tree, [(column key, column shape, column indices)]): how blocks are cut out of the matrix
    layout: tuple | None = field(default=None, repr=False, compare=False)
    coloring: object = field(default=None, repr=False, compare=False)
    counts: dict | None = field(default=None, repr=False, compare=False)
    values: np.ndarray | None = field(default=None, repr=False, compare=False)
    why: str | None = field(default=None, repr=False, compare=False)

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return self.matrix if dtype is None else self.matrix.astype(dtype)

    @property
    def blocks(self) -> Any:
        """The Jacobian cut into blocks: the outputs' structure, and in it {argument: block} per output part.

        A block is ∂part/∂argument, a float ndarray of shape part-shape +
        argument-shape (a float when both are numbers).  With ``of`` given,
        the outermost level is {of reference: ...}; with ``wrt`` given, the
        inner keys are its references (an array argument's name gives its
        whole block).
        """
        rows, columns = self._layout()

        def leaf(row_indices, shape):
            block = {}
            batch = self.matrix.shape[:-2]  # a compiled tape's Jacobians at B points: (B, rows, columns)
            for key, column_shape, column_indices in columns:
                part = self.matrix[..., list(row_indices), :][..., list(column_indices)]
                part = part.reshape(batch + shape + column_shape)
                block[key] = float(part) if part.ndim == 0 else part
            return block

        return rebuild(rows, list(range(self.matrix.shape[-2])), leaf)

    @property
    def value(self) -> Any:
        """The rows' values (:attr:`values`) in the outputs' structure, as ``evaluate`` returns them; None when
        this Jacobian came from a trace (its values are the trace's own: ``Trace.value``)."""
        if self.values is None:
            return None
        rows, _ = self._layout()
        batch = self.values.shape[:-1]

        def leaf(row_indices, shape):
            part = self.values[..., list(row_indices)].reshape(batch + shape)
            return float(part) if part.ndim == 0 else part

        return rebuild(rows, list(range(self.values.shape[-1])), leaf)

    @property
    def array(self) -> float | np.ndarray:
        """The single block, of shape output-shape + input-shape, when there is one output part and one argument.

        For v ↦ W @ v that is W.  Several outputs (a tuple, a dict) or several
        arguments: use :attr:`blocks`, or :attr:`matrix` for the flat form.
        """
        rows, columns = self._layout()
        if rows is not None and rows[0] != "array" or len(columns) != 1:
            parts = "one output part" if rows is None or rows[0] == "array" else "several output parts"
            raise ValueError(
                f"this Jacobian has {parts} and {len(columns)} argument{'s' if len(columns) != 1 else ''}; "
                "Jacobian.array needs one of each: use Jacobian.blocks (or .matrix, flat)"
            )
        return self.blocks[columns[0][0]]

    def _layout(self):
        if self.layout is not None:
            return self.layout
        rows = ("dict", tuple((ref, None) for ref in self.of))
        return rows, [(ref, (), (j,)) for j, ref in enumerate(self.wrt)]

    def __repr__(self):
        return (
            f"Jacobian(of={list(self.of)}, wrt={list(self.wrt)}, mode={self.mode!r}, "
            f"sweeps={self.sweeps},\n{self.matrix!r})"
        )


def jacobian(
    tr: Trace,
    wrt: NodeRefs | None = None,
    of: NodeRefs | None = None,
    *,
    mode: str = "auto",
    order: str | Sequence[NodeRef] | None = None,
) -> Jacobian:
    """∂of/∂wrt for several outputs and inputs: by sweeps, compressed sweeps or vertex elimination.

    ``"forward"`` takes |wrt| forward sweeps, ``"backward"`` (or
    ``"reverse"``) |of| backward ones: the two ends of the lecture's Fig. 5.
    ``mode="auto"`` counts the ⊗ and ⊕ of every method first
    (:func:`pathad.plan_jacobian`) and takes the cheapest; ``Jacobian.why``
    says what it chose and against what.  On a trace of more than
    :data:`PLAN_LIMIT` edges it takes the fewer sweeps without counting.
    ``"colored-forward"`` sweeps the inputs that share no
    output together (one sweep per colour of the sparsity pattern, plus one
    to find the pattern), ``"colored-backward"`` the outputs that share no
    input: a banded Jacobian takes a few sweeps whatever its size.
    ``"elimination"`` eliminates every node between inputs and outputs in
    ``order`` (default Markowitz; see :func:`pathad.elimination.eliminated_jacobian`: forward,
    reverse, Markowitz or a list) and reads the entries off the edges that
    are left; the result's ``counts`` holds the ⊗ and ⊕ it took
    (:func:`pathad.plan_jacobian` counts every method before computing).

    ``wrt`` defaults to every input, ``of`` to every output; either may list
    references (an array argument's name stands for all its elements).  The
    :class:`Jacobian`'s ``matrix`` is flat; ``blocks`` and ``array`` shape it
    like the arguments and results.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x: (x * x, 3.0 * x, x + 1.0), 2.0)
    >>> J = jacobian(tr, mode="forward")
    >>> J.mode, J.sweeps, J.matrix.ravel().tolist()
    ('forward', 1, [4.0, 3.0, 1.0])
    >>> h = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    >>> J = jacobian(h)
    >>> J.mode, J.why
    ('elimination', 'elimination: 7 ⊗ + 3 ⊕, against 9 ⊗ + 3 ⊕ for backward')
    >>> import numpy as np
    >>> jacobian(trace(lambda v: v * v, np.array([1.0, 2.0]))).array
    array([[2., 0.],
           [0., 4.]])
    """
    check_trace(tr, "jacobian")
    columns, wrt, column_layout = flat_columns(tr, _wrt_groups(tr, wrt))
    if of is None:
        rows = list(tr.outputs)
        of = tuple(tr.label(n) for n in rows)
        row_tree = tr._tree
    else:
        of = (of,) if isinstance(of, (str, numbers.Integral)) else tuple(of)  # type: ignore[arg-type]  # Integral
        rows = [resolve_node(tr, r, "of") for r in of]
        row_tree = ("dict", tuple((ref, None) for ref in of))
    _warn_constant(tr, rows)
    if mode not in JACOBIAN_MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, JACOBIAN_MODES))}, got {mode!r}")
    if order is not None and mode != "elimination":
        raise ValueError(f"order= is the order of elimination: it needs mode='elimination', not {mode!r}")
    why = None
    if mode == "auto":
        mode, why = _auto(tr, columns, rows)
    matrix = np.zeros((len(rows), len(columns)))
    layout = (row_tree, column_layout)
    graph = adjacency(tr)
    if mode in COLORED_MODES:
        return _colored(tr, graph, rows, columns, mode, matrix, (wrt, of, layout), why)
    if mode == "elimination":
        matrix, counts = eliminated_jacobian(tr, columns, rows, order or "markowitz")
        return Jacobian(matrix, wrt, of, mode, 0, layout, counts=counts, why=why)
    if is_forward(mode, "mode"):
        for j, column in enumerate(columns):
            sweep = solve_nodes(graph, [column], rows, True)
            matrix[:, j] = [sweep.get(r, 0.0) for r in rows]
        return Jacobian(matrix, wrt, of, "forward", len(columns), layout, why=why)
    for i, row in enumerate(rows):
        if columns:
            sweep = solve_nodes(graph, [row], columns, False)
            matrix[i, :] = [sweep.get(c, 0.0) for c in columns]
    return Jacobian(matrix, wrt, of, "backward", len(rows), layout, why=why)


#: ``mode="auto"`` counts every method (:func:`pathad.plan_jacobian`) on traces with at most this many edges; a
#: larger one takes the fewer sweeps (counting costs a few sweeps' worth, and the graph must be built).
PLAN_LIMIT = 10_000


def _auto(tr, columns, rows):
    """(mode, why) for ``mode="auto"``: the planner's cheapest method, or the fewer sweeps on a large trace."""
    edges = len(tr.tape.src) if "graph" not in tr.__dict__ else tr.graph.number_of_edges()
    if edges <= PLAN_LIMIT and columns and rows:
        from .planner import plan_nodes  # the planner counts with this module's neighbours

        plan = plan_nodes(tr, tr.graph, columns, rows)
        return plan.best, plan.why()
    mode = "forward" if len(columns) < len(rows) else "backward"
    fewer = f"{min(len(columns), len(rows))} sweeps against {max(len(columns), len(rows))}"
    reason = f"{edges} edges are more than the planner counts ({PLAN_LIMIT})"
    reason = reason if columns and rows else "nothing to count"
    return mode, f"{mode}: {fewer} ({reason})"


#: The compressed modes of :func:`jacobian`: inputs (outputs) that share no output (input) swept together.
COLORED_MODES = ("colored-forward", "colored-backward")

#: Every ``mode`` :func:`jacobian` takes ("reverse" is "backward").
JACOBIAN_MODES = ("auto", "forward", "backward", "reverse", *COLORED_MODES, "elimination")


def _colored(tr, graph, rows, columns, mode, matrix, labels, why=None):
    """The Jacobian from one sweep per colour class of its sparsity pattern (see :mod:`pathad.coloring`)."""
    pattern = pattern_of(tr, columns, rows)
    forward = mode == "colored-forward"
    coloring = color(pattern, axis="columns" if forward else "rows")
    for group in coloring.groups:
        if forward:
            sweep = solve_nodes(graph, [columns[j] for j in group], rows, True)
            for i, row in enumerate(rows):
                hit = [j for j in group if pattern[i, j]]  # at most one: the colouring is valid
                if hit:
                    matrix[i, hit[0]] = sweep.get(row, 0.0)
        else:
            sweep = solve_nodes(graph, [rows[i] for i in group], columns, False)
            for j, column in enumerate(columns):
                hit = [i for i in group if pattern[i, j]]
                if hit:
                    matrix[hit[0], j] = sweep.get(column, 0.0)
    wrt, of, layout = labels
    return Jacobian(matrix, wrt, of, mode, coloring.count, layout, coloring, why=why)


def _output(tr, of):
    if of is None:
        return tr.output
    check_ref(of, "of")
    return resolve_node(tr, of, "of")


def _warn_constant(tr, nodes):
    """A UserWarning for each node among ``nodes`` that depends on no input (an output that is a plain number)."""
    for node in tr._independent(nodes):
        warnings.warn(
            f"{tr.label(node)} does not depend on any input; its derivatives are 0", UserWarning, stacklevel=3
        )
