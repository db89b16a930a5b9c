"""The generic path solver: one topological sweep, forward or backward, over any semiring.

For a set of start nodes S, :func:`solve` computes for every node v reachable
from S (along edges when ``direction="forward"``, against them when
``"backward"``) the path value

    value(v) = ⊕ over paths p from S to v of the ⊗-product of p's edge weights,

with ``semiring.one`` for the empty path (so value(s) = 1̄ ⊕ ... for s in S).
Forward, a node's value is pushed along its out-edges as value(u) ⊗ w(u,v);
backward, along its in-edges as w(u,v) ⊗ value(v): the product is kept in path
order, so non-commutative semirings stay right.  An edge whose weight is the
semiring's zero adds the term zero: zero annihilates ⊗, so its term is zero whatever it
meets (an overflowed path value times a partial 0 would otherwise be nan where
the true derivative is finite).

For a semiring whose elements must be finite numbers (``Semiring.finite``, as
:data:`pathad.REAL`), the values returned (at ``targets`` when given) are
checked: a path value that is ±inf or nan raises :class:`pathad.DomainError`
naming the node where the path value first became non-finite (in the sweep's
order), the edge and weight involved, and the start/target pair.  The check
costs one pass over the values; the explanation is worked out only on failure.

The sweep is Kahn's topological order restricted to the relevant subgraph
(Mohri 2002, the generic single-source shortest-distance algorithm with a
topological queue): a node is finished once every relevant edge into it has
been seen, then pushed on.  It is iterative, reads each edge once, and needs
no node ordering from the caller.  Requirements on the semiring: see
:mod:`pathad.semirings`.

The sweep itself is one loop over the edges in a topological order, each
extending its tail's path value and adding the term to its head's.  Where the
order comes from is the *adjacency*'s business: a networkx graph's adjacency
dicts give Kahn's order; a trace's own tape (its flat edge lists, see
:meth:`pathad.tracing.Tape.in_edges`) is in a topological order as recorded,
so ``solve(tr, ...)`` reads it front to back (forward) or back to front
(backward) and never builds ``tr.graph``.  The two add the same terms at every
node, in another order: the same values up to rounding.

Examples
--------
>>> import networkx as nx
>>> G = nx.DiGraph()
>>> G.add_edge("s", "a", partial=2.0); G.add_edge("a", "t", partial=3.0)
>>> G.add_edge("s", "t", partial=1.0)
>>> solve(G, "s")["t"]
7.0
"""

import math
from collections.abc import Callable, Iterable
from itertools import chain, repeat
from typing import Any

import networkx as nx

from .errors import DomainError
from .semirings import REAL, EdgePath, Scored, as_semiring, edge_weight
from .tracing import Trace, _build_graph, _node_number, check_graph, described, resolve_node
from .types import GraphLike, Node, Nodes, Seeds, SemiringLike, Weight

_chain = chain.from_iterable

__all__ = ["solve", "solve_nodes", "adjacency", "is_forward", "DIRECTIONS"]

#: Accepted spellings of the sweep direction.
DIRECTIONS = {"forward": True, "backward": False, "reverse": False}


