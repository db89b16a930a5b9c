"""Vertex elimination: remove a node and keep every path value through it.

Eliminating v replaces each pair of edges p→v→s by one edge p→s whose partial
is w(p,v)·w(v,s); when p→s already exists at the same operand position the two
partials add.  Every path value between the remaining nodes is unchanged (the
path sum is distributive), so derivatives computed on the smaller graph are the
same.  Folding the single-use nodes that only scale or shift one operand by a
constant turns a trace into the lecture's drawings: the traced
h(x,y) = (x + 4y)·((x + y)·y) has a node for 4y; folding it leaves Fig. 2's six
nodes and eight edges, with the edge y→(x+4y) labeled 4.

Examples
--------
>>> from pathad import trace
>>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> G = fold_linear(tr)
>>> G.number_of_nodes(), G.number_of_edges()
(6, 8)
"""

import heapq
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import networkx as nx
import numpy as np

from .errors import DomainError
from .tracing import Trace, check_graph
from .types import GraphLike, Node

__all__ = [
    "eliminate",
    "fold_linear",
    "eliminated_jacobian",
    "jacobian_graph",
    "multiplicities",
    "model_eliminate",
    "markowitz",
    "LINEAR_OPS",
    "ORDERS",
]

#: Operations that are linear in a single traced operand when their other operand is a constant.
LINEAR_OPS = frozenset({"add", "sub", "mul", "div", "neg"})


def eliminate(
    G: GraphLike, nodes: Iterable[Node], *, weight: str = "partial", observer: Callable[..., Any] | None = None,
    merge: bool = False,
) -> nx.MultiDiGraph:  # fmt: skip
    """A copy of ``G`` with ``nodes`` eliminated one after another, path values kept.

    Parameters
    ----------
    G : networkx.MultiDiGraph or Trace
    nodes : iterable of nodes
    weight : str
        The edge attribute multiplied along paths and added across parallel
        edges.  A new edge carries that attribute and the ``arg`` (operand
        position) of the edge it replaces, nothing else: other attributes
        would no longer describe it.

    merge : bool
        False (the default) keeps a new edge p→s apart from an edge p→s at
        another operand position (a drawing shows both); True adds it to the
        edge p→s already there, so that once only inputs and outputs are
        left each pair has one edge: the Jacobian's entry.
    observer : callable, optional
        Called as ``observer(node, changes)`` after each node is eliminated,
        ``changes`` a list of ``(p, s, key, w_in, w_out, before, after)``: the
        pair p→node→s gave ``w_in · w_out``, and the edge p→s (key ``key``) now
        weighs ``after``; ``before`` is its weight before, None for a fill-in
        edge, one that was not there.  What :func:`pathad.animate_elimination` shows.

    Notes
    -----
    A zero weight annihilates, as in :func:`pathad.solve`: a pair of edges
    one of which weighs 0 gives 0, even against an infinite or nan weight.

    Raises
    ------
    pathad.DomainError
        If a new weight is not the float it stands for: w(p,v) · w(v,s) of two
        finite floats overflows, or underflows to 0 or inexactly into the
        subnormals, or its sum with an edge p→s it joins overflows.  The
        sweeps multiply a path value by one weight at a time and need not
        lose that range, so the eliminated graph would give wrong path
        values; the message names the node and the edges (keep that node).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("x", "u", 0, {"partial": 4.0, "arg": 0}),
    ...                      ("u", "t", 1, {"partial": 1.0, "arg": 1})])
    >>> H = eliminate(G, ["u"])
    >>> list(H.edges(keys=True, data="partial"))
    [('x', 't', 1, 4.0)]
    """
    check_graph(G, "eliminate")
    graph = nx.MultiDiGraph(G.graph if isinstance(G, Trace) else G)
    for node in nodes:
        changes: list[tuple] | None = [] if observer is not None else None
        _eliminate_one(graph, node, weight, changes=changes, merge=merge)
        if observer is not None:
            observer(node, changes)
    return graph


