"""The compiled tape: :func:`compile` and :class:`CompiledTape`, its nodes and its vectorized sweeps.

Replay (evaluate, gradient) is in :mod:`pathad.compiled.replay`, mixed into
the class; the sweep plans in :mod:`pathad.compiled.schedule`.
"""

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from ..errors import DomainError, MissingDependencyError, MissingWeightError, UnknownNodeError
from ..semirings import SEMIRINGS, as_semiring
from ..solver import is_forward
from ..tracing import Trace, _as_tree
from ..types import GraphLike, Node, Nodes, SemiringLike
from .freeze import freeze_graph, freeze_tape
from .hessians import HessianMethods
from .jacobians import JacobianMethods
from .numba_backend import SMALL, choose, is_compiled, numba_available, spending, sweep_numba
from .paths import Sweep, semiring_weights
from .replay import ReplayMethods, mapped
from .schedule import ARRAY_SEMIRINGS, Schedule
from .sweeps import sweep

__all__ = ["compile", "CompiledTape"]


def compile(G: GraphLike, *, backend: str = "auto") -> "CompiledTape":
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
        graphs and for replay).  numba compiles its loops once per machine
        (10-30 s, said on stderr) and keeps them in a disk cache
        (:func:`~pathad.compiled.cache_dir`).  "auto" uses numba for the
        kinds of call whose loop is compiled already, numpy for the others
        until this process has spent about as long in numpy on them as
        compiling would take (:func:`~pathad.compiled.numba_backend.choose`):
        a short script never waits for a compile, a long training run pays it
        once.  Sweeps give bit-identical results either way; replayed values
        may differ in the last bits of exp, log, tanh, tan and pow (numba,
        like tracing, calls the C math library; numpy vectorizes its own), so
        pin "numpy" or "numba" where runs must agree bit for bit.

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
        frozen = freeze_tape(G.tape) if "graph" not in G.__dict__ else freeze_graph(G.graph)
        return CompiledTape(frozen, G, backend)
    if isinstance(G, (nx.DiGraph, nx.MultiDiGraph)):
        return CompiledTape(freeze_graph(G), None, backend)
    raise TypeError(f"compile needs a Trace or a networkx DiGraph/MultiDiGraph, got {type(G).__name__}")


def _backend(backend):
    if backend == "auto":
        return "auto" if numba_available() else "numpy"
    if backend == "numba" and not numba_available():
        raise MissingDependencyError('the numba backend needs numba: pip install "pathad[fast]"')
    if backend not in ("numpy", "numba"):
        raise ValueError(f"backend must be 'auto', 'numpy' or 'numba', got {backend!r}")
    return backend


# --- the compiled tape -----------------------------------------------------------


class CompiledTape(ReplayMethods, JacobianMethods, HessianMethods):
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
        "auto", "numpy" or "numba": who runs sweeps and replays (see :func:`compile`).

    Examples
    --------
    >>> from pathad import trace
    >>> tape = compile(trace(lambda x: x * x + 1.0, 3.0))
    >>> tape.evaluate(x=2.0), tape.gradient(x=2.0)
    (5.0, {'x': 4.0})
    """

    def __init__(self, frozen: dict[str, Any], tr: Trace | None, backend: str = "numpy") -> None:
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
        self._plans: dict[Any, Schedule] = {}
        self._variants: list[Any] = []
        self._wrt_names: dict[Any, dict[str, int]] = {}

    def _read_program_interface(self, tr):
        input_positions = np.flatnonzero(self.codes == 0)
        if tr is not None:
            self.inputs = {name: self._position_of_node(node) for name, node in tr.inputs.items()}
            self.outputs = [self._position_of_node(node) for node in tr.outputs]
            self.arguments = {name: mapped(nodes, self._position_of_node) for name, nodes in tr.arguments.items()}
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
        return {name: mapped(positions, lambda p: row_of.get(p, -1)) for name, positions in self.arguments.items()}

    def _position_of_node(self, node):
        if self._index is None:
            return node if isinstance(node, int) and 0 <= node < self.n_nodes else -1
        return self._index.get(node, -1)

    def __repr__(self):
        return f"<CompiledTape {self.name}: {self.n_nodes} nodes, {self.n_edges} edges, {self.nbytes} bytes>"

    @property
    def nbytes(self) -> int:
        """Bytes held by the tape's arrays and the sweep plans built so far (not Python objects)."""
        arrays = (self.src, self.dst, self.arg, self.partial, self.codes, self.values, self._weight)
        plans = sum(plan.nbytes for plan in self._plans.values())
        return sum(a.nbytes for a in arrays if a is not None) + plans

    # --- nodes: positions, labels, references -----------------------------------

    def node(self, position: int) -> Node:
        """The graph's node at a position."""
        return position if self.nodes is None else self.nodes[position]

    def label(self, position: int) -> str:
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

    def position(self, ref: Node) -> int:
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
        seeds = np.asarray(seeds, dtype=np.int64)
        return self._plan(forward, seeds[self._in_count[forward][seeds] == 1].tolist())

    def _run(self, seeds, forward, weights, semiring, batch=1, seed_values=None):
        plan = self._plan_from(seeds, forward)
        if weights.dtype != object and choose(self.backend, "sweep") == "numba":
            return sweep_numba(plan, weights, seeds, semiring, batch, seed_values)
        with spending("sweep"):
            return sweep(plan, weights, seeds, semiring, batch, seed_values)

    def _replay_backend(self, batch):
        """ "numpy" or "numba" for a replay of ``batch`` points (see :func:`~pathad.compiled.numba_backend.choose`)."""
        return choose(self.backend, "program_one" if batch == 1 else "program_batch")

    def solve(
        self, start: Nodes, *, direction: str = "forward", semiring: SemiringLike = "real",
        weight: str | npt.ArrayLike | None = None, targets: Nodes | None = None,
    ) -> Sweep:  # fmt: skip
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
        from ..solver import solve

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
        weights = semiring_weights(name, signed)
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
        plan, semiring = self._plan_from(seeds, forward), ARRAY_SEMIRINGS["boolean"]
        if self.n_edges < SMALL and not is_compiled("sweep"):  # exact either way: no compile for a small graph
            return sweep(plan, weights, seeds, semiring)[:, 0]
        return self._run(seeds, forward, weights, semiring)[:, 0]

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
        f"a compiled sweep handles the numeric semirings ({', '.join(n for n in SEMIRINGS if n in ARRAY_SEMIRINGS)}), "
        f"not {s.name!r}; use pathad.solve for it"
    )