def solve(
    G: GraphLike, start: Seeds, *, direction: str = "forward", semiring: SemiringLike = REAL,
    weight: Weight | None = None, targets: Nodes | None = None, observer: Callable[..., Any] | None = None,
    labels: bool = False,
) -> dict[Node, Any]:  # fmt: skip
    """Solve the path problem from ``start`` in one topological sweep.

    Parameters
    ----------
    G : networkx.DiGraph, networkx.MultiDiGraph or Trace
        A DAG whose edges carry the weight.  With a :class:`Trace`, nodes may
        also be named by input name or label, and the sweep reads the trace's
        tape in the order it was recorded (the nodes and edges of
        :attr:`Trace.graph`, which it does not build); once ``G.graph`` has been
        built, that graph, so that changes made to it count.
    start : node, collection of nodes, or dict
        The sources (forward) or targets (backward) of the paths, each seeded
        with ``semiring.one``; a dict {node: value} seeds each with its value
        (a path's value is then its start's value ⊗ its product), so that one
        sweep can tell several starts apart (:data:`pathad.BITSETS`).
    direction : {"forward", "backward"}
        Along the edges (forward mode) or against them (reverse mode).
    semiring : Semiring or str
        The algebra (or its name, e.g. ``"counting"``); :data:`pathad.REAL`
        gives derivatives.
    weight : str or callable, optional
        The edge attribute holding the weight, or ``weight(u, v, data)`` for an
        edge u→v with attribute dict ``data``.  Default: ``semiring.weight``
        (``"partial"`` for :data:`pathad.REAL`).
    targets : node or collection of nodes, optional
        Only paths ending at these nodes matter; the sweep is restricted to the
        nodes between ``start`` and ``targets``.
    observer : callable, optional
        Called as ``observer(u, v, w, a, c, total)`` for every edge the sweep
        takes, in its order: the path value ``a`` of u extended by the edge's
        weight ``w`` gave the term ``c``, and v's path value is now ``total``.
        u → v is the sweep's direction (backward: the edge's head first).
        What :func:`pathad.animate` shows step by step.
    labels : bool, default False
        Key the result by the names a reader knows the nodes by (input names,
        ``.named`` labels, outputs, else short formulas such as ``x+4y``; see
        :func:`pathad.enumeration.reader_names`), and name the nodes of
        max-times paths so too: a result to print.  Node ids (the default)
        are what programs read.

    Returns
    -------
    dict
        node -> path value, for every node on a path from ``start`` (to
        ``targets``); nodes not in it have value ``semiring.zero``.

    Raises
    ------
    networkx.NetworkXUnfeasible
        If the relevant part of ``G`` has a cycle (the message names a node on it).
    pathad.MissingWeightError
        If an edge lacks the weight attribute (the message names the edge).
    pathad.DomainError
        With a ``finite`` semiring (REAL), if a returned path value is not a
        finite number, e.g. a derivative that overflows although every value
        and partial is finite: the message names the node where the path value
        first became non-finite, the edge and weight involved, and the
        start/target pair.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("x", "u", {"partial": 2.0}), ("x", "u", {"partial": 2.0}),
    ...                      ("u", "t", {"partial": 5.0})])
    >>> solve(G, "x")
    {'x': 1.0, 'u': 4.0, 't': 20.0}
    >>> solve(G, "t", direction="backward")
    {'t': 1.0, 'u': 5.0, 'x': 20.0}
    """
    check_graph(G, "solve")
    semiring = as_semiring(semiring)
    graph = adjacency(G)
    initial: dict[Node, Any] | None = None
    if hasattr(start, "to_dict") and not isinstance(start, dict):  # a compiled Sweep: its values seed this one
        start = start.to_dict()
    if isinstance(start, dict):  # each start with a value of its own
        if not start:
            raise ValueError("start is empty")
        initial = {}
        for ref, value in start.items():
            (node,) = _nodes(G, graph, ref, "start")
            initial[node] = semiring.plus(initial[node], value) if node in initial else value
        start = list(initial)
    if not isinstance(labels, bool):
        raise TypeError(f"labels must be True or False, got {described(labels)}")
    seeds = _nodes(G, graph, start, "start")
    ends = None if targets is None else _nodes(G, graph, targets, "targets")
    result = solve_nodes(graph, seeds, ends, is_forward(direction), semiring, weight, observer, initial)
    return labelled(G, result) if labels else result


