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

import networkx as nx

from .tracing import Trace

__all__ = ["eliminate", "fold_linear", "LINEAR_OPS"]

#: Operations that are linear in a single traced operand when their other operand is a constant.
LINEAR_OPS = frozenset({"add", "sub", "mul", "div", "neg"})


def eliminate(G, nodes, *, weight="partial"):
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
        _eliminate_one(graph, node, weight)
    return graph


def _eliminate_one(graph, node, weight):
    incoming = list(graph.in_edges(node, data=True))
    outgoing = list(graph.out_edges(node, keys=True, data=True))
    for p, _, into in incoming:
        for _, s, key, out in outgoing:
            partial = into[weight] * out[weight]
            if graph.has_edge(p, s, key):
                graph.edges[p, s, key][weight] += partial
            elif "arg" in out:  # the new edge takes the eliminated node's place among s's operands
                graph.add_edge(p, s, key, **{weight: partial, "arg": out["arg"]})
            else:
                graph.add_edge(p, s, key, **{weight: partial})
    graph.remove_node(node)


def fold_linear(obj, *, keep=()):
    """Eliminate every single-use node that is a constant scaling or shift of one operand.

    Such a node (``4*y``, ``x/2``, ``-x``, ``x + 1``) has one in-edge and one
    out-edge and an operation in :data:`LINEAR_OPS`.  Inputs, the outputs of a
    Trace and the nodes in ``keep`` stay.

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
    return eliminate(graph, foldable)
