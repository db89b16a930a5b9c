"""Symbolic path sums: the lecture's symbolic computation graph (Fig. 2(a)) with sympy.

Every node's formula is rebuilt from the graph (its ``op``, its operands by the
``arg`` of their edges, and its ``consts``) by evaluating the value rule of
:data:`pathad.primitives.PRIMITIVES` in a sympy math namespace, and every edge's
label by evaluating the *same* partial rule the tracer used for the number:
there is one rule table.  Solving the path problem over
:data:`pathad.semirings.SYMBOLIC` then turns the sum over paths into a formula;
for h(x, y) = (x + 4y)·((x + y)·y) both sweeps give ∂h/∂x = 2xy + 5y² (the
lecture's Example 4.1).

Inputs become real sympy symbols named by their labels; float constants become
exact rationals (4.0 → 4, 0.1 → 1/10).  sympy is an optional dependency:
importing this module works without it, and the functions that need it say how
to install it.

Examples
--------
>>> from pathad.tracing import trace
>>> def h(x, y):
...     return (x + 4 * y) * ((x + y) * y)
>>> tr = trace(h, x=3.0, y=5.0)
>>> symbolic_derivative(tr, "x", mode="forward"), symbolic_derivative(tr, "x", mode="backward")
(2*x*y + 5*y**2, 2*x*y + 5*y**2)
"""

from collections.abc import Iterable
from functools import partial
from typing import Any

import networkx as nx

from .errors import MissingDependencyError
from .primitives import PRIMITIVES, namespace_functions
from .semirings import SYMBOLIC
from .solver import DIRECTIONS, solve
from .tracing import Trace, check_graph, check_trace, resolve_node
from .types import GraphLike, Node, NodeRef, Nodes

__all__ = [
    "SympyMath",
    "symbolic_graph",
    "symbolic_expression",
    "symbolic_derivative",
    "have_sympy",
]


def have_sympy():
    """Whether sympy can be imported.

    Examples
    --------
    >>> have_sympy() in (True, False)
    True
    """
    try:
        _sympy()
    except MissingDependencyError:
        return False
    return True


def _sympy():
    try:
        import sympy
    except ImportError:
        raise MissingDependencyError(
            'symbolic path sums need sympy, which is not installed: pip install "pathad[symbolic]"'
        ) from None
    return sympy


class SympyMath:
    """The math namespace of :mod:`pathad.primitives` for sympy expressions.

    The counterpart of :class:`pathad.primitives.FloatMath`, built from the same
    table (each primitive's ``sympy`` formula), so the primitive table's rules
    build formulas instead of numbers.

    Examples
    --------
    >>> import sympy
    >>> m = SympyMath()
    >>> x = sympy.Symbol("x")
    >>> m.sigmoid(x), m.pow(x, 3), m.arcsinh(x)
    (1/(1 + exp(-x)), x**3, asinh(x))
    """

    def __init__(self):
        sp = _sympy()
        self._sp = sp
        for name, formula in namespace_functions("sympy").items():
            setattr(self, name, partial(formula, sp))


def symbolic_graph(G: GraphLike, nodes: Nodes | None = None) -> nx.MultiDiGraph:
    """A copy of a traced graph with sympy formulas: ``expr`` on nodes, ``symbolic`` on edges.

    Parameters
    ----------
    G : Trace or networkx.MultiDiGraph
        A graph as traced (nodes with ``op`` and ``consts``, edges with
        ``arg``); not one after vertex elimination, whose edges no longer match
        the ops.
    nodes : node or collection of nodes, optional
        Keep only these nodes and the nodes they depend on (default: all).

    Returns
    -------
    networkx.MultiDiGraph
        Ready for ``solve(..., semiring=SYMBOLIC)``, which reads ``"symbolic"``.

    Raises
    ------
    MissingDependencyError
        If sympy is not installed.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> S = symbolic_graph(trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0))
    >>> S.nodes[6]["expr"], S.edges[3, 6, 0]["symbolic"], S.edges[1, 2, 1]["symbolic"]
    (y*(x + y)*(x + 4*y), y*(x + y), 4)
    """
    check_graph(G, "symbolic_graph")
    graph = G.graph if isinstance(G, Trace) else G
    keep = graph if nodes is None else _with_ancestors(G, graph, nodes)
    S = graph.subgraph(keep).copy()
    m = SympyMath()
    for node in nx.topological_sort(S):
        _annotate(S, node, m)
    return S