def _eliminate_one(graph, node, weight, strict=True, changes=None, merge=False):
    """Eliminate ``node`` in place; if its new weights would lose range, raise (``strict``) or keep it: False.

    ``changes``, a list, gets one (p, s, key, w_in, w_out, before, after) per pair of edges (see :func:`eliminate`).
    """
    new = {}  # (p, s, key) -> [weight, whether the edge p→s was there, the data of the edge v→s]
    joined = {}  # with merge: (p, s) -> the key every new edge p→s joins
    for p, _, into in graph.in_edges(node, data=True):
        for _, s, key, out in graph.out_edges(node, keys=True, data=True):
            partial = _product(into[weight], out[weight])
            problem = _lost(into[weight], out[weight], partial, "·")
            if merge:
                if (p, s) not in joined:
                    joined[p, s] = next(iter(graph[p][s])) if graph.has_edge(p, s) else key
                key = joined[p, s]
            edge = (p, s, key)
            before = None
            if problem is None and (edge in new or graph.has_edge(*edge)):  # parallel paths add up
                before = new[edge][0] if edge in new else graph.edges[edge][weight]
                partial, problem = before + partial, _lost(before, partial, before + partial, "+")
            if problem is not None:
                if strict:
                    raise DomainError(_lost_message(graph, node, p, s, problem))
                return False
            new[edge] = [partial, new[edge][1] if edge in new else graph.has_edge(*edge), out]
            if changes is not None:
                changes.append((p, s, key, into[weight], out[weight], before, partial))
    for (p, s, key), (partial, existed, out) in new.items():
        if existed:
            graph.edges[p, s, key][weight] = partial
        elif "arg" in out:  # the new edge takes the eliminated node's place among s's operands
            graph.add_edge(p, s, key, **{weight: partial, "arg": out["arg"]})
        else:
            graph.add_edge(p, s, key, **{weight: partial})
    graph.remove_node(node)
    return True


def _product(a, b):
    """a · b, with a zero factor annihilating (0 · inf and 0 · nan are 0, as in the sweeps)."""
    if _is_zero(a):
        return a
    if _is_zero(b):
        return b
    return a * b


def _is_zero(x):
    try:
        return bool(x == 0)
    except (TypeError, ValueError):  # an element that does not compare to 0 (an array, say) is not a zero label
        return False


def _lost(a, b, result, op):
    """None if ``result`` = a op b is the float it stands for; else (a, b, result, op) (floats only)."""
    if not all(isinstance(x, float) for x in (a, b, result)) or not (math.isfinite(a) and math.isfinite(b)):
        return None
    if math.isinf(result) or math.isnan(result):
        return (a, b, result, op)
    if op == "·" and abs(result) < sys.float_info.min and a != 0 and b != 0:
        if Fraction(a) * Fraction(b) != Fraction(result):  # a subnormal product is fine only when exact
            return (a, b, result, op)
    return None


def _lost_message(graph, node, p, s, problem):
    a, b, result, op = problem

    def name(n):
        return repr(graph.nodes[n].get("label", n))

    what = "overflows" if math.isinf(result) or math.isnan(result) else "underflows"
    edges = f"{name(p)} -> {name(node)} -> {name(s)}"
    if op == "·":
        detail = f"the partials {a!r} · {b!r} along {edges} give {result!r}"
    else:
        detail = f"the partial {b!r} along {edges} added to {a!r} on {name(p)} -> {name(s)} gives {result!r}"
    return (
        f"eliminating node {name(node)} {what} a partial: {detail}, not the true value; the sweeps multiply one "
        f"partial at a time and keep it, so keep node {name(node)} in the graph"
    )