def labelled(G, values):
    """A result of :func:`solve` keyed by reader names (``solve(..., labels=True)``); max-times paths too.

    >>> from pathad import trace
    >>> labelled(trace(lambda x, y: (x + y) * y, x=3.0, y=5.0), {0: 1.0, 2: 1.0, 3: 5.0})
    {'x': 1.0, 'x+y': 1.0, '<lambda>': 5.0}
    """
    from .enumeration import reader_names  # enumeration sweeps with this module

    nodes = dict.fromkeys(values)
    for value in values.values():
        if isinstance(value, Scored) and value.edges is not None:
            nodes.update(dict.fromkeys(n for u, v, _ in value.edges for n in (u, v)))
    names = reader_names(G, nodes, unique=True)
    return {names[node]: _named_value(value, names) for node, value in values.items()}


def _named_value(value, names):
    if isinstance(value, Scored) and value.edges is not None:
        return Scored(value.score, EdgePath((names[u], names[v], w) for u, v, w in value.edges))
    return value


def solve_nodes(graph, seeds, ends, forward, semiring=REAL, weight=None, observer=None, initial=None):
    """:func:`solve` on an adjacency (see :func:`adjacency`), with the start and targets as lists of node ids
    (``ends`` None: no targets) and the direction as ``forward`` True or False.

    What the derivative functions call, their references resolved already.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: x * y, 2.0, 3.0)
    >>> solve_nodes(adjacency(tr), [tr.output], [0, 1], False)
    {2: 1.0, 1: 2.0, 0: 3.0}
    """
    weight = semiring.weight if weight is None else weight
    seeds = list(dict.fromkeys(seeds))
    allowed = None
    if ends is not None:
        ends = list(dict.fromkeys(ends))
        allowed = graph.reachable(ends, not forward)
        if allowed is not None:
            seeds = [s for s in seeds if s in allowed]
    edges, pending = graph.in_order(seeds, allowed, forward, weight)
    extend = _extend(semiring, forward)
    value = _sweep(edges, seeds, semiring, extend, observer, initial)
    if pending is not None and any(pending.values()):
        graph.raise_cycle([n for n, count in pending.items() if count])
    if semiring.finite and not _all_finite(value.values() if ends is None else [value[t] for t in ends if t in value]):
        ends = None if ends is None else [t for t in ends if t in value]
        _raise_nonfinite(graph, seeds, allowed, value, ends, semiring, extend, weight, forward)
    return value


def _sweep(edges, seeds, semiring, extend, observer=None, initial=None):
    """The path values from ``seeds``: every edge extends its tail's value and adds the term to its head's.

    ``edges`` gives each edge once as (tail, head, weight) in the sweep's
    direction, every edge out of a node after every edge into it (a
    topological order: Kahn's for a graph, the tape's own for a trace).  An
    edge whose tail no path from ``seeds`` has reached is skipped.
    ``observer(u, v, w, a, c, total)``, if given, sees each term as it is
    added: tail value ``a`` ⊗ weight ``w`` gave ``c``, and v's value is now ``total``.
    ``initial`` gives seeds values of their own (default: ``semiring.one``).
    """
    plus, zero = semiring.plus, semiring.zero
    value = dict.fromkeys(seeds, semiring.one)  # the empty path; later paths add to it
    if initial is not None:
        value.update((s, initial[s]) for s in seeds)
    reached = value.get
    for u, v, w in edges:
        a = reached(u)
        if a is None:  # no path from start to u (a tape is read whole)
            continue
        c = extend(a, w)  # still formed, so that counted semirings (pathad.cost) see one ⊗ per edge
        if w == zero:  # zero annihilates ⊗: the term is zero even where a is not finite (inf · 0 is nan)
            c = zero
        value[v] = plus(value[v], c) if v in value else c  # the first path needs no ⊕
        if observer is not None:
            observer(u, v, w, a, c, value[v])
    return value


