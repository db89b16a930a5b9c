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
been seen, then pushed on.  It is iterative, reads the networkx adjacency once
per edge, and needs no node ordering from the caller.  Requirements on the
semiring: see :mod:`pathad.semirings`.

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
from collections.abc import Iterable

import networkx as nx

from .errors import DomainError
from .semirings import REAL, as_semiring, edge_weight
from .tracing import Trace, resolve_node

__all__ = ["solve", "is_forward", "DIRECTIONS"]

#: Accepted spellings of the sweep direction.
DIRECTIONS = {"forward": True, "backward": False, "reverse": False}


def solve(G, start, *, direction="forward", semiring=REAL, weight=None, targets=None):
    """Solve the path problem from ``start`` in one topological sweep.

    Parameters
    ----------
    G : networkx.DiGraph, networkx.MultiDiGraph or Trace
        A DAG whose edges carry the weight.  With a :class:`Trace`, nodes may
        also be named by input name or label.
    start : node or collection of nodes
        The sources (forward) or targets (backward) of the paths, each seeded
        with ``semiring.one``.
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
    semiring = as_semiring(semiring)
    weight = semiring.weight if weight is None else weight
    forward = is_forward(direction)
    graph, seeds = _nodes(G, start, "start")
    allowed = None
    if targets is not None:
        _, ends = _nodes(G, targets, "targets")
        allowed = _reachable(_adjacency(graph, not forward), ends)
    adjacency = _adjacency(graph, forward)
    seeds = [s for s in dict.fromkeys(seeds) if allowed is None or s in allowed]
    pending = _incoming_counts(adjacency, seeds, allowed)
    extend, read = _extend(semiring, forward), edge_weight(weight, forward)
    value = _sweep(adjacency, seeds, pending, semiring, extend, read)
    if any(pending.values()):
        _raise_cycle(graph, [n for n, count in pending.items() if count])
    if semiring.finite:
        checked = value if targets is None else [value[t] for t in dict.fromkeys(ends) if t in value]
        if not _all_finite(checked.values() if targets is None else checked):
            ends = None if targets is None else [t for t in dict.fromkeys(ends) if t in value]
            _raise_nonfinite(graph, adjacency, seeds, allowed, value, ends, semiring, extend, read, forward)
    return value


def _sweep(adjacency, seeds, pending, semiring, extend, weight):
    """Kahn's order over the nodes in ``pending`` (node -> incoming edges not yet seen)."""
    plus, zero = semiring.plus, semiring.zero
    value = dict.fromkeys(seeds, semiring.one)  # the empty path; later paths add to it
    ready = [s for s in seeds if pending[s] == 0]
    while ready:
        u = ready.pop()
        a = value[u]
        for v, edges in adjacency[u].items():
            if v not in pending:
                continue
            for data in edges.values():
                w = weight(u, v, data)
                c = extend(a, w)  # still formed, so that counted semirings (pathad.cost) see one ⊗ per edge
                if w == zero:  # zero annihilates ⊗: the term is zero even where a is not finite (inf · 0 is nan)
                    c = zero
                value[v] = plus(value[v], c) if v in value else c  # the first path needs no ⊕
            pending[v] -= len(edges)
            if pending[v] == 0:
                ready.append(v)
    return value


def _all_finite(values):
    """Whether every value is a finite number (one C-level pass for floats; arrays elementwise)."""
    try:
        return all(map(math.isfinite, values))
    except TypeError:  # not plain numbers (numpy arrays, ...): elementwise
        import numpy as np

        return all(bool(np.all(np.isfinite(v))) for v in values)


def _finite(value):
    return _all_finite((value,))