def fold_linear(obj: GraphLike, *, keep: Iterable[Node] = ()) -> nx.MultiDiGraph:
    """Eliminate every single-use node that is a constant scaling or shift of one operand.

    Such a node (``4*y``, ``x/2``, ``-x``, ``x + 1``) has one in-edge and one
    out-edge and an operation in :data:`LINEAR_OPS`.  Inputs, the outputs of a
    Trace and the nodes in ``keep`` stay, and so does a node whose folded
    partial would overflow or underflow (see :func:`eliminate`): the graph
    keeps its path values either way.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    >>> G = fold_linear(tr)
    >>> sorted(p for _, _, p in G.edges(data="partial"))
    [1.0, 1.0, 1.0, 4.0, 5.0, 8.0, 23.0, 40.0]
    """
    check_graph(obj, "fold_linear")
    graph = obj.graph if isinstance(obj, Trace) else obj
    protected = set(keep) | set(obj.outputs if isinstance(obj, Trace) else ())
    foldable = [
        n
        for n, op in graph.nodes(data="op")
        if op in LINEAR_OPS and n not in protected and graph.in_degree(n) == 1 and graph.out_degree(n) == 1
    ]
    folded = nx.MultiDiGraph(graph)
    for node in foldable:
        _eliminate_one(folded, node, "partial", strict=False)
    return folded


# --- vertex elimination as a Jacobian method ----------------------------------------------------------------

#: The elimination orders :func:`eliminated_jacobian` knows (or give a list of nodes).
ORDERS = ("forward", "reverse", "markowitz", "optimal")

#: "optimal" searches the subsets of the nodes between (each once, cheapest first): up to this many nodes.
OPTIMAL_LIMIT = 14


def eliminated_jacobian(
    G: GraphLike, columns: Sequence[Node], rows: Sequence[Node], order: str | Sequence[Node] = "markowitz", *,
    weight: str = "partial",
) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
    """The Jacobian ∂rows/∂columns by eliminating every node between them; the ⊗ and ⊕ it took.

    Only the nodes on paths from ``columns`` to ``rows`` take part.  Each
    eliminated v folds every pair p→v→s into p→s: one ⊗, and one ⊕ when p→s
    is there already (``merge=True`` of :func:`eliminate`).  What is left is
    the bipartite graph columns → rows, whose edge labels are the entries.

    Parameters
    ----------
    G : Trace or networkx.MultiDiGraph
    columns, rows : list of nodes
    order : {"forward", "reverse", "markowitz", "optimal"} or list of nodes
        "forward" eliminates in the graph's (topological) order, "reverse" in
        the opposite one, "markowitz" each time the node whose elimination
        takes the fewest ⊗ now (|edges in| · |edges out|, ties to the earlier
        node), "optimal" an order with the fewest ⊗ + ⊕ of all (a search over the
        subsets of the nodes between, up to :data:`OPTIMAL_LIMIT` of them); a
        list gives the order itself (it must hold every node between).

    Returns
    -------
    (numpy.ndarray, dict)
        The matrix, and ``{"times": ⊗, "plus": ⊕, "order": [nodes eliminated]}``.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    >>> J, counts = eliminated_jacobian(tr, [0, 1], [6])
    >>> J.tolist(), counts["times"], counts["plus"]
    ([[155.0, 459.0]], 7, 3)
    """
    check_graph(G, "eliminated_jacobian")
    work, columns, rows = jacobian_graph(G, columns, rows, weight)
    ends = set(columns) | set(rows)
    between = [n for n in work if n not in ends]
    counts: dict[str, Any] = {"times": 0, "plus": 0, "order": []}
    for node in _order(work, between, order):  # in place: Markowitz reads the graph as it changes
        changes: list[tuple] = []
        _eliminate_one(work, node, weight, changes=changes, merge=True)
        counts["order"].append(node)
        counts["times"] += len(changes)
        counts["plus"] += sum(before is not None for *_, before, _ in changes)
    matrix = np.zeros((len(rows), len(columns)))
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            if row == column:
                matrix[i, j] = 1.0
            elif work.has_edge(column, row):
                labels = [d[weight] for d in work.get_edge_data(column, row).values()]
                counts["plus"] += len(labels) - 1  # parallel edges of the original graph
                matrix[i, j] = sum(labels)
    return matrix, counts