def _kahn(arcs, read, seeds, pending):
    """The edges (u, v, weight) leaving the nodes of ``pending`` (node -> edges into it from reached nodes),
    u in Kahn's order: a node is let go once every edge into it has been handed out.

    ``arcs(u)`` lists the edges leaving u as (v, data) pairs; ``read(u, v,
    data)`` reads an edge's weight.  ``pending`` counts down as the edges go;
    what is left above zero once the generator is done lies on a cycle.
    """
    ready = [s for s in seeds if pending[s] == 0]
    left = pending.get
    while ready:
        u = ready.pop()
        for v, data in arcs(u):
            count = left(v)
            if count is None:  # not between start and targets
                continue
            yield u, v, read(u, v, data)
            pending[v] = count - 1
            if count == 1:  # every edge into v seen: v is finished
                ready.append(v)


def _all_finite(values):
    """Whether every value is a finite number (one C-level pass for floats; arrays elementwise)."""
    try:
        return all(map(math.isfinite, values))
    except TypeError:  # not plain numbers (numpy arrays, ...): elementwise
        import numpy as np

        return all(bool(np.all(np.isfinite(v))) for v in values)


def _finite(value):
    return _all_finite((value,))


def _raise_nonfinite(graph, seeds, allowed, value, ends, semiring, extend, weight, forward):
    """A DomainError explaining the first non-finite path value (the slow path: only when the check failed).

    The sweep is run again in the same order, noting when each node finishes.
    The culprit is the earliest-finished non-finite node among those the
    non-finite checked values come from (through edges whose weight is not
    zero); every term flowing into it is finite, so either an edge weight is
    not finite, a product overflows, or the sum of finite terms does.
    """
    neighbours = graph.neighbours(forward)
    finished = _finish_order(neighbours, seeds, _incoming_counts(neighbours, seeds, allowed))
    bad = [n for n in (value if ends is None else ends) if not _finite(value[n])]
    inward, read = graph.arcs(not forward, weight, oriented=forward)  # v -> the nodes whose values flow into v

    def weight_of(u, v, data):
        return data if read is None else read(u, v, data)

    tainted, stack = set(bad), list(bad)
    while stack:
        v = stack.pop()
        for u, data in inward(v):
            if u in tainted or u not in finished or _finite(value[u]):
                continue
            if weight_of(u, v, data) != semiring.zero:
                tainted.add(u)
                stack.append(u)
    culprit = min(tainted, key=finished.__getitem__)
    terms = []  # (tail, head, weight, path value it meets, term) into the culprit, in graph orientation
    for u, data in inward(culprit):
        if u not in finished:
            continue
        w = weight_of(u, culprit, data)
        if w != semiring.zero:
            edge = (u, culprit) if forward else (culprit, u)
            terms.append((*edge, w, value[u], extend(value[u], w)))
    target = bad[0] if ends is not None else culprit
    raise DomainError(_nonfinite_message(graph, seeds, target, culprit, value, terms, semiring, forward))


def _finish_order(neighbours, seeds, pending):
    """node -> its rank in the order :func:`_sweep` finishes nodes (the same Kahn order, without values)."""
    finished = {}
    ready = [s for s in seeds if pending[s] == 0]
    while ready:
        u = ready.pop()
        finished[u] = len(finished)
        for v in neighbours(u):
            if v in pending:
                pending[v] -= 1
                if pending[v] == 0:
                    ready.append(v)
    return finished


def _nonfinite_message(graph, seeds, target, culprit, value, terms, semiring, forward):
    name = graph.label
    starts = ", ".join(name(s) for s in seeds[:3]) + (", ..." if len(seeds) > 3 else "")
    if semiring.name == REAL.name:
        pair = f"∂{name(target)}/∂{starts}" if forward else f"∂{starts}/∂{name(target)}"
    else:
        pair = f"the {semiring.name} path value between {starts} and {name(target)}"
    sweep = f"the {'forward' if forward else 'backward'} sweep from {starts}"
    where = (
        f"{pair} is {value[target]!r}, not a finite number: in {sweep} the path value first becomes "
        f"{value[culprit]!r} at node {name(culprit)}"
    )
    broken = [t for t in terms if not _finite(t[2])]
    if broken:
        tail, head, w, _, _ = broken[0]
        return f"{where}: edge {name(tail)} -> {name(head)} has weight {w!r}"
    overflowing = [t for t in terms if not _finite(t[4])]
    if overflowing:
        tail, head, w, a, c = overflowing[0]
        return (
            f"{where}: along edge {name(tail)} -> {name(head)} (partial {w!r}) the term is "
            f"{a!r} · {w!r} = {c!r}, beyond the floats"
        )
    shown = ", ".join(f"{t[4]!r} along {name(t[0])} -> {name(t[1])}" for t in terms[:4])
    more = f" and {len(terms) - 4} more" if len(terms) > 4 else ""
    return f"{where}: its {len(terms)} finite terms ({shown}{more}) add up beyond the floats"


