"""Record once, replay fast: a computation graph compiled to numpy arrays.

:func:`compile` freezes a graph (a :class:`~pathad.tracing.Trace`'s, or any
networkx DAG) into flat arrays: nodes in a topological order with their
operation codes, recorded values and constant operands; edges with their tail,
head, operand position and partial.  The result, a :class:`CompiledTape`, then

* solves path problems in the numeric semirings with numpy instead of a Python
  loop per edge (:meth:`CompiledTape.solve`, the vectorized twin of
  :func:`pathad.solve`; the plan is in :mod:`pathad._kernels`: trees of
  single-predecessor nodes contracted, the rest level by level), and
* replays the recorded program at new inputs without tracing again, on one
  point or a batch of points at once (:meth:`CompiledTape.evaluate`,
  :meth:`CompiledTape.gradient`, :meth:`CompiledTape.value_and_gradient`).
  Replay evaluates the very rules of :data:`pathad.primitives.PRIMITIVES`
  (on :data:`pathad.primitives.ARRAY` with numpy, compiled by numba);
  ``wrt=`` restricts a gradient to some inputs and ``fixed=`` shares leading
  inputs (a network's weights) across a batch.
  The comparisons the program made while it was traced are *guards*: a point
  that would take another branch is reported (:class:`BranchError`) or traced
  again, never silently given the recorded branch's answer.

Both run on numpy calls, or on loops compiled by numba when it is installed
(``pip install "pathad[fast]"``; see ``backend=`` of :func:`compile`), which
removes numpy's per-call overhead on deep and small graphs.  The generic
:func:`pathad.solve` stays the reference: the tests check that every backend
gives its answers.

Examples
--------
>>> import numpy as np
>>> from pathad import trace
>>> tape = compile(trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0))
>>> tape.gradient(x=3.0, y=5.0)
{'x': 155.0, 'y': 459.0}
>>> tape.gradient(x=np.array([3.0, 1.0]), y=np.array([5.0, 2.0]))["y"].tolist()
[459.0, 69.0]
>>> tape.solve(tape.outputs, direction="backward").values[:2].tolist()
[155.0, 459.0]
"""

import math
import numbers
from array import array
from collections.abc import Iterable, Mapping
from functools import cached_property

import networkx as nx
import numpy as np

from ._kernels import (
    ARRAY_SEMIRINGS,
    SUM,
    Program,
    Schedule,
    index_dtype,
    levels,
    node_depths,
    numba_available,
    run_program,
    sweep,
    sweep_numba,
)
from .errors import BranchError, DomainError, MissingDependencyError, MissingWeightError, ReplayError, UnknownNodeError
from .primitives import ARRAY, PRIMITIVES
from .semirings import SEMIRINGS, EdgePath, Scored, as_semiring
from .solver import is_forward
from .tracing import Trace, _as_tree, rebuild, trace

__all__ = ["compile", "CompiledTape", "Sweep", "Gradient", "OPS"]

#: Operation codes: ``OPS[code]`` is the op name; -1 marks a node without a known op.
OPS = ("input",) + tuple(PRIMITIVES)
_CODE = {name: code for code, name in enumerate(OPS)}
_ARITY = np.array([0] + [p.arity for p in PRIMITIVES.values()])
_ADD, _SUB, _MUL = _CODE["add"], _CODE["sub"], _CODE["mul"]
_BUDGET = 2**25  # array elements per replay chunk: (nodes + edges) x batch points
_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
            "==": np.equal, "!=": np.not_equal}  # fmt: skip


def compile(G, *, backend="auto"):
    """Freeze a trace or a networkx DAG into a :class:`CompiledTape`.

    Parameters
    ----------
    G : Trace, networkx.DiGraph or networkx.MultiDiGraph
        With a :class:`~pathad.tracing.Trace` whose graph was never asked for,
        the arrays are read straight from its tape (the graph cannot have been
        edited); otherwise from the graph: node attributes ``op``, ``value``,
        ``label``, ``consts``, edge attributes ``partial``, ``arg`` and
        ``weight``, whichever are present.
    backend : {"auto", "numpy", "numba"}
        Who runs the plans: numpy calls (always available), or loops compiled
        by numba (the extra ``pathad[fast]``; much faster on deep or small
        graphs and for replay).  "auto" takes numba when it is installed.
        Sweeps give bit-identical results either way; replayed values may
        differ in the last bits of exp, log, tanh, tan and pow (numba, like
        tracing, calls the C math library; numpy vectorizes its own).

    Returns
    -------
    CompiledTape

    Raises
    ------
    networkx.NetworkXUnfeasible
        If the graph has a cycle.

    Examples
    --------
    >>> G = nx.DiGraph([("s", "a", {"partial": 2.0}), ("a", "t", {"partial": 3.0})])
    >>> tape = compile(G)
    >>> tape.n_nodes, tape.n_edges, tape.solve("s").to_dict()
    (3, 2, {'s': 1.0, 'a': 2.0, 't': 6.0})
    """
    backend = _backend(backend)
    if isinstance(G, Trace):
        frozen = _freeze_tape(G.tape) if "graph" not in G.__dict__ else _freeze_graph(G.graph)
        return CompiledTape(frozen, G, backend)
    if isinstance(G, (nx.DiGraph, nx.MultiDiGraph)):
        return CompiledTape(_freeze_graph(G), None, backend)
    raise TypeError(f"compile needs a Trace or a networkx DiGraph/MultiDiGraph, got {type(G).__name__}")


def _backend(backend):
    if backend == "auto":
        return "numba" if numba_available() else "numpy"
    if backend == "numba" and not numba_available():
        raise MissingDependencyError('the numba backend needs numba: pip install "pathad[fast]"')
    if backend not in ("numpy", "numba"):
        raise ValueError(f"backend must be 'auto', 'numpy' or 'numba', got {backend!r}")
    return backend


# --- freezing: a tape or a graph into flat arrays ------------------------------


def _freeze_tape(tape):
    """The arrays of an untouched trace: node ids are positions already, in topological order."""
    n, m = len(tape.ops), len(tape.src)
    index = index_dtype(n, m)
    return {
        "nodes": None,
        "src": np.array(tape.src, dtype=index),
        "dst": np.array(tape.dst, dtype=index),
        "arg": np.array(tape.arg, dtype=np.int64),
        "partial": np.array(tape.partial, dtype=np.float64),
        "weight": None,
        "codes": np.array([_CODE.get(op, -1) for op in tape.ops], dtype=np.int8),
        "values": np.array(tape.values, dtype=np.float64),
        "labels": dict(tape.labels),
        "consts": dict(tape.consts),
        "default_label": True,
    }


def _freeze_graph(graph):
    """The arrays of any networkx DAG, nodes renumbered in a topological order."""
    nodes = _topological_nodes(graph)
    position = {node: i for i, node in enumerate(nodes)}
    src, dst, datas = _edge_list(graph, position)
    arg = _operand_positions([d.get("arg", -1) for d in datas])
    partial = [d.get("partial", math.nan) for d in datas]
    weight = [d.get("weight") for d in datas]
    index = index_dtype(len(nodes), len(src))
    identity = all(type(node) is int and node == i for i, node in enumerate(nodes))
    src, dst = np.frombuffer(src, dtype=np.int64), np.frombuffer(dst, dtype=np.int64)
    order = np.lexsort((src, arg, dst))  # a trace's own edge order: by head, then operand position
    return {
        "nodes": None if identity else nodes,
        "src": src[order].astype(index),
        "dst": dst[order].astype(index),
        "arg": arg[order],
        "partial": _numbers(partial, nodes, src, dst, "partial")[order],
        "weight": None if all(w is None for w in weight) else _numbers(weight, nodes, src, dst, "weight", 1.0)[order],
        **_node_attributes(graph, nodes),
    }


def _edge_list(graph, position):
    """Tail and head positions (int64 buffers) and the data dict of every edge, from networkx's adjacency dicts."""
    src, dst, datas = array("q"), array("q"), []
    multi = graph.is_multigraph()
    for u, nbrs in graph._adj.items():  # the dicts behind G.adj, read directly (as the solver does)
        tail = position[u]
        for v, data in nbrs.items():
            head = position[v]
            for d in data.values() if multi else (data,):
                src.append(tail)
                dst.append(head)
                datas.append(d)
    return src, dst, datas


def _topological_nodes(graph):
    """The graph's nodes, in its own order when that is topological, else in networkx's topological order."""
    nodes = list(graph)
    position = {node: i for i, node in enumerate(nodes)}
    if all(position[u] < position[v] for u, nbrs in graph._adj.items() for v in nbrs):
        return nodes
    try:
        return list(nx.topological_sort(graph))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(graph)
        path = " -> ".join(repr(edge[0]) for edge in cycle) + f" -> {cycle[0][0]!r}"
        raise nx.NetworkXUnfeasible(f"compile needs a DAG; the graph has a cycle: {path}") from None


