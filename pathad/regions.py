"""Regions of a graph that a drawing can collapse: named scopes and single-entry, single-exit regions.

Collapsing a region eliminates its inner nodes (:func:`pathad.eliminate`), so
the edges left from its operands to its results carry the exact path values
through it: a big trace reads as its layers.  :func:`collapsed` says which
nodes go; :func:`pathad.draw` and :func:`pathad.animate` take ``collapse=``.
Scopes are named while tracing with :func:`pathad.scope`.
"""

import networkx as nx

__all__ = ["collapsed"]


def collapsed(graph, collapse):
    """The nodes that collapsing leaves out (:func:`draw`'s ``collapse``): eliminated, they leave edges whose
    labels are the path values through them.

    ``collapse`` is a scope name or a list of them (:func:`pathad.scope`; a
    scope's nodes go but its results, those used outside it or by nobody),
    True for every outermost scope, or ``"auto"`` for the single-entry,
    single-exit regions: from a node a to the farthest node b that every path
    from a passes through and that only paths through a reach, everything in
    between, however large (not the region that would leave only inputs and
    outputs).

    Examples
    --------
    >>> from pathad import trace
    >>> from pathad.functions import sin
    >>> def f(x):
    ...     y = x
    ...     for _ in range(3):
    ...         y = sin(y) * y
    ...     return y * x
    >>> tr = trace(f, 0.5)
    >>> len(tr.graph), len(collapsed(tr.graph, "auto"))
    (8, 3)
    """
    if isinstance(collapse, str) and collapse == "auto":
        return _single_entry_single_exit(graph)
    scopes = {path for _, path in graph.nodes(data="scope") if path}
    if collapse is True:
        names = {path.split("/")[0] for path in scopes}
    else:
        names = [collapse] if isinstance(collapse, str) else list(collapse)
        unknown = [name for name in names if not any(p == name or p.startswith(name + "/") for p in scopes)]
        if unknown:
            known = sorted({"/".join(p.split("/")[: k + 1]) for p in scopes for k in range(p.count("/") + 1)})
            raise ValueError(
                f"collapse: no scope {unknown[0]!r} in the graph; its scopes: {', '.join(known) or 'none'} "
                "(name them with `with pathad.scope(name):` while tracing)"
            )
    removed = set()
    for name in names:
        inside = {
            n for n, path in graph.nodes(data="scope") if path and (path == name or path.startswith(name + "/"))
        }
        removed |= {n for n in inside if graph.out_degree(n) and all(s in inside for s in graph.successors(n))}
    return removed


def _single_entry_single_exit(graph):
    """The inner nodes of the maximal single-entry, single-exit regions (see :func:`collapsed`)."""
    root, sink = ("collapse", "root"), ("collapse", "sink")
    simple = nx.DiGraph(graph)
    sources = [n for n in graph if graph.in_degree(n) == 0]
    sinks = [n for n in graph if graph.out_degree(n) == 0]
    simple.add_edges_from((root, s) for s in sources)
    simple.add_edges_from((t, sink) for t in sinks)
    idom = nx.immediate_dominators(simple, root)
    ipdom = nx.immediate_dominators(simple.reverse(copy=False), sink)

    def dominates(a, b):
        while b != root:
            if b == a:
                return True
            b = idom[b]
        return False

    everything = set(graph) - set(sources) - set(sinks)
    removed = set()
    for a in nx.topological_sort(graph):
        if a in removed:
            continue
        exit_, b = None, ipdom.get(a, sink)
        while b != sink and dominates(a, b):
            exit_, b = b, ipdom[b]
        if exit_ is None:
            continue
        inside, stack = set(), [a]
        while stack:  # everything reachable from a before its exit
            for v in graph.successors(stack.pop()):
                if v != exit_ and v not in inside:
                    inside.add(v)
                    stack.append(v)
        if inside and inside != everything:
            removed |= inside
    return removed