def _incoming_counts(neighbours, seeds, allowed):
    """Nodes reachable from ``seeds`` (within ``allowed``) -> number of edges into them from reached nodes."""
    pending = dict.fromkeys(seeds, 0)
    stack = list(pending)
    while stack:
        u = stack.pop()
        for v in neighbours(u):
            if v in pending:  # reached before, so allowed
                pending[v] += 1
            elif allowed is None or v in allowed:
                pending[v] = 1
                stack.append(v)
    return pending


def _reached(edges, seen):
    """``seen`` grown along ``edges`` ((tail, head, _) in a topological order): every node reachable from it."""
    add = seen.add
    for u, v, _ in edges:
        if u in seen:
            add(v)
    return seen


def _reachable(neighbours, seeds):
    seen = set(seeds)
    stack = list(seen)
    while stack:
        for v in neighbours(stack.pop()):
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


# --- adjacency: what the sweeps read, from a networkx graph or from a trace's tape ----------------------
#
# Both answer the same questions: in_order(seeds, allowed, forward, weight), the edges for _sweep in a
# topological order and the pending counts that reveal a cycle (None where none can be);
# reachable(nodes, forward) (None: every node); label(node); node in adjacency; ids(refs), whether
# references are node ids as they stand.  The slow path that explains a non-finite value walks node by
# node: neighbours(forward)(u), the nodes at the other end of the edges leaving u in that direction (one
# per edge), and arcs(forward, weight)(u), the same edges as (v, data) pairs with the weight reader (None
# where data is the weight itself).


def adjacency(G):
    """The adjacency the sweeps read: a trace's tape while its graph is not built, else the graph.

    Raises a TypeError for anything but a :class:`Trace`, a networkx DiGraph or MultiDiGraph.
    """
    if isinstance(G, Trace):
        ends = G.tape.in_edges() if "graph" not in G.__dict__ else None
        if ends is not None:
            return _TapeAdjacency(G.tape, ends)
        G = G.graph
    if not isinstance(G, (nx.DiGraph, nx.MultiDiGraph)):
        raise TypeError(f"solve needs a networkx DiGraph or MultiDiGraph, got {type(G).__name__}")
    return _GraphAdjacency(G)


class _GraphAdjacency:
    """A networkx DiGraph or MultiDiGraph, read through its adjacency dicts.

    ``G._succ`` and ``G._pred`` are the dicts behind the read-only views
    ``G.succ`` and ``G.pred``: reading them directly saves a view per node.
    """

    def __init__(self, graph):
        self.graph = graph
        self.multi = graph.is_multigraph()

    def __contains__(self, node):
        return node in self.graph

    def ids(self, refs):
        return False  # any hashable is a node: resolve_node decides

    def label(self, node):
        return str(self.graph.nodes[node].get("label", node))

    def neighbours(self, forward):
        adjacency = self.graph._succ if forward else self.graph._pred
        if not self.multi:
            return adjacency.__getitem__  # {neighbour: data}: one edge each

        def neighbours(u):  # each neighbour once per parallel edge
            nbrs = adjacency[u]
            return _chain(map(repeat, nbrs, map(len, nbrs.values())))

        return neighbours

    def arcs(self, forward, weight, oriented=None):
        adjacency = self.graph._succ if forward else self.graph._pred
        read = edge_weight(weight, forward if oriented is None else oriented)
        if not self.multi:
            return (lambda u: adjacency[u].items()), read

        def arcs(u):  # (v, data) for each of the parallel edges {key: data} to each neighbour v
            nbrs = adjacency[u]
            return _chain(map(zip, map(repeat, nbrs), map(dict.values, nbrs.values())))

        return arcs, read

    def in_order(self, seeds, allowed, forward, weight):
        """(edges, pending) for :func:`_sweep`: Kahn's order over the nodes reached from ``seeds``."""
        pending = _incoming_counts(self.neighbours(forward), seeds, allowed)
        return _kahn(*self.arcs(forward, weight), seeds, pending), pending

    def reachable(self, nodes, forward):
        return _reachable(self.neighbours(forward), nodes)

    def raise_cycle(self, stuck):
        _raise_cycle(self.graph, stuck)