def jacobian_graph(G, columns, rows, weight="partial"):
    """(work, columns, rows): the part of ``G`` on paths from ``columns`` to ``rows``, as a new MultiDiGraph to
    eliminate in, with the columns and rows as its ends.

    A row that other rows read (or a column downstream of another) stays an
    inner node of the elimination, and a new end of its own takes its place
    in the lists returned: a sink ("row", r) behind a row, a source
    ("column", c) before a column, joined by an edge labeled 1.
    """
    graph = G.graph if isinstance(G, Trace) else G
    columns, rows = _plain(columns), _plain(rows)
    below, above = _closure(graph._succ, columns), _closure(graph._pred, rows)
    work = _induced(graph, below & above)
    columns = [_split(work, c, "column", weight) if c in work and work.in_degree(c) else c for c in columns]
    rows = [_split(work, r, "row", weight) if r in work and work.out_degree(r) else r for r in rows]
    return work, columns, rows


def _induced(graph, keep):
    """A new MultiDiGraph of ``graph``'s nodes in ``keep`` and the edges among them, attribute dicts copied (an
    elimination rewrites them).  Built from the adjacency dicts: networkx's subgraph view filters every lookup,
    which made this copy most of a small Jacobian's time."""
    work = nx.MultiDiGraph()
    work.add_nodes_from((n, dict(graph.nodes[n])) for n in graph if n in keep)
    multi = graph.is_multigraph()
    for u in work:
        for v, found in graph._succ[u].items():
            if v in keep:
                if multi:
                    work.add_edges_from((u, v, k, dict(d)) for k, d in found.items())
                else:
                    work.add_edge(u, v, **found)
    return work


def _plain(nodes):
    """The nodes as a list, numpy integers (as ``Trace.arguments`` holds them) as Python ints: a split end is a
    tuple, and a tuple compared with a numpy integer compares element by element."""
    items = np.ravel(nodes).tolist() if isinstance(nodes, np.ndarray) else list(nodes)
    return [n.item() if isinstance(n, np.integer) else n for n in items]


def _closure(step, starts):
    """The nodes reached from ``starts`` (included) through the adjacency dict ``step``: one walk for all."""
    seen = set(starts)
    stack = list(seen)
    while stack:
        for w in step[stack.pop()]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def multiplicities(work):
    """(pred, succ), node -> {neighbour: number of edges}: the model of ``work`` the counts are made on."""
    pred, succ = {n: {} for n in work}, {n: {} for n in work}
    for u, v in work.edges():
        succ[u][v] = succ[u].get(v, 0) + 1
        pred[v][u] = pred[v].get(u, 0) + 1
    return pred, succ


def model_eliminate(pred, succ, v):
    """Eliminate ``v`` from the model (:func:`multiplicities`) in place as :func:`eliminate` with ``merge=True``
    does, forming no product; return its (⊗, ⊕): one ⊗ per pair of edges, and one ⊕ per product that lands on
    an edge p→s already there (all of them if p→s was, all but the first if it was not)."""
    times = plus = 0
    for p, m_in in pred[v].items():
        for s, m_out in succ[v].items():
            products = m_in * m_out
            times += products
            plus += products if s in succ[p] else products - 1
            if s not in succ[p]:
                succ[p][s] = pred[s][p] = 1
    for p in pred[v]:
        del succ[p][v]
    for s in succ[v]:
        del pred[s][v]
    del pred[v], succ[v]
    return times, plus


def _split(work, node, kind, weight):
    """Give ``node`` a new end: ("column", node) → node, or node → ("row", node), labeled 1; return the new end."""
    end = (kind, node)
    if kind == "column":
        work.add_edge(end, node, 0, **{weight: 1.0, "arg": 0})
    else:
        work.add_edge(node, end, 0, **{weight: 1.0, "arg": 0})
    return end