def _with_ancestors(G, graph, nodes):
    single = isinstance(nodes, str) or not isinstance(nodes, Iterable) or nodes in graph
    refs = [nodes] if single else list(nodes)
    keep = {resolve_node(G, r) for r in refs}
    for node in list(keep):
        keep |= nx.ancestors(graph, node)
    return keep


def _annotate(S, node, m):
    """Set the node's ``expr`` and the ``symbolic`` label of each edge into it."""
    data = S.nodes[node]
    op = data.get("op")
    if op == "input":
        data["expr"] = m._sp.Symbol(str(data.get("label", node)), real=True)
        return
    if op not in PRIMITIVES:
        raise ValueError(f"node {data.get('label', node)!r} has op {op!r}, which is not a pathad primitive")
    primitive = PRIMITIVES[op]
    operands = _operands(S, node, primitive.arity, m)
    result = _exact(primitive.value(m, *operands), m)
    data["expr"] = result
    for _, _, edge in S.in_edges(node, data=True):
        edge["symbolic"] = _exact(primitive.label_rules[edge["arg"]](m, *operands, result), m)


def _operands(S, node, arity, m):
    """The node's operands by position: traced ones from the in-edges, the rest from ``consts``."""
    operands = [None] * arity
    for position, constant in S.nodes[node].get("consts", ()):
        operands[position] = _exact(constant, m)
    for u, _, arg in S.in_edges(node, data="arg"):
        operands[arg] = S.nodes[u]["expr"]
    if any(operand is None for operand in operands):
        label = S.nodes[node].get("label", node)
        raise ValueError(f"node {label!r} ({S.nodes[node]['op']}) is missing an operand: {operands}")
    return operands


def _exact(value, m):
    """The value as a sympy expression with every float replaced by an exact rational."""
    sp = m._sp
    expr = sp.sympify(value)
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sp.nsimplify(f, rational=True) for f in floats})


def symbolic_expression(tr: Trace, of: NodeRef | None = None) -> Any:  # a sympy expression
    """The formula a traced output computes, in the inputs' symbols.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> symbolic_expression(trace(lambda x: 0.5 * x * x, 3.0))
    x**2/2
    """
    check_trace(tr, "symbolic_expression")
    target = _output(tr, of)
    return symbolic_graph(tr, [target]).nodes[target]["expr"]


def symbolic_derivative(
    tr: GraphLike, wrt: Node, of: Node | None = None, *, mode: str = "backward", expand: bool = True
) -> Any:  # a sympy expression
    """∂(of)/∂(wrt) as a sympy formula: the SYMBOLIC path sum, by one forward or backward sweep.

    Parameters
    ----------
    tr : Trace or networkx.MultiDiGraph
    wrt : str or int
        Input name, node label or node id.
    of : str or int, optional
        The output (default: the trace's single output).
    mode : {"backward", "forward"}
    expand : bool
        Multiply out the sum of path products (True) or return it as sympy
        builds it (False).

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> symbolic_derivative(trace(lambda x: x * x * x, 2.0), "x")
    3*x**2
    """
    check_graph(tr, "symbolic_derivative")
    if mode not in DIRECTIONS:
        raise ValueError(f"mode must be 'forward' or 'backward', got {mode!r}")
    sp = _sympy()
    source, target = resolve_node(tr, wrt), _output(tr, of)
    S = symbolic_graph(tr, [target])
    if source not in S:  # of does not depend on wrt
        return sp.Integer(0)
    start, end = (source, target) if DIRECTIONS[mode] else (target, source)
    value = sp.sympify(solve(S, start, direction=mode, semiring=SYMBOLIC, targets=end).get(end, 0))
    return sp.expand(value) if expand else value



def _output(tr, of):
    if of is not None:
        return resolve_node(tr, of)
    if isinstance(tr, Trace):
        return tr.output
    raise TypeError("a graph has no designated output: name it with of=")