class _TapeAdjacency:
    """A trace's tape, read as the graph it stands for (see :meth:`pathad.tracing.Tape.in_edges`).

    The sweep reads the edge lists whole, in order (:meth:`in_order`).  Node by
    node (the explanation of a non-finite value): backward, the edges into v
    are one block of the tape, in operand order (as ``G.pred[v]`` lists them);
    forward, the edges out of u are in the tape's order (as ``G.succ[u]``),
    grouped once by :meth:`~pathad.tracing.Tape.out_edges`.  The partials, or
    the operand positions, are handed out as the weights themselves; another
    weight reads ``{"partial": ..., "arg": ...}``, the attributes an edge of
    the graph has.
    """

    def __init__(self, tape, ends):
        self.tape, self.ends = tape, ends

    def __contains__(self, node):
        return _node_number(node, len(self.tape.ops)) is not None

    def ids(self, refs):
        """Whether every reference is an int node id (what resolving would return unchanged)."""
        n = len(self.tape.ops)
        if len(refs) > 16:
            return set(map(type, refs)) == {int} and min(refs) >= 0 and max(refs) < n
        for ref in refs:
            if type(ref) is not int or not 0 <= ref < n:
                return False
        return True

    def label(self, node):
        return self.tape.label(node)

    def neighbours(self, forward):
        if forward:
            starts, heads, _ = self.tape.out_edges()
            return lambda u: heads[starts[u] : starts[u + 1]]
        tails, ends = self.tape.src, self.ends
        return lambda v: tails[ends[v] : ends[v + 1]]

    def arcs(self, forward, weight, oriented=None):
        tape = self.tape
        if isinstance(weight, str) and weight in _COLUMNS:  # the weights themselves: a tape column
            column, read = getattr(tape, weight), None
        else:  # the edge's position; the reader gets the attributes the graph's edge has
            column, reader = None, edge_weight(weight, forward if oriented is None else oriented)
            partial, arg = tape.partial, tape.arg

            def read(u, v, k):
                return reader(u, v, {"partial": partial[k], "arg": arg[k]})

        if forward:
            starts, heads, edges = tape.out_edges()
            take = None if column is None else column.__getitem__

            def arcs(u):
                a, b = starts[u], starts[u + 1]
                return zip(heads[a:b], edges[a:b] if take is None else map(take, edges[a:b]))

            return arcs, read
        tails, ends = tape.src, self.ends

        def arcs(v):
            a, b = ends[v], ends[v + 1]
            return zip(tails[a:b], range(a, b) if column is None else column[a:b])

        return arcs, read

    def reachable(self, nodes, forward):
        """The nodes reachable from ``nodes``; None for every node.

        Forward from every input (a gradient's targets) that is, with no walk,
        the inputs and every node with an edge in (:class:`_Descendants`).
        """
        tape = self.tape
        nodes = set(nodes)
        if forward and list(map(tape.ops.__getitem__, nodes)).count("input") == tape.ops.count("input"):
            return _Descendants(tape.ops, self.ends)
        return _reached(self._edges(forward, self.tape.dst), nodes)

    def in_order(self, seeds, allowed, forward, weight):
        """(edges, None) for :func:`_sweep`: the tape's edges as they stand (forward) or from the last
        (backward), a topological order already: tracing records a node after its operands."""
        tape = self.tape
        if type(allowed) is _Descendants:  # every edge's ends are in it: nothing to leave out
            allowed = None
        if isinstance(weight, str) and weight in _COLUMNS:  # the weights themselves: a tape column
            edges = self._edges(forward, getattr(tape, weight))
            return edges if allowed is None else ((u, v, w) for u, v, w in edges if v in allowed), None
        # another weight is read only on the edges the sweep uses (a reader may raise, or cost), from the
        # attributes the graph's edge has, with the edge as it is in the graph
        read, partial, arg = edge_weight(weight, forward), tape.partial, tape.arg
        reached = set(seeds)

        def edges():
            for u, v, k in self._edges(forward, range(len(partial))):
                if u in reached and (allowed is None or v in allowed):
                    reached.add(v)
                    yield u, v, read(u, v, {"partial": partial[k], "arg": arg[k]})

        return edges(), None

    def _edges(self, forward, weights):
        """(tail, head, weight) in the sweep's direction, in the order :meth:`in_order` hands them out."""
        tape = self.tape
        if forward:
            return zip(tape.src, tape.dst, weights)
        return zip(reversed(tape.dst), reversed(tape.src), reversed(weights))

    def raise_cycle(self, stuck):  # pragma: no cover - tracing records every edge from an older node
        _raise_cycle(_build_graph(self.tape), stuck)