def _operand_positions(args):
    """Edge ``arg`` attributes as ints; -1 where missing or not an int."""
    try:
        return np.array(args, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.array([a if isinstance(a, numbers.Integral) else -1 for a in args], dtype=np.int64)


def _numbers(values, nodes, src, dst, name, missing=math.nan):
    """An edge attribute as float64 (``missing`` where absent); a clear error naming an edge that is not a number."""
    values = [missing if v is None else v for v in values]
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        for k, value in enumerate(values):
            if not isinstance(value, numbers.Real):
                u, v = nodes[src[k]], nodes[dst[k]]
                raise TypeError(f"edge {u!r} -> {v!r}: its {name} {value!r} is not a number") from None
        raise


def _node_attributes(graph, nodes):
    attributes = graph._node
    ops = [attributes[node].get("op") for node in nodes]
    labels = {i: str(attributes[node]["label"]) for i, node in enumerate(nodes) if "label" in attributes[node]}
    consts = {i: tuple(attributes[node]["consts"]) for i, node in enumerate(nodes) if attributes[node].get("consts")}
    return {
        "codes": np.array([_CODE.get(op, -1) for op in ops], dtype=np.int8),
        "values": np.array([_float_or_nan(attributes[node].get("value", math.nan)) for node in nodes]),
        "labels": labels,
        "consts": consts,
        "default_label": False,
    }


def _float_or_nan(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# --- the compiled tape -----------------------------------------------------------


class CompiledTape:
    """A graph frozen into numpy arrays: vectorized sweeps and batched replay.

    Build one with :func:`compile`.  Nodes are numbered by *position* 0..n-1 in
    a topological order; for a trace, position = node id.

    Attributes
    ----------
    nodes : list or None
        The graph's node at each position (None: the node is its position).
    src, dst, arg, partial : numpy.ndarray
        Per edge: tail and head positions, operand position (-1 when
        unknown) and the recorded partial (nan when the edge has none).
    codes, values : numpy.ndarray
        Per node: operation code (an index into :data:`OPS`, -1 for none) and
        recorded value (nan when unknown).
    inputs : dict
        Input name -> position (nodes whose op is "input"), one per scalar
        input: an array argument ``v`` of a trace gives ``v[0]``, ``v[1]``, ...
    arguments : dict
        The traced function's argument name -> position, or an int ndarray
        of positions shaped like the array argument: replay takes and
        returns these shapes.
    outputs : list
        Output positions (a trace's outputs; for a plain graph, its op nodes
        that feed nothing).
    backend : str
        "numpy" or "numba": who runs sweeps and replays (see :func:`compile`).

    Examples
    --------
    >>> from pathad import trace
    >>> tape = compile(trace(lambda x: x * x + 1.0, 3.0))
    >>> tape.evaluate(x=2.0), tape.gradient(x=2.0)
    (5.0, {'x': 4.0})
    """

    def __init__(self, frozen, tr, backend="numpy"):
        self.backend = backend
        self.nodes = frozen["nodes"]
        self.src, self.dst, self.arg = frozen["src"], frozen["dst"], frozen["arg"]
        self.partial, self._weight = frozen["partial"], frozen["weight"]
        self.codes, self.values = frozen["codes"], frozen["values"]
        self._labels, self._consts = frozen["labels"], frozen["consts"]
        self._default_label = frozen["default_label"]
        self.n_nodes, self.n_edges = len(self.codes), len(self.src)
        self._index = None if self.nodes is None else {node: i for i, node in enumerate(self.nodes)}
        self._trace = tr is not None
        self.name = tr.name if tr is not None else "graph"
        self._read_program_interface(tr)
        self._input_rows = {name: row for row, name in enumerate(self.inputs)}
        self._argument_rows = self._rows_of_arguments()
        self._scalar_arguments = all(isinstance(row, int) for row in self._argument_rows.values())
        self._plans = {}
        self._variants = []
        self._wrt_names = {}

    def _read_program_interface(self, tr):
        input_positions = np.flatnonzero(self.codes == 0)
        if tr is not None:
            self.inputs = {name: self._position_of_node(node) for name, node in tr.inputs.items()}
            self.outputs = [self._position_of_node(node) for node in tr.outputs]
            self.arguments = {name: _mapped(nodes, self._position_of_node) for name, nodes in tr.arguments.items()}
            self._tree = tr._tree
            self._guards = list(tr.tape.guards)
        else:
            self.inputs = {self.label(int(p)): int(p) for p in input_positions}
            fed = np.bincount(self.src, minlength=self.n_nodes) > 0
            self.outputs = [int(p) for p in np.flatnonzero((self.codes > 0) & ~fed)]
            self.arguments = dict(self.inputs)
            structure = None if len(self.outputs) == 1 else tuple(self.label(p) for p in self.outputs)
            self._tree = _as_tree(structure, len(self.outputs))
            self._guards = []

    def _rows_of_arguments(self):
        """Argument name -> its input row (int), or an int ndarray of rows shaped like the array argument."""
        row_of = {position: row for row, position in enumerate(self.inputs.values())}
        return {name: _mapped(positions, lambda p: row_of.get(p, -1)) for name, positions in self.arguments.items()}

    def _position_of_node(self, node):
        if self._index is None:
            return node if isinstance(node, int) and 0 <= node < self.n_nodes else -1
        return self._index.get(node, -1)

    def __repr__(self):
        return f"<CompiledTape {self.name}: {self.n_nodes} nodes, {self.n_edges} edges, {self.nbytes} bytes>"

    @property
    def nbytes(self):
        """Bytes held by the tape's arrays and the sweep plans built so far (not Python objects)."""
        arrays = (self.src, self.dst, self.arg, self.partial, self.codes, self.values, self._weight)
        plans = sum(plan.nbytes for plan in self._plans.values())
        return sum(a.nbytes for a in arrays if a is not None) + plans

    # --- nodes: positions, labels, references -----------------------------------

    def node(self, position):
        """The graph's node at a position."""
        return position if self.nodes is None else self.nodes[position]

    def label(self, position):
        """A node's label: its ``label``, else ``v<id>`` for a trace and ``repr(node)`` for a plain graph."""
        label = self._labels.get(position)
        if label is not None:
            return label
        return f"v{position}" if self._default_label else repr(self.node(position))

    @cached_property
    def _by_label(self):
        found = {}
        for position, label in self._labels.items():
            found.setdefault(label, []).append(position)
        return found

    def position(self, ref):
        """The position of a node given as an input name, a label or the node itself (as :func:`pathad.solve`).

        Examples
        --------
        >>> tape = compile(nx.DiGraph([("a", "b", {"partial": 1.0})]))
        >>> tape.position("b")
        1
        """
        if self._trace and isinstance(ref, str):
            if ref in self.inputs:
                return self.inputs[ref]
            if ref == self.name and len(self.outputs) == 1:
                return self.outputs[0]
        if not self._trace and _hashable(ref) and self._position_of_node(ref) >= 0:
            return self._position_of_node(ref)
        if isinstance(ref, str):
            matches = self._by_label.get(ref, [])
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UnknownNodeError(f"label {ref!r} names {len(matches)} nodes; use a node id")
        if _hashable(ref) and not isinstance(ref, bool) and self._position_of_node(ref) >= 0:
            return self._position_of_node(ref)
        raise UnknownNodeError(f"no node {ref!r} in the compiled graph (nor a node labeled so)")

    def _positions(self, ref, what):
        single = isinstance(ref, str) or not isinstance(ref, Iterable)
        single = single or (_hashable(ref) and self._position_of_node(ref) >= 0)
        refs = [ref] if single else list(ref)
        if not refs:
            raise ValueError(f"{what} is empty")
        return list(dict.fromkeys(self.position(r) for r in refs))

    # --- vectorized sweeps -------------------------------------------------------

    def _plan(self, forward, forced=()):
        key = (forward, tuple(sorted(forced)))
        if key not in self._plans:
            gather, other = (self.dst, self.src) if forward else (self.src, self.dst)
            self._plans[key] = Schedule(self.n_nodes, gather, other, forced)
        return self._plans[key]

    @cached_property
    def _in_count(self):
        n = self.n_nodes
        return {True: np.bincount(self.dst, minlength=n), False: np.bincount(self.src, minlength=n)}

    def _plan_from(self, seeds, forward):
        """The plan for a sweep from ``seeds``: seeds with one incoming edge become roots."""
        return self._plan(forward, [s for s in seeds if self._in_count[forward][s] == 1])

    def _run(self, seeds, forward, weights, semiring, batch=1):
        run = sweep_numba if self.backend == "numba" and weights.dtype != object else sweep
        return run(self._plan_from(seeds, forward), weights, seeds, semiring, batch)

    def solve(self, start, *, direction="forward", semiring="real", weight=None, targets=None):
        """The path problem from ``start``, as :func:`pathad.solve` but on arrays: a :class:`Sweep`.

        Parameters
        ----------
        start : node or collection of nodes
            Sources (forward) or targets (backward), by node, label or input name.
        direction : {"forward", "backward"}
        semiring : Semiring or str
            One of the numeric semirings: real, boolean, counting, max-times,
            min-plus, max-plus.
        weight : None, str or array, optional
            The edge weight: the semiring's default (as :func:`pathad.solve`),
            ``"partial"``, ``"weight"`` or an array with one entry per edge in
            the tape's order.  For max-times it is the signed weight whose
            absolute value scores an edge (as :func:`pathad.semirings.influence`).
        targets : node or collection of nodes, optional
            Keep only the nodes on paths from ``start`` to ``targets``.

        Returns
        -------
        Sweep
            ``.values`` holds every node's path value by position;
            ``.to_dict()`` is exactly what :func:`pathad.solve` returns.

        Examples
        --------
        >>> G = nx.MultiDiGraph([("x", "u", {"partial": 2.0}), ("x", "u", {"partial": 2.0}),
        ...                      ("u", "t", {"partial": 5.0})])
        >>> tape = compile(G)
        >>> tape.solve("x").values.tolist(), tape.solve("t", direction="backward").to_dict()
        ([1.0, 4.0, 20.0], {'t': 1.0, 'u': 5.0, 'x': 20.0})
        >>> tape.solve("x", semiring="counting").to_dict()["t"], tape.solve("x", semiring="max_times")["t"].score
        (2, 10.0)
        """
        name = _numeric_semiring(semiring)
        forward = is_forward(direction)
        seeds = self._positions(start, "start")
        allowed = None
        if targets is not None:
            ends = self._positions(targets, "targets")
            allowed = self._reach(ends, not forward)
            seeds = [s for s in seeds if allowed[s]]
        signed = self._signed_weights(name, weight)
        if name in ("real", "max-times") and (weight is None or isinstance(weight, str) and weight == "partial"):
            signed = self._check_partials(seeds, forward)
        values = self._sweep_values(name, seeds, forward, signed)
        if name == "real" and seeds:
            values = self._checked_real(values, seeds, forward, signed, targets, allowed)
        return Sweep(self, name, forward, seeds, values, allowed, signed)

    def _checked_real(self, values, seeds, forward, signed, targets, allowed):
        """Real path values, after checking that those returned (at ``targets`` when given) are finite.

        Where one is not, the generic :func:`pathad.solve` sweeps the same
        edges: its DomainError names the node where the path value first
        became non-finite; should it be finite after all (the numpy plan
        multiplies tree paths in another order, which can overflow on its own),
        its values are returned instead.
        """
        ends = self._positions(targets, "targets") if targets is not None else None
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(values if ends is None else values[ends]).all()
        if finite:
            return values
        mask = allowed if allowed is not None else np.ones(self.n_nodes, dtype=bool)
        edges = np.flatnonzero(mask[self.src] & mask[self.dst])
        found = self._generic_solve(signed[edges], edges, seeds, forward, ends, None)
        values = np.zeros(self.n_nodes)
        values[list(found)] = list(found.values())
        return values

    def _generic_solve(self, weights, edges, seeds, forward, targets, where):
        """:func:`pathad.solve` (REAL) over the tape's ``edges`` with ``weights``, by position; {position: value}.

        Nodes carry their labels, so its DomainError names them as the
        tape does; ``where`` (e.g. "replaying batch element 3") is added to it.
        """
        from .solver import solve

        graph = nx.MultiDiGraph()
        graph.add_nodes_from((p, {"label": self.label(p)}) for p in range(self.n_nodes))
        graph.add_edges_from(
            (int(u), int(v), k, {"partial": float(w)})
            for k, u, v, w in zip(edges.tolist(), self.src[edges], self.dst[edges], weights)
        )
        try:
            return solve(graph, list(seeds), direction="forward" if forward else "backward", targets=targets)
        except DomainError as error:
            if where is None:
                raise
            raise DomainError(f"{error} ({where})") from None

    def _sweep_values(self, name, seeds, forward, signed):
        if not seeds:
            return np.full(self.n_nodes, ARRAY_SEMIRINGS[name].zero, dtype=ARRAY_SEMIRINGS[name].dtype)
        if name == "counting":
            return self._counts(seeds, forward, signed)
        weights = _semiring_weights(name, signed)
        return self._run(seeds, forward, weights[:, None], ARRAY_SEMIRINGS[name])[:, 0]

    def _counts(self, seeds, forward, signed):
        """Path counts: float64 when no count, term or partial sum can reach 2**53 (then exact), else Python ints.

        A sum at a node has at most (in-degree) terms of |count| · |weight|, so
        max count · max |weight| · max in-degree < 2**53 bounds every float
        the sweep forms.
        """
        counts = self._run(seeds, forward, signed[:, None], ARRAY_SEMIRINGS["counting"])[:, 0]
        integral = bool(np.all(signed == np.round(signed)))
        largest = float(np.abs(counts).max(initial=0)) * max(1.0, float(np.abs(signed).max(initial=0)))  # inf: exact
        if not integral or largest * max(1, self._in_count[forward].max(initial=0)) < 2.0**53:
            return counts.astype(np.int64) if integral else counts
        exact = np.array([int(w) for w in signed], dtype=object)[:, None]
        return self._run(seeds, forward, exact, ARRAY_SEMIRINGS["counting-exact"])[:, 0]

    def _reach(self, seeds, forward):
        """Boolean mask of the nodes reachable from ``seeds`` (structurally, every edge counts)."""
        weights = np.ones((self.n_edges, 1), dtype=bool)
        return self._run(seeds, forward, weights, ARRAY_SEMIRINGS["boolean"])[:, 0]

    def _signed_weights(self, name, weight):
        """The raw weight per edge (before the semiring's transform), from the default or ``weight``."""
        if weight is None:
            weight = {"real": "partial", "max-times": "partial"}.get(name, "weight" if "plus" in name else "unit")
        if isinstance(weight, str):
            return self._attribute(weight, name)
        if callable(weight):
            raise TypeError(
                "a compiled sweep reads weights from arrays, not functions: give weight= an array with one "
                "entry per edge (tape.src / tape.dst give the edges), or use pathad.solve on the graph"
            )
        weights = np.asarray(weight)
        if weights.shape != (self.n_edges,):
            raise ValueError(f"weight= needs one entry per edge: shape ({self.n_edges},), got {weights.shape}")
        return weights.astype(bool) if name == "boolean" else weights.astype(np.float64)

    def _attribute(self, weight, name):
        if weight == "unit":
            return np.ones(self.n_edges, dtype=bool if name == "boolean" else np.float64)
        if weight == "partial":
            return self.partial
        if weight == "weight":
            return self._weight if self._weight is not None else np.ones(self.n_edges)
        raise MissingWeightError(
            f"a compiled tape keeps the edge attributes 'partial' and 'weight', not {weight!r}; "
            "give weight= an array with one entry per edge"
        )

    def _check_partials(self, seeds, forward):
        """The partials, after checking that every edge a sweep from ``seeds`` reads has one (0 elsewhere)."""
        missing = np.isnan(self.partial)
        if not (seeds and missing.any()):
            return self.partial
        reader = self.src if forward else self.dst
        bad = np.flatnonzero(missing & self._reach(seeds, forward)[reader])
        if bad.size:
            u, v = self.node(int(self.src[bad[0]])), self.node(int(self.dst[bad[0]]))
            raise MissingWeightError(f"edge {u!r} -> {v!r} has no 'partial' attribute")
        return np.where(missing, 0.0, self.partial)

    # --- replay -------------------------------------------------------------------

    @cached_property
    def _program(self):
        return _Program(self)

    def evaluate(self, *args, at=None, fixed=None, retrace=None, **inputs):
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
        >>> from pathad import trace
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

    def gradient(self, *args, of=None, wrt=None, at=None, fixed=None, retrace=None, **inputs):
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
        >>> from pathad import trace, relu
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

    def value_and_gradient(self, *args, of=None, wrt=None, at=None, fixed=None, retrace=None, **inputs):
        """(value of ``of``, :meth:`gradient`) from one replay: both for the price of the gradient.

        Takes what :meth:`gradient` takes; the value is a float, or an array
        of shape (B,) for a batch.

        Examples
        --------
        >>> from pathad import trace
        >>> tape = compile(trace(lambda x, y: x * y + y, x=2.0, y=3.0))
        >>> tape.value_and_gradient(x=1.0, y=10.0)
        (20.0, {'x': 10.0, 'y': 2.0})
        >>> value, grad = tape.value_and_gradient(at=[[1.0, 2.0]], fixed=[10.0])  # x = 10 at both points
        >>> value.tolist(), grad["y"].tolist()
        ([11.0, 22.0], [11.0, 11.0])
        """
        self._program  # noqa: B018 - first: a tape without operations says so before anything else
        points, scalar = self._points(args, inputs, at, fixed)
        output, (rows, names) = self._output(of), self._wrt_rows(wrt)
        values, grads = self._replay(points, output, retrace, rows)
        value = values[self.outputs.index(output)] if output in self.outputs else self._value_of(output, points)
        if scalar:
            return float(value[0]), Gradient(names, grads[:, 0])
        return value, Gradient(names, grads)

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
        """One column per input, shape (inputs, B) (a :class:`_Batch` with ``fixed``); and whether every input
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
            rows = self._argument_rows[name] if name in self.arguments else self._input_rows[name]
            shape = np.shape(rows)
            array = np.asarray(value, dtype=np.float64)
            if array.shape == shape:
                columns.append((np.ravel(rows), array.reshape(-1, 1)))
            elif array.ndim == len(shape) + 1 and array.shape[1:] == shape:
                batches[name] = array.shape[0]
                columns.append((np.ravel(rows), array.reshape(array.shape[0], -1).T))
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
        points = np.empty((len(self.inputs), batch))
        points[:] = self.values[list(self.inputs.values())][:, None] if self.inputs else 0.0
        for rows, values in columns:
            points[rows] = values
        return points, not batches

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
        return (_Batch(fixed, points[:, None]), True) if points.ndim == 1 else (_Batch(fixed, points), False)

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
    array argument of shape S, arrays of shape S, or (B, *S) for a batch.
    ``array`` holds all of them in input order, shape (inputs,) or (inputs, B),
    without building a dict (which, for thousands of inputs, costs more than
    the replay).

    Examples
    --------
    >>> from pathad import trace
    >>> g = compile(trace(lambda x, y: x * y, 2.0, 3.0)).gradient(2.0, 3.0)
    >>> g, g["x"], g.array.tolist()
    ({'x': 3.0, 'y': 2.0}, 3.0, [3.0, 2.0])
    """

    __slots__ = ("_rows", "array")

    def __init__(self, rows, array):
        self._rows, self.array = rows, array

    def __getitem__(self, name):
        rows = self._rows[name]
        value = self.array[rows]
        if isinstance(rows, np.ndarray):  # an array argument: its shape, the batch axis first
            return value if self.array.ndim == 1 else np.moveaxis(value, -1, 0)
        return float(value) if self.array.ndim == 1 else value

    def __iter__(self):
        return iter(self._rows)

    def __len__(self):
        return len(self._rows)

    def __repr__(self):
        return repr(dict(self))


def _mapped(ids, lookup):
    """``lookup`` applied to one id, or to each id of an int ndarray (keeping its shape)."""
    if not isinstance(ids, np.ndarray):
        return lookup(ids)
    return np.array([lookup(i) for i in ids.ravel().tolist()], dtype=np.int64).reshape(ids.shape)


def _hashable(ref):
    try:
        hash(ref)
    except TypeError:
        return False
    return True


def _numeric_semiring(semiring):
    s = as_semiring(semiring)
    if s.name in ARRAY_SEMIRINGS and s == SEMIRINGS[s.name]:
        return s.name
    raise TypeError(
        f"a compiled sweep handles the numeric semirings ({', '.join(n for n in SEMIRINGS if n != 'symbolic')}), "
        f"not {s.name!r}; use pathad.solve for it"
    )


def _semiring_weights(name, signed):
    """Weights in the semiring: max-times scores an edge |w|, and an edge with w = 0 is no path (-inf)."""
    if name == "max-times":
        return np.where(signed == 0, -np.inf, np.abs(signed))
    return signed


# --- the result of a compiled sweep ----------------------------------------------


class Sweep:
    """The path values of one compiled sweep.

    Attributes
    ----------
    values : numpy.ndarray
        One value per node position: floats (real, min-plus, max-plus), bools
        (boolean), int64 or, past 2**53, Python ints (counting), scores
        (max-times; -inf where no path has a nonzero product).  Nodes off every
        path hold the semiring's zero.
    semiring : str
        The semiring's name.

    Examples
    --------
    >>> tape = compile(nx.DiGraph([(0, 1, {"partial": -2.0}), (1, 2, {"partial": 3.0})]))
    >>> best = tape.solve(0, semiring="max-times")
    >>> best[2]
    Scored(score=6.0, edges=EdgePath(((0, 1, -2.0), (1, 2, 3.0))))
    >>> best.path(2) == ((0, 1, -2.0), (1, 2, 3.0))
    True
    """

    def __init__(self, tape, semiring, forward, seeds, values, allowed, signed):
        self.semiring = semiring
        self.values = values if allowed is None else _outside_is_zero(values, allowed, semiring)
        self._tape, self._forward, self._seeds = tape, forward, seeds
        self._allowed, self._signed = allowed, signed

    def __repr__(self):
        return f"<Sweep {self.semiring} {'forward' if self._forward else 'backward'}: {int(self.reached.sum())} nodes>"

    @cached_property
    def reached(self):
        """Boolean mask of the nodes on some path from the start (to the targets), as in :func:`pathad.solve`."""
        if not self._seeds:
            return np.zeros(self._tape.n_nodes, dtype=bool)
        reached = self._tape._reach(self._seeds, self._forward)
        return reached if self._allowed is None else reached & self._allowed

    def to_dict(self):
        """{node: path value} for the reached nodes, in the types :func:`pathad.solve` returns."""
        tape = self._tape
        positions = np.flatnonzero(self.reached)
        return {tape.node(int(p)): self._element(int(p)) for p in (positions if self._forward else positions[::-1])}

    def __getitem__(self, ref):
        position = self._tape.position(ref)
        if not self.reached[position]:
            raise KeyError(ref)
        return self._element(position)

    def get(self, ref, default=None):
        """The path value of a node, ``default`` when no path reaches it."""
        try:
            return self[ref]
        except KeyError:
            return default

    def _element(self, position):
        value = self.values[position]
        if self.semiring == "boolean":
            return bool(value)
        if self.semiring == "counting":
            return int(value) if not isinstance(value, float | np.floating) else float(value)
        if self.semiring == "max-times":
            return _NO_PATH if value == -np.inf else Scored(float(value), self._paths.path(position))
        return float(value)

    def path(self, ref):
        """The best path to (forward) or from (backward) a node: an :class:`~pathad.semirings.EdgePath` (max-times)."""
        if self.semiring != "max-times":
            raise ValueError(f"paths are kept by the max-times semiring, not {self.semiring!r}")
        return self[ref].edges

    @cached_property
    def _paths(self):
        return _BestPaths(self)


_NO_PATH = SEMIRINGS["max-times"].zero


def _outside_is_zero(values, allowed, semiring):
    values = values.copy()
    values[~allowed] = ARRAY_SEMIRINGS[semiring].zero if semiring != "counting" else 0
    return values


class _BestPaths:
    """The max-times argmax edge of every reached node, with the generic sweep's tie rule, and its paths.

    A node's best edge is the one whose candidate score equals the node's
    score; when several do, the tie goes to the path whose edge tuple sorts
    first (:func:`pathad.semirings._better`).  Backward, the paths differ in
    their first edge, so comparing (head, weight) decides; forward, the
    candidate paths are compared whole, in topological order, which is Python
    work for tied nodes only.  A seed whose score is 1 keeps its empty path.
    """

    def __init__(self, result):
        tape, forward = result._tape, result._forward
        self._tape, self._forward, self._signed = tape, forward, result._signed
        self._reader, self._gatherer = (tape.src, tape.dst) if forward else (tape.dst, tape.src)
        scores = result.values
        seed = np.zeros(tape.n_nodes, dtype=bool)
        seed[result._seeds] = True
        self.best = np.full(tape.n_nodes, -1, dtype=np.int64)
        self._memo = {}
        candidates = self._candidates(scores, result.reached, seed)
        self._choose(candidates)

    def _candidates(self, scores, reached, seed):
        """Edges whose path score is the node's: equal scores, or the only edge into a non-seed node.

        A node with a single incoming edge has its score computed along a
        tree (by pointer jumping, with numpy), which may round differently
        from score(reader) ⊗ |w|; that edge is its best whenever it has a path.
        """
        weights = _semiring_weights("max-times", self._signed)
        offered = ARRAY_SEMIRINGS["max-times"].times(scores[self._reader], weights)
        target = scores[self._gatherer]
        only = (self._tape._in_count[self._forward] == 1) & ~seed
        ok = reached[self._gatherer] & (target > -np.inf) & ((offered == target) | only[self._gatherer])
        ok &= ~(seed[self._gatherer] & (target == 1.0))  # the empty path wins a tie at a seed
        return np.flatnonzero(ok)

    def _choose(self, candidates):
        nodes, counts = np.unique(self._gatherer[candidates], return_counts=True)
        order = np.argsort(self._gatherer[candidates], kind="stable")
        sorted_edges = candidates[order]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        single = counts == 1
        self.best[nodes[single]] = sorted_edges[starts[single]]
        tied = [(int(v), sorted_edges[s : s + c]) for v, s, c in zip(nodes[~single], starts[~single], counts[~single])]
        for node, edges in sorted(tied, key=lambda item: item[0], reverse=not self._forward):
            self.best[node] = min(edges, key=self._tie_key)

    def _tie_key(self, edge):
        tape = self._tape
        if self._forward:
            return _Ordered(self.path(int(tape.src[edge])) + self._edge_path(edge))
        return (tape.node(int(tape.dst[edge])), float(self._signed[edge]))

    def _edge_path(self, edge):
        tape = self._tape
        return EdgePath(((tape.node(int(tape.src[edge])), tape.node(int(tape.dst[edge])), float(self._signed[edge])),))

    def path(self, position):
        """The best path of a node, built by following best edges (iteratively, memoized)."""
        chain = []
        while position not in self._memo and self.best[position] >= 0:
            chain.append(position)
            position = int(self._reader[self.best[position]])
        path = self._memo.get(position, EdgePath())
        for node in reversed(chain):
            step = self._edge_path(self.best[node])
            path = path + step if self._forward else step + path
            self._memo[node] = path
        return path


class _Ordered:
    """Wraps an EdgePath for ``min``: its own ``<`` compares as tuples of edges."""

    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path

    def __lt__(self, other):
        return self.path < other.path


# --- replay: the recorded program, evaluated level by level on arrays ------------


class _Program:
    """The operations of a compiled tape, planned for replay on a batch of points.

    Built on the first replay.  Plan: every op node's operands (node or
    constant, by position); for numpy, sums of sums (add/sub nodes each
    feeding only the next) fused into chains evaluated by one cumulative sum,
    the rest levelled and grouped by (level, op, which operands are traced) so
    that each group is one call of the primitive's rule on arrays; for numba,
    a :class:`_Layout` (the program in order, sums of products fused), run by
    one compiled call with its backward pass.
    """

    def __init__(self, tape):
        self.tape = tape
        problem = self._problem()
        if problem:
            raise ReplayError(problem)
        self.input_positions = np.array(list(tape.inputs.values()), dtype=np.int64)
        self._active = {}
        self._read_operands()
        self._plan_guards()
        if tape.backend == "numpy":  # numba runs the program unit by unit (see _Layout) and needs no levels
            self._plan_chains()
            self._plan_levels()

    def _problem(self):
        tape = self.tape
        if tape.n_nodes == 0 or not (tape._trace or (tape.codes > 0).any()):
            # a trace without operations (lambda x: x) is a program all the same: its outputs are inputs
            return (
                f"{tape.name} has no operations to replay: a graph without 'op' attributes compiles to "
                "values and partials only (tape.solve works on it)"
            )
        unknown = np.flatnonzero(tape.codes < 0)
        if unknown.size:
            return f"node {tape.label(int(unknown[0]))} has no known op, so the program cannot be replayed"
        if any(p < 0 for p in list(tape.inputs.values()) + tape.outputs):
            return "an input or output of the trace is no longer in its graph"
        return None

    def _read_operands(self):
        tape, n = self.tape, self.tape.n_nodes
        arity = _ARITY[tape.codes]
        if ((tape.arg < 0) | (tape.arg >= arity[tape.dst])).any():
            bad = int(tape.dst[(tape.arg < 0) | (tape.arg >= arity[tape.dst])][0])
            raise ReplayError(f"node {tape.label(bad)}: an edge into it has no valid operand position 'arg'")
        self.node_of = np.full((2, n), -1, dtype=np.int64)
        self.edge_of = np.full((2, n), -1, dtype=np.int64)
        self.const_of = np.zeros((2, n))
        filled = np.zeros((2, n), dtype=np.int64)
        np.add.at(filled, (tape.arg, tape.dst), 1)
        self.node_of[tape.arg, tape.dst] = tape.src
        self.edge_of[tape.arg, tape.dst] = np.arange(tape.n_edges)
        for position, pairs in tape._consts.items():
            for j, constant in pairs:
                self.const_of[j, position] = constant
                filled[j, position] += 1
        wrong = np.flatnonzero((filled != (np.arange(2)[:, None] < arity)).any(axis=0))
        if wrong.size:
            raise ReplayError(f"node {tape.label(int(wrong[0]))}: its operands do not match its op's arity")

    def _plan_chains(self):
        """Link each add/sub node to an add/sub operand that feeds nothing else (its partial sum)."""
        tape, n = self.tape, self.tape.n_nodes
        single = np.bincount(tape.src, minlength=n) == 1
        link, self.chain_link_second = _chain_links(tape.codes, self.node_of, single)
        linked = np.flatnonzero((link >= 0) | np.isin(np.arange(n), link[link >= 0]))
        self.chain_nodes, self.chain_starts, self.chain_head = _group_chains(link, linked)

    def _plan_levels(self):
        tape, n = self.tape, self.tape.n_nodes
        unit = self.chain_head
        tail, headn = unit[tape.src], unit[tape.dst]
        keep = tail != headn
        self.level = levels(n, tail[keep], headn[keep], np.flatnonzero(unit == np.arange(n)))
        self.level = self.level[unit]
        self.depth = int(self.level.max()) + 1
        self._plan_groups()
        self._plan_chain_buckets()

    def _plan_groups(self):
        """(op, traced-operand pattern, nodes) per level, and the same across all levels for partials."""
        tape = self.tape
        in_chain = np.zeros(tape.n_nodes, dtype=bool)
        in_chain[self.chain_nodes] = True
        ops = np.flatnonzero((tape.codes > 0) & ~in_chain)
        pattern = (self.node_of[0] >= 0) + 2 * (self.node_of[1] >= 0)
        self.groups = [[] for _ in range(self.depth)]
        for (level, code, traced), nodes in _split(ops, self.level[ops], tape.codes[ops], pattern[ops]):
            self.groups[level].append(_Group(self, code, traced, nodes))
        op_nodes = np.flatnonzero(tape.codes > 0)
        self.partial_groups = [
            _Group(self, code, traced, nodes)
            for (code, traced), nodes in _split(op_nodes, tape.codes[op_nodes], pattern[op_nodes])
        ]

    def _plan_chain_buckets(self):
        """Chains laid out as rows of cumulative-sum terms, bucketed by (level, power-of-two length)."""
        self.chains = [[] for _ in range(self.depth)]
        members = self.chain_nodes
        if not members.size:
            return
        starts = self.chain_starts
        lengths = np.diff(np.r_[starts, members.size])
        term_node, term_const, term_sign = _chain_terms(self, self.chain_link_second, members, starts)
        width = 1 << np.ceil(np.log2(lengths + 1)).astype(np.int64)
        chain_level = self.level[members[starts]]
        for (level, w), rows in _split(np.arange(starts.size), chain_level, width):
            self.chains[level].append(_bucket(rows, starts, lengths, int(w), members, term_node, term_const, term_sign))

    def _plan_guards(self):
        tape = self.tape
        guards = tape._guards
        self.guard_left = np.array([tape._position_of_node(g.left) for g in guards], dtype=np.int64)
        self.guard_right = np.array(
            [tape._position_of_node(g.right) if g.right is not None else -1 for g in guards], dtype=np.int64
        )
        self.guard_const = np.array([g.constant if g.right is None else 0.0 for g in guards], dtype=np.float64)
        self.guard_outcome = np.array([g.outcome for g in guards], dtype=bool)
        self.guard_ops = [g.op for g in guards]
        lost = [g for g, left, right in zip(guards, self.guard_left, self.guard_right)
                if left < 0 or (g.right is not None and right < 0)]  # fmt: skip
        if lost:
            raise ReplayError(f"the guard {lost[0].op!r} refers to a node no longer in the graph")
        self.guard_time = np.append(np.maximum(self.guard_left, self.guard_right), tape.n_nodes)

    # --- running ---

    def run(self, points, output, wrt=None):
        """(outputs, gradients or None, flipped or None) for the columns of ``points``, chunk by chunk.

        Gradients of ``output`` with respect to the inputs ``wrt`` (a tuple or
        range of input rows; None: all), one row each.
        """
        tape, batch = self.tape, points.shape[1]
        chunk = max(1, min(batch, _BUDGET // max(tape.n_nodes + tape.n_edges, 1)))
        if chunk == batch:
            return self._run_chunk(points, 0, output, wrt)
        outputs = np.empty((len(tape.outputs), batch))
        grads = None if output is None else np.empty((len(tape.inputs) if wrt is None else len(wrt), batch))
        flipped = np.full(batch, -1, dtype=np.int64)
        for lo in range(0, batch, chunk):
            part = self._run_chunk(points[:, lo : lo + chunk], lo, output, wrt)
            outputs[:, lo : lo + chunk] = part[0]
            if grads is not None:
                grads[:, lo : lo + chunk] = part[1]
            if part[2] is not None:
                flipped[lo : lo + chunk] = part[2]
        return outputs, grads, flipped if (flipped >= 0).any() else None

    def _run_chunk(self, points, offset, output, wrt):
        """Compute everything, then check: guards first, then domain errors in the columns that keep their branch."""
        result = self.compute(points, output, wrt=wrt)
        first_guard = self._excuse_traced_point(self.check_guards(result.at), points)
        if result.finite and first_guard is None:
            self._check_gradients(points, result, output, wrt, None, offset)
            return result.outputs, result.grads, None
        if first_guard is None:
            first_guard = np.full(points.shape[1], -1, dtype=np.int64)
        if not result.finite:
            _check_inputs(self.tape, points)
            if self.tape.backend == "numba":
                result = self.compute(points, output, exact=True, wrt=wrt)  # every node's value, every partial needed
            values, partials = result.everything()
            self._raise_domain(values, _first_nonfinite(values), first_guard, offset, points.shape[1])
            if output is not None:
                active = self.active_nodes(output, wrt)
                needed = active[self.tape.src] & active[self.tape.dst]
                self._check_partials(values, partials, needed[:, None] & (first_guard < 0), offset)
        self._check_gradients(points, result, output, wrt, first_guard, offset)
        flipped = first_guard if (first_guard >= 0).any() else None
        return result.outputs, result.grads, flipped

    def _excuse_traced_point(self, first_guard, points):
        """``first_guard`` with the columns at the traced point itself cleared (None when no guard is left).

        At the point the program was traced, the guards' recorded outcomes are
        the truth: tracing computed them with Python's math, and the tape is
        that very run.  numpy's vectorized exp, log, tanh, tan and pow may round
        a last bit differently, which flips a guard that was a near-tie (say
        ``exp(x) > c`` with c the traced exp(x)); replaying exactly at the
        traced inputs (bit for bit) therefore never reports a changed branch.
        Elsewhere a near-tie is judged by the backend's own rounding.
        """
        if first_guard is None or not (first_guard >= 0).any():
            return None
        traced = self.tape.values[self.input_positions].view(np.int64)
        at_traced = (np.asarray(points, dtype=np.float64).view(np.int64) == traced[:, None]).all(axis=0)
        first_guard = np.where(at_traced, -1, first_guard)
        return first_guard if (first_guard >= 0).any() else None

    def _check_gradients(self, points, result, output, wrt, first_guard, offset):
        """A DomainError when a gradient (a backward path value) is not finite in a column that keeps its branch.

        Every value and partial is finite by now, so the backward sweep itself
        overflowed.  The column is swept again by the generic
        :func:`pathad.solve`, whose message names the node where the path value
        first became non-finite; should the generic sweep be finite there (the
        numpy plan multiplies tree paths in another order), its answer is used.
        """
        grads = result.grads
        if grads is None:
            return
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(grads).all(axis=0)
        if first_guard is not None:
            bad &= first_guard < 0
        for column in np.flatnonzero(bad):
            grads[:, column] = self._generic_gradient(points, int(column), output, wrt, offset)

    def _generic_gradient(self, points, column, output, wrt, offset):
        """The gradient at one column by :func:`pathad.solve` on the replayed partials (raises DomainError)."""
        tape = self.tape
        point = points[:, column : column + 1]
        replayed = self.compute(point, output, exact=True, wrt=wrt)
        values, partials = replayed.everything()
        active = self.active_nodes(output, wrt)
        needed = np.flatnonzero(active[tape.src] & active[tape.dst])
        sources = self.input_positions[_as_index(wrt, len(tape.inputs))]
        where = f"replaying batch element {offset + column}" if points.shape[1] > 1 or offset else "replaying"
        sweep = tape._generic_solve(partials[needed, 0], needed, [output], False, sources.tolist(), where)
        return np.array([sweep.get(int(s), 0.0) for s in sources])

    def compute(self, points, output=None, exact=False, wrt=None):
        """A :class:`_Replayed`: values, and with an ``output`` its gradient with respect to ``wrt``, at the columns
        of ``points``.

        numba runs the whole program (sums of products fused, unless
        ``exact``: then every node's value and every needed partial is kept)
        and its backward pass in one compiled call; numpy level by level,
        then the partials by op, then the planned sweep.
        """
        tape = self.tape
        rows = _as_index(wrt, len(tape.inputs))
        if tape.backend == "numba":
            layout = self.layout(exact or self.fast.folds(output))
            back, seed, active = (None, -1, layout.inactive) if output is None else layout.backward(output, wrt)
            values, partials, adjoint, finite = run_program(layout.program, points, back, seed, active)
            grads = None if adjoint is None else adjoint[: len(tape.inputs)][rows]
            outputs = values[layout.output_slots]
            return _Replayed(values, layout.slot_of_node, partials, layout.edge_row, outputs, grads, finite)
        values = self.forward_values(points)
        if output is None:
            return _Replayed(values, None, None, None, values[tape.outputs], None, False)
        partials = self.partials(values)
        adjoint = tape._run([output], False, partials, ARRAY_SEMIRINGS["real"], points.shape[1])
        grads = adjoint[self.input_positions[rows]]
        return _Replayed(values, None, partials, None, values[tape.outputs], grads, False)

    def active_nodes(self, output, wrt):
        """Mask of the nodes on paths from the inputs ``wrt`` (rows; None: all) to ``output``."""
        key = (output, wrt)
        if key not in self._active:
            tape = self.tape
            sources = self.input_positions[_as_index(wrt, len(tape.inputs))]
            self._active[key] = tape._reach([output], False) & tape._reach(sources.tolist(), True)
        return self._active[key]

    @cached_property
    def fast(self):
        """The numba layout with sums of products fused."""
        return _Layout(self, fuse=True)

    def layout(self, exact):
        """The numba layout: fused (``fast``), or every node and edge kept (built when first needed)."""
        if not exact:
            return self.fast
        if "exact" not in self.__dict__:
            self.exact = _Layout(self, fuse=False)
        return self.exact

    def forward_values(self, points):
        """Every node's value, shape (n, B): level by level, each group one rule call, chains one cumsum."""
        tape = self.tape
        values = np.empty((tape.n_nodes, points.shape[1]))
        values[self.input_positions] = np.asarray(points)
        with np.errstate(all="ignore"):
            for level in range(self.depth):
                for group in self.groups[level]:
                    values[group.nodes] = _call(group.primitive.value, group.operands(values))
                for bucket in self.chains[level]:
                    bucket.fill(values)
        return values

    def partials(self, values):
        """Every edge's local partial, shape (E, B), by one rule call per (op, operand, pattern)."""
        tape = self.tape
        partials = np.empty((tape.n_edges, values.shape[1]))
        with np.errstate(all="ignore"):
            for group in self.partial_groups:
                operands = group.operands(values)
                result = values[group.nodes]
                for rule, edges in group.partial_edges:
                    partials[edges] = _call(rule, operands, (result,))
        return partials

    def _check_partials(self, values, partials, keep, offset):
        """A DomainError for the first partial that is not finite, in a column that keeps its branches."""
        if np.isfinite(partials).all():
            return
        bad = ~np.isfinite(partials) & keep
        if bad.any():
            edge, column = np.argwhere(bad)[0]
            self._raise_partial(values, int(edge), int(column), offset, partials[edge, column])

    def check_guards(self, at):
        """For each column, the index of the first guard whose outcome changes (-1: none); None without guards.

        ``at(positions)`` gives those nodes' values, shape (len(positions), B).
        """
        if not self.guard_ops:
            return None
        left = at(self.guard_left)
        first = np.full(left.shape[1], -1, dtype=np.int64)
        has_right = self.guard_right[:, None] >= 0
        right = np.where(has_right, at(np.maximum(self.guard_right, 0)), self.guard_const[:, None])
        outcome = np.empty_like(left, dtype=bool)
        for symbol, compare in _COMPARE.items():
            rows = [i for i, op in enumerate(self.guard_ops) if op == symbol]
            if rows:
                outcome[rows] = compare(left[rows], right[rows])
        changed = outcome != self.guard_outcome[:, None]
        any_changed = changed.any(axis=0)
        first[any_changed] = np.argmax(changed[:, any_changed], axis=0)
        return first

    # --- errors ---

    def _raise_domain(self, values, bad_node, first_guard, offset, batch):
        """A DomainError for the first column whose first failing op precedes any changed guard."""
        guard_time = self.guard_time[first_guard]  # first_guard -1 (none) reads the appended n
        failing = np.flatnonzero(bad_node < guard_time)
        if failing.size:
            column = int(failing[0])
            node = int(bad_node[column])
            reason = f"the result is {values[node, column]}"
            raise DomainError(self._describe(values, node, column, offset, batch, reason))

    def _raise_partial(self, values, edge, column, offset, partial):
        tape = self.tape
        node, j = int(tape.dst[edge]), int(tape.arg[edge])
        reason = f"the derivative in operand {j} does not exist there ({partial})"
        raise DomainError(self._describe(values, node, column, offset, values.shape[1], reason))

    def _describe(self, values, node, column, offset, batch, reason):
        tape = self.tape
        shown = []
        for j in range(_ARITY[tape.codes[node]]):
            operand = self.node_of[j, node]
            if operand >= 0:
                shown.append(f"{tape.label(int(operand))} = {float(values[operand, column])!r}")
            else:
                shown.append(repr(float(self.const_of[j, node])))
        plural = "s" if len(shown) > 1 else ""
        where = f" (replaying batch element {offset + column})" if batch > 1 or offset else " (replaying)"
        op, label = OPS[tape.codes[node]], tape.label(node)
        return f"{op} at node {label} with operand{plural} {', '.join(shown)}: {reason}{where}"

    def branch_message(self, points, flipped):
        tape = self.tape
        column = int(np.flatnonzero(flipped >= 0)[0])
        guard = tape._guards[int(flipped[column])]
        at = self.compute(points[:, column : column + 1]).at
        left = at(self.guard_left[flipped[column] : flipped[column] + 1])[0, 0]
        point = points[:, column]
        at = ", ".join(f"{name} = {float(point[row])!r}" for row, name in enumerate(tape.inputs))
        count = int((flipped >= 0).sum())
        return (
            f"the program takes another branch at batch element {column} ({at}): the guard "
            f"{guard.describe(_Labels(tape))} was {guard.outcome} when traced and is {not guard.outcome} now "
            f"(its left side is {float(left)!r}); {count} of {points.shape[1]} points are affected. "
            "Pass retrace=<the traced function> to trace those points again"
        )


class _Group:
    """Nodes of one op whose operands are traced at the same positions: one rule call evaluates them all.

    ``recipe[j]`` is operand j: an array of node positions (traced), or the
    constant (a float when all nodes share it, else a column of them).
    """

    def __init__(self, program, code, traced, nodes):
        self.primitive, self.nodes = PRIMITIVES[OPS[code]], nodes
        self.recipe = []
        for j in range(self.primitive.arity):
            if traced >> j & 1:
                self.recipe.append(program.node_of[j, nodes])
            else:
                constants = program.const_of[j, nodes]
                self.recipe.append(float(constants[0]) if (constants == constants[0]).all() else constants[:, None])
        self.partial_edges = [
            (rule, program.edge_of[j, nodes]) for j, rule in enumerate(self.primitive.partials) if traced >> j & 1
        ]
        self._traced = [traced >> j & 1 for j in range(self.primitive.arity)]

    def operands(self, values):
        return [values[r] if t else r for r, t in zip(self.recipe, self._traced)]


class _Labels:
    """What Guard.describe needs from a tape: node id -> label."""

    def __init__(self, tape):
        self._tape = tape

    def label(self, node):
        return self._tape.label(self._tape._position_of_node(node))


class _Batch:
    """Points whose first inputs are the same at every point: ``fixed`` (k,) and ``rest`` (n - k, B).

    Stands in for the (n, B) array of points where replay takes one: column
    selections stay a :class:`_Batch`, a single column is the full point, and
    numpy sees the full array.
    """

    def __init__(self, fixed, rest):
        self.fixed, self.rest = fixed, rest
        self.shape = (fixed.size + rest.shape[0], rest.shape[1])

    def __getitem__(self, key):
        _, columns = key  # replay only ever selects columns: points[:, columns]
        if isinstance(columns, numbers.Integral):
            return np.concatenate([self.fixed, self.rest[:, columns]])
        return _Batch(self.fixed, self.rest[:, columns])

    def __array__(self, dtype=None, copy=None):
        repeated = np.broadcast_to(self.fixed[:, None], (self.fixed.size, self.shape[1]))
        return np.vstack([repeated, self.rest]).astype(dtype or np.float64, copy=False)


class _Replayed:
    """What one replay computed: values (by node, through ``rows`` when not every node has a row), partials,
    the outputs' values, the inputs' gradients (or None) and whether everything was checked finite (False: not
    known to be)."""

    def __init__(self, values, rows, partials, partial_rows, outputs, grads, finite):
        self.values, self.rows, self.partials, self.partial_rows = values, rows, partials, partial_rows
        self.outputs, self.grads, self.finite = outputs, grads, finite

    def at(self, positions):
        """The values of the nodes at ``positions``, shape (len(positions), B)."""
        return self.values[positions] if self.rows is None else self.values[self.rows[positions]]

    def everything(self):
        """Every node's value (n, B) and every edge's partial (E, B) (from an exact replay)."""
        if self.rows is None:
            return self.values, self.partials
        return self.values[self.rows], self.partials[self.partial_rows]


class _Layout:
    """The recorded program as a :class:`pathad._kernels.Program` for the numba loop, and the maps back.

    Slots: the inputs (in the trace's order), the kept nodes, the distinct
    constants.  With ``fuse``, every chain of add/sub nodes (each partial sum
    used only by the next) is one fused sum, and a product used only by such a
    sum becomes one of its terms; those inner nodes get no slot (their values
    and partials are not kept), and nodes the replay must read (outputs, guards)
    are never folded in.  Without ``fuse`` every node and edge is kept.
    """

    def __init__(self, program, fuse):
        tape, n = program.tape, program.tape.n_nodes
        self.tape, self._program = tape, program
        keep = np.zeros(n, dtype=bool)
        keep[tape.outputs] = True
        keep[program.guard_left] = True
        keep[program.guard_right[program.guard_right >= 0]] = True
        alone = (np.bincount(tape.src, minlength=n) == 1) & ~keep
        chains = self._chains(program, alone) if fuse else None
        self._slots(program, chains)
        units, terms, signs = self._units(program, chains)
        small = index_dtype(self.n_slots, self.n_partials, terms.shape[0], units.shape[0])  # int32: half the reads
        self.program = Program(units.astype(small), terms.astype(small), signs, self.consts, self.n_slots,
                               int(self.n_partials))  # fmt: skip
        self.output_slots = self.slot_of_node[tape.outputs]
        self.inactive = np.zeros(self.n_slots, dtype=np.bool_)  # evaluate: no partials, no adjoints
        self._back = {}

    def _chains(self, program, alone):
        """Members of the fused sums grouped by sum, innermost first; their terms; the products folded in."""
        codes = self.tape.codes
        link, via_second = _chain_links(codes, program.node_of, alone)
        members, starts, _ = _group_chains(link, np.flatnonzero((codes == _ADD) | (codes == _SUB)))
        term_node, term_const, term_sign = _chain_terms(program, via_second, members, starts)
        product = (term_node >= 0) & (codes[np.maximum(term_node, 0)] == _MUL) & alone[np.maximum(term_node, 0)]
        last = np.append(starts[1:], members.size) - 1 if starts.size else starts
        term_start = starts + np.arange(starts.size)  # a chain of k members has k + 1 terms
        # a lone add/sub of two plain terms runs faster as an op of its own
        with_product = np.add.reduceat(product, term_start) > 0 if starts.size else starts.astype(bool)
        fused = (last > starts) | with_product
        folded = np.zeros(self.tape.n_nodes, dtype=bool)
        folded[members] = np.repeat(fused, last - starts + 1)
        folded[members[last]] = False
        folded[term_node[product & np.repeat(fused, last - starts + 2)]] = True
        sums = np.zeros(self.tape.n_nodes, dtype=bool)
        sums[members[last[fused]]] = True
        return {"members": members, "starts": starts, "last": last, "term_start": term_start, "node": term_node,
                "const": term_const, "sign": term_sign, "product": product, "folded": folded, "sums": sums}  # fmt: skip

    def _slots(self, program, chains):
        tape = self.tape
        n, codes = tape.n_nodes, tape.codes
        n_in = len(tape.inputs)
        kept = np.flatnonzero((codes > 0) & ~(chains["folded"] if chains else False))
        depth = node_depths(program.node_of)  # runs of one op at a time: the loop's branches predict well
        kept = kept[np.lexsort((codes[kept], depth[kept]))]
        self.kept = kept
        self.slot_of_node = np.full(n, -1, dtype=np.int64)
        self.slot_of_node[program.input_positions] = np.arange(n_in)
        self.slot_of_node[kept] = n_in + np.arange(kept.size)
        stray = np.flatnonzero((codes == 0) & (self.slot_of_node < 0))  # op "input" but not an input: a constant
        arity = _ARITY[codes]
        operand_consts = program.const_of[(program.node_of < 0) & (np.arange(2)[:, None] < arity)]
        bits = np.unique(np.concatenate([operand_consts, tape.values[stray], [0.0]]).view(np.int64))
        self._const_bits, self.consts = bits, bits.view(np.float64)
        self.first_const = n_in + kept.size
        self.n_slots = self.first_const + bits.size
        self.slot_of_node[stray] = self._const_slot(tape.values[stray])

    def _const_slot(self, constants):
        return self.first_const + np.searchsorted(self._const_bits, np.asarray(constants, np.float64).view(np.int64))

    def _slot(self, nodes, constants):
        """The slots of operands: a node's own, else the constant's."""
        return np.where(nodes >= 0, self.slot_of_node[np.maximum(nodes, 0)], self._const_slot(constants))

    def _units(self, program, chains):
        tape, kept = self.tape, self.kept
        codes = tape.codes[kept]
        is_sum = np.zeros(kept.size, dtype=bool) if chains is None else chains["sums"][kept]
        ops = ~is_sum
        binary = _ARITY[codes] == 2
        edges = program.edge_of[:, kept]
        self.edge_row = np.full(tape.n_edges, -1, dtype=np.int64)
        stored = np.unique(edges[:, ops][edges[:, ops] >= 0])
        self.edge_row[stored] = np.arange(stored.size)
        self.n_partials = stored.size
        units = np.zeros((kept.size, 8), dtype=np.int64)
        units[:, 0] = np.where(is_sum, SUM, codes)
        units[:, 1] = self.slot_of_node[kept]
        units[:, 2] = self._slot(program.node_of[0, kept], program.const_of[0, kept])
        units[:, 3] = np.where(binary, self._slot(program.node_of[1, kept], program.const_of[1, kept]), 0)
        padded = np.append(self.edge_row, -1)  # a last row -1 for "no edge": a tape may have no edges at all
        rows = padded[np.where(edges >= 0, edges, tape.n_edges)]
        units[:, 4], units[:, 5] = rows[0], np.where(binary, rows[1], -1)
        if chains is None:
            return units, np.zeros((0, 3), dtype=np.int64), np.zeros(0)
        terms = self._terms(program, chains)
        chain_of = np.full(tape.n_nodes, -1, dtype=np.int64)
        chain_of[chains["members"][chains["last"]]] = np.arange(chains["starts"].size)
        chain = chain_of[kept[is_sum]]
        term_start = chains["term_start"]
        term_end = np.r_[term_start[1:], terms.shape[0]]
        units[is_sum, 2:6] = 0
        units[is_sum, 6], units[is_sum, 7] = term_start[chain], term_end[chain]
        if (units[:, 1:4] < 0).any() or (terms < 0).any():
            raise ReplayError(f"{tape.name}: a value the replay needs has no place (a bug in pathad; please report)")
        return units, terms, chains["sign"]

    def _terms(self, program, chains):
        """(slot a, slot b, product?) per term: a product folded in reads its two operands, another term itself."""
        node, product = chains["node"], chains["product"]
        terms = np.zeros((node.size, 3), dtype=np.int64)
        terms[:, 0] = self._slot(node, chains["const"])
        factor = node[product]
        terms[product, 0] = self._slot(program.node_of[0, factor], program.const_of[0, factor])
        terms[product, 1] = self._slot(program.node_of[1, factor], program.const_of[1, factor])
        terms[product, 2] = 1
        return terms

    def folds(self, node):
        """Whether ``node`` (a position, or None) was folded into a fused sum (then it has no value here)."""
        return node is not None and self.slot_of_node[node] < 0

    def backward(self, output, wrt):
        """(units on the way from the inputs ``wrt`` to ``output``, last first; its slot; the active slots)."""
        key = (output, wrt)
        if key not in self._back:
            active = self._program.active_nodes(output, wrt)
            units = np.flatnonzero(active[self.kept])[::-1].astype(np.int64)
            slots = np.zeros(self.n_slots, dtype=np.bool_)
            slots[self.slot_of_node[active & (self.slot_of_node >= 0)]] = True
            units = units.astype(self.program.units.dtype)
            self._back[key] = (units, int(self.slot_of_node[output]), slots)
        return self._back[key]


class _ChainBucket:
    """Chains of one level and similar length as a (chains, width) table of term indices."""

    def __init__(self, term_node, term_const, term_sign, members):
        self.term_node, self.term_const, self.term_sign = term_node, term_const, term_sign
        self.valid = members >= 0
        self.members = members[self.valid]

    def fill(self, values):
        terms = values[np.maximum(self.term_node, 0)]
        terms = np.where((self.term_node >= 0)[..., None], terms, self.term_const[..., None])
        sums = np.cumsum(self.term_sign[..., None] * terms, axis=1)
        values[self.members] = sums[:, 1:][self.valid]


def _bucket(rows, starts, lengths, width, members, term_node, term_const, term_sign):
    """The table of one bucket: term slots per chain, padded with the constant 0."""
    term_start = starts[rows] + rows  # chain r's terms start after r earlier chains' extra term
    columns = np.arange(width)
    used = columns[None, :] < (lengths[rows] + 1)[:, None]
    slots = np.where(used, term_start[:, None] + columns[None, :], 0)
    node = np.where(used, term_node[slots], -1)
    const = np.where(used, term_const[slots], 0.0)
    sign = np.where(used, term_sign[slots], 1.0)
    member_slots = np.where(used[:, 1:], starts[rows][:, None] + columns[None, :-1], 0)
    member = np.where(used[:, 1:], members[member_slots], -1)
    return _ChainBucket(node, const, sign, member)


def _chain_links(codes, node_of, alone):
    """Per add/sub node, the add/sub operand it extends (-1: none): one that is ``alone`` (feeds only it).

    Returns the links and, per node, whether the link runs through its second
    operand (only for add: a − s is not a partial sum extended).
    """
    addsub = (codes == _ADD) | (codes == _SUB)
    first, second = node_of[0], node_of[1]
    extends_first = addsub & (first >= 0) & addsub[first] & alone[first]
    extends_second = (codes == _ADD) & (second >= 0) & addsub[second] & alone[second] & ~extends_first
    return np.where(extends_first, first, np.where(extends_second, second, -1)), extends_second


def _chain_terms(program, via_second, members, starts):
    """Each chain's terms: its first node's two operands, then each member's other operand, with signs.

    ``members`` are grouped by chain, each chain from its first (innermost)
    node on, chains starting at ``starts``; returns per term the operand node
    (-1 for a constant), the constant and the sign (+1, or −1 when subtracted).
    """
    codes = program.tape.codes
    via_second = via_second[members]
    other = np.where(via_second, 0, 1)  # the operand that is not the chain
    sign = np.where((codes[members] == _SUB) & ~via_second, -1.0, 1.0)
    node = program.node_of[other, members]
    const = program.const_of[other, members]
    total = members.size + starts.size
    slot = np.arange(members.size) + np.searchsorted(starts, np.arange(members.size), side="right")
    term_node, term_const, term_sign = np.full(total, -1), np.zeros(total), np.ones(total)
    term_node[slot], term_const[slot], term_sign[slot] = node, const, sign
    first = slot[starts] - 1  # the first node's first operand goes just before its second
    term_node[first], term_const[first] = program.node_of[0, members[starts]], program.const_of[0, members[starts]]
    return term_node, term_const, term_sign


def _group_chains(link, members):
    """``members`` grouped by chain, each chain from its first (innermost) node on; where each chain starts in
    that order; and every node's chain head (its first node; itself when not linked)."""
    head, depth = _chain_heads(link)
    members = members[np.lexsort((depth[members], head[members]))]
    heads = head[members]
    return members, np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]]) if members.size else members, head


def _chain_heads(link):
    """For each node, the first node of its chain (itself if not linked), and its distance from it."""
    head = np.arange(link.size)
    linked = np.flatnonzero(link >= 0)
    head[linked] = link[linked]
    depth = (link >= 0).astype(np.int64)
    while linked.size:
        above = head[linked]
        depth[linked] += depth[above]
        head[linked] = head[above]
        linked = linked[head[head[linked]] != head[linked]]
    return head, depth


def _split(items, *keys):
    """Group ``items`` by equal key tuples: yields (key tuple, items) in sorted key order."""
    if not items.size:
        return
    order = np.lexsort(keys[::-1])
    items = items[order]
    keys = [np.asarray(k)[order] for k in keys]
    change = np.zeros(items.size, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(change)
    for a, b in zip(starts, np.r_[starts[1:], items.size]):
        yield tuple(int(k[a]) for k in keys), items[a:b]


def _call(rule, operands, extra=()):
    """A rule on arrays (the caller's assignment broadcasts it); point by point if it branches on values."""
    try:
        return rule(ARRAY, *operands, *extra)
    except (ValueError, TypeError):  # `if b != 0` on an array (pow's rule): evaluate point by point
        arrays = np.broadcast_arrays(*[np.asarray(o, dtype=np.float64) for o in (*operands, *extra)])
        pointwise = np.frompyfunc(lambda *xs: _scalar_rule(rule, xs), len(arrays), 1)
        return pointwise(*arrays).astype(np.float64)


def _scalar_rule(rule, operands):
    try:
        return float(rule(ARRAY, *(np.float64(x) for x in operands)))
    except (ValueError, ZeroDivisionError, OverflowError):
        return math.nan


def _as_index(rows, n):
    """Input rows (None: all n, a range, or a tuple) as something numpy indexes fast: a slice or an array."""
    if rows is None:
        return slice(0, n)
    if isinstance(rows, range):
        return slice(rows.start, rows.stop, rows.step) if rows.stop >= 0 else np.arange(n)[rows]
    return np.array(rows, dtype=np.int64)


def _check_inputs(tape, points):
    """ValueError naming the first input that is not a finite number."""
    points = np.asarray(points)
    bad = ~np.isfinite(points)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        name = list(tape.inputs)[row]
        where = f" (batch element {column})" if points.shape[1] > 1 else ""
        raise ValueError(f"inputs must be finite: {name} = {points[row, column]}{where}")


def _first_nonfinite(values):
    """Per column, the position of the first node whose value is not finite (n when none)."""
    if np.isfinite(values).all():
        return np.full(values.shape[1], values.shape[0])
    bad = ~np.isfinite(values)
    return np.where(bad.any(axis=0), np.argmax(bad, axis=0), values.shape[0])