def _order(work, between, order):
    """The nodes of ``between`` in the order asked for (Markowitz chooses as the graph changes)."""
    if not isinstance(order, str):
        given = list(order)
        if sorted(map(str, given)) != sorted(map(str, between)) or len(set(given)) != len(given):
            missing = [n for n in between if n not in given]
            strangers = [n for n in given if n not in between][:5]
            raise ValueError(
                f"order must list each node between the columns and rows once; missing {missing[:5]}"
                if missing
                else f"order lists nodes that are not between the columns and rows (or lists one twice): {strangers}"
            )
        yield from given
        return
    if order == "forward":
        yield from between
    elif order == "reverse":
        yield from reversed(between)
    elif order == "optimal":
        yield from _optimal(work, between)
    elif order == "markowitz":
        yield from markowitz(
            between,
            lambda n: work.in_degree(n) * work.out_degree(n),
            lambda n: {*work.predecessors(n), *work.successors(n)},
        )
    else:
        raise ValueError(f"order must be one of {', '.join(ORDERS)} or a list of nodes, got {order!r}")


def markowitz(nodes, cost, neighbours):
    """Yield ``nodes`` cheapest first, ``cost(n)`` read anew after each: the caller eliminates each yielded node
    before asking for the next, and only the neighbours of an eliminated node change cost.

    ``cost(n)`` is the ⊗ eliminating n takes now (|edges in| · |edges out|);
    ties go to the earlier node of ``nodes``; ``neighbours(n)`` are the nodes
    whose cost eliminating n may change.  A heap with stale entries skipped:
    O((n + changes) log n) rather than a scan per step.

    Examples
    --------
    >>> list(markowitz(["a", "b", "c"], {"a": 2, "b": 1, "c": 1}.get, lambda n: ()))
    ['b', 'c', 'a']
    """
    position = {n: i for i, n in enumerate(nodes)}
    heap = [(cost(n), position[n], n) for n in nodes]
    heapq.heapify(heap)
    left = set(nodes)
    while heap:
        c, _, node = heapq.heappop(heap)
        if node not in left or c != cost(node):  # eliminated, or its cost has changed since
            continue
        left.discard(node)
        affected = [m for m in neighbours(node) if m in left]
        yield node
        for m in affected:
            heapq.heappush(heap, (cost(m), position[m], m))


def _optimal(work, between):
    """An elimination order of ``between`` with the fewest ⊗ + ⊕, by a cheapest-first search over subsets.

    The graph left after eliminating a set of nodes does not depend on the
    order (path values, and so which edges exist, do not), so a state is the
    set eliminated: each is expanded once, at its lowest cost (Dijkstra's
    algorithm on the lattice of subsets), on the model of
    :func:`model_eliminate`, which forms no product.
    """
    if len(between) > OPTIMAL_LIMIT:
        raise ValueError(
            f"order='optimal' searches every subset of the nodes between the columns and rows: {len(between)} "
            f"nodes are more than {OPTIMAL_LIMIT} (2^{len(between)} subsets); use 'markowitz'"
        )
    index = {n: i for i, n in enumerate(between)}
    full = (1 << len(between)) - 1
    queue = [(0, 0, 0, ())]  # (cost, tie-breaker, eliminated set as bits, order so far)
    models = {0: multiplicities(work)}
    done = set()
    counter = 1
    while queue:
        cost, _, eliminated, order = heapq.heappop(queue)
        if eliminated in done:
            continue
        done.add(eliminated)
        if eliminated == full:
            return [between[i] for i in order]
        pred, succ = models.pop(eliminated)
        for v in between:
            later = eliminated | (1 << index[v])
            if later == eliminated or later in done:
                continue
            after = ({n: dict(d) for n, d in pred.items()}, {n: dict(d) for n, d in succ.items()})
            times, plus = model_eliminate(*after, v)
            heapq.heappush(queue, (cost + times + plus, counter, later, (*order, index[v])))
            counter += 1
            models.setdefault(later, after)
    return list(between)  # pragma: no cover - the full set is always reached