class _Descendants:
    """The nodes of a tape reachable from its inputs: the inputs and every node with an edge in.

    Tracing records no other node without edges in than the constant outputs
    (:meth:`~pathad.tracing.Tape.add_constant`), which no edge leaves; so both
    ends of every edge are in it, and a sweep between every input and a start
    need leave out only the starts that are constant outputs.
    """

    __slots__ = ("ops", "ends")

    def __init__(self, ops, ends):
        self.ops, self.ends = ops, ends

    def __contains__(self, node):
        return self.ends[node] != self.ends[node + 1] or self.ops[node] == "input"


#: The edge attributes a tape keeps as columns (lists of the same name).
_COLUMNS = ("partial", "arg")


def _extend(semiring, forward):
    times = semiring.times
    if forward or semiring.commutative:
        return times

    def extend_backward(value, weight):  # keep the product in path order: w(u,v) ⊗ value(v)
        return times(weight, value)

    return extend_backward


def is_forward(direction, what="direction"):
    """True for "forward", False for "backward" (or "reverse"); a ValueError naming ``what`` otherwise.

    >>> is_forward("reverse")
    False
    """
    try:
        return DIRECTIONS[direction]
    except (KeyError, TypeError):
        raise ValueError(f"{what} must be 'forward' or 'backward', got {direction!r}") from None


def _nodes(G, graph, ref, what):
    """The list of node ids for a node or collection of nodes of a graph or Trace."""
    if type(ref) is list:  # not hashable, so not a node
        refs = ref
    elif type(ref) is int or isinstance(ref, str) or not isinstance(ref, Iterable) or ref in graph:
        refs = [ref]
    else:
        refs = list(ref)
    if not refs:
        raise ValueError(f"{what} is empty")
    if graph.ids(refs):  # node ids of a tape already (a gradient's many inputs)
        return refs
    return [resolve_node(G, r, what) for r in refs]


def _raise_cycle(graph, stuck):
    cycle = nx.find_cycle(graph.subgraph(stuck))
    node = cycle[0][0]
    label = graph.nodes[node].get("label", node)
    path = " -> ".join(str(edge[0]) for edge in cycle) + f" -> {cycle[0][0]}"
    raise nx.NetworkXUnfeasible(f"the graph has a cycle through node {label!r}: {path}")
