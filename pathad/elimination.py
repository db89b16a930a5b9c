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

import math
import sys
from fractions import Fraction

import networkx as nx

from .errors import DomainError
from .tracing import Trace

__all__ = ["eliminate", "fold_linear", "LINEAR_OPS"]

#: Operations that are linear in a single traced operand when their other operand is a constant.
LINEAR_OPS = frozenset({"add", "sub", "mul", "div", "neg"})


def eliminate(G, nodes, *, weight="partial", observer=None):
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

    observer : callable, optional
        Called as ``observer(node, changes)`` after each node is eliminated,
        ``changes`` a list of ``(p, s, key, w_in, w_out, before, after)``: the
        pair p→node→s gave ``w_in · w_out``, and the edge p→s (key ``key``) now
        weighs ``after``; ``before`` is its weight before, None for a fill-in
        edge, one that was not there.  What :func:`pathad.animate_elimination` shows.

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
    graph = nx.MultiDiGraph(G.graph if isinstance(G, Trace) else G)
    for node in nodes:
        changes = [] if observer is not None else None
        _eliminate_one(graph, node, weight, changes=changes)
        if observer is not None:
            observer(node, changes)
    return graph


def _eliminate_one(graph, node, weight, strict=True, changes=None):
    """Eliminate ``node`` in place; if its new weights would lose range, raise (``strict``) or keep it: False.

    ``changes``, a list, gets one (p, s, key, w_in, w_out, before, after) per pair of edges (see :func:`eliminate`).
    """
    new = {}  # (p, s, key) -> [weight, whether the edge p→s was there, the data of the edge v→s]
    for p, _, into in graph.in_edges(node, data=True):
        for _, s, key, out in graph.out_edges(node, keys=True, data=True):
            partial = _product(into[weight], out[weight])
            problem = _lost(into[weight], out[weight], partial, "·")
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


def fold_linear(obj, *, keep=()):
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
    graph = obj.graph if isinstance(obj, Trace) else obj
    protected = set(keep) | set(obj.outputs if isinstance(obj, Trace) else ())
    foldable = [
        n
        for n, op in graph.nodes(data="op")
        if op in LINEAR_OPS
        and n not in protected
        and graph.in_degree(n) == 1
        and graph.out_degree(n) == 1
    ]
    folded = nx.MultiDiGraph(graph)
    for node in foldable:
        _eliminate_one(folded, node, "partial", strict=False)
    return folded