def _raise_nonfinite(graph, adjacency, seeds, allowed, value, ends, semiring, extend, weight, forward):
    """A DomainError explaining the first non-finite path value (the slow path: only when the check failed).

    The sweep is run again in the same order, noting when each node finishes.
    The culprit is the earliest-finished non-finite node among those the
    non-finite checked values come from (through edges whose weight is not
    zero); every term flowing into it is finite, so either an edge weight is
    not finite, a product overflows, or the sum of finite terms does.
    """
    finished = _finish_order(adjacency, seeds, _incoming_counts(adjacency, seeds, allowed))
    bad = [n for n in (value if ends is None else ends) if not _finite(value[n])]
    inward = _adjacency(graph, not forward)  # node -> the nodes whose values flow into it in this sweep
    tainted, stack = set(bad), list(bad)
    while stack:
        v = stack.pop()
        for u, edges in inward[v].items():
            if u in tainted or u not in finished or _finite(value[u]):
                continue
            if any(weight(u, v, data) != semiring.zero for data in edges.values()):
                tainted.add(u)
                stack.append(u)
    culprit = min(tainted, key=finished.__getitem__)
    terms = []  # (tail, head, weight, path value it meets, term) into the culprit, in graph orientation
    for u, edges in inward[culprit].items():
        if u not in finished:
            continue
        for data in edges.values():
            w = weight(u, culprit, data)
            if w != semiring.zero:
                edge = (u, culprit) if forward else (culprit, u)
                terms.append((*edge, w, value[u], extend(value[u], w)))
    target = bad[0] if ends is not None else culprit
    raise DomainError(_nonfinite_message(graph, seeds, target, culprit, value, terms, semiring, forward))


def _finish_order(adjacency, seeds, pending):
    """node -> its rank in the order :func:`_sweep` finishes nodes (the same Kahn order, without values)."""
    finished = {}
    ready = [s for s in seeds if pending[s] == 0]
    while ready:
        u = ready.pop()
        finished[u] = len(finished)
        for v, edges in adjacency[u].items():
            if v in pending:
                pending[v] -= len(edges)
                if pending[v] == 0:
                    ready.append(v)
    return finished


def _nonfinite_message(graph, seeds, target, culprit, value, terms, semiring, forward):
    def name(node):
        return str(graph.nodes[node].get("label", node))

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


def _incoming_counts(adjacency, seeds, allowed):
    """Nodes reachable from ``seeds`` (within ``allowed``) -> number of edges into them from reached nodes."""
    pending = dict.fromkeys(seeds, 0)
    stack = list(pending)
    while stack:
        u = stack.pop()
        for v, edges in adjacency[u].items():
            if allowed is not None and v not in allowed:
                continue
            if v in pending:
                pending[v] += len(edges)
            else:
                pending[v] = len(edges)
                stack.append(v)
    return pending


def _reachable(adjacency, seeds):
    seen = set(seeds)
    stack = list(seen)
    while stack:
        for v in adjacency[stack.pop()]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


def _adjacency(graph, forward):
    """node -> {neighbour: {key: edge data}} in the sweep's direction (plain dicts, read once)."""
    # G._succ / G._pred are the dicts behind the read-only views G.succ / G.pred;
    # reading them directly saves building a view object per node.
    adjacency = graph._succ if forward else graph._pred
    if graph.is_multigraph():
        return adjacency
    return {u: {v: {0: data} for v, data in nbrs.items()} for u, nbrs in adjacency.items()}


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


def _nodes(G, ref, what):
    """(graph, list of node ids) for a node or collection of nodes of a graph or Trace."""
    graph = G.graph if isinstance(G, Trace) else G
    if not isinstance(graph, (nx.DiGraph, nx.MultiDiGraph)):
        raise TypeError(f"solve needs a networkx DiGraph or MultiDiGraph, got {type(G).__name__}")
    single = isinstance(ref, str) or not isinstance(ref, Iterable) or ref in graph
    refs = [ref] if single else list(ref)
    if not refs:
        raise ValueError(f"{what} is empty")
    return graph, [resolve_node(G, r) for r in refs]


def _raise_cycle(graph, stuck):
    cycle = nx.find_cycle(graph.subgraph(stuck))
    node = cycle[0][0]
    label = graph.nodes[node].get("label", node)
    path = " -> ".join(str(edge[0]) for edge in cycle) + f" -> {cycle[0][0]}"
    raise nx.NetworkXUnfeasible(f"the graph has a cycle through node {label!r}: {path}")
