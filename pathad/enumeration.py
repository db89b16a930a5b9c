"""Paths of a computation graph, one by one, and the questions they answer.

A derivative ∂t/∂s is a sum over the paths s→t of the product of their edge
labels.  :func:`paths` lists those paths and :func:`explain` writes the sum
out, as the lecture does for ∂h/∂x in Example 4.1.  Listing is exponential in
general (the logistic map doubles its paths every step while its graph grows by
three nodes), so both first count the paths with one COUNTING sweep and refuse,
saying how many there are, past a limit.

The other functions here answer path questions with one sweep each, in the
semiring that fits: :func:`count_paths` (COUNTING), :func:`best_path`
(MAX_TIMES: the single most influential path), :func:`sparsity` and
:func:`active_nodes` (BOOLEAN: which outputs depend on which inputs; which
nodes lie on some input→output path).  :func:`path_sum` is the definition
itself, ⊕ over the listed paths of their ⊗-products: the brute-force reference
the sweeps are tested against.

Examples
--------
>>> from pathad.tracing import trace
>>> def h(x, y):
...     return (x + 4 * y) * ((x + y) * y)
>>> tr = trace(h, x=3.0, y=5.0)
>>> [p.nodes for p in paths(tr, "x", "h")]
[(0, 3, 6), (0, 4, 5, 6)]
>>> print(explain(tr, "x", symbolic=False))
∂h/∂x = 1·40 + 1·5·23 = 40 + 115 = 155
"""

import math
import numbers
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from .errors import TooManyPathsError
from .semirings import BITSETS, BOOLEAN, COUNTING, MAX_TIMES, REAL, as_semiring, edge_weight, influence
from .solver import solve
from .symbolic import have_sympy, symbolic_graph
from .tracing import Trace, check_graph, check_trace, resolve_node
from .types import GraphLike, Node, Nodes, SemiringLike, Weight

__all__ = [
    "Path",
    "paths",
    "count_paths",
    "path_sum",
    "best_path",
    "explain",
    "sparsity",
    "active_nodes",
    "PATH_LIMIT",
]

#: How many paths :func:`paths` and :func:`path_sum` list before refusing.
PATH_LIMIT = 10_000

_EXPLAIN_LIMIT = 32  # terms in one explanation
_SYMBOLIC_NODES = 200  # explain's automatic choice: symbolic labels only on graphs this small
_SYMBOLIC_WIDTH = 40  # ... and only when every label prints this short


@dataclass(frozen=True)
class Path:
    """One path: its ``nodes`` and the label (``partial``) of each edge.

    Attributes
    ----------
    nodes : tuple
        s, ..., t; one more than there are edges.
    partials : tuple
        The edge labels in path order.

    Examples
    --------
    >>> Path((0, 3, 6), (1.0, 40.0)).product
    40.0
    """

    nodes: tuple
    partials: tuple

    @property
    def product(self) -> Any:
        """The product of the labels: this path's term in the derivative (1 for the empty path)."""
        return math.prod(self.partials)

    def __len__(self):
        return len(self.partials)

    @property
    def labels(self) -> tuple[str, ...]:
        """The nodes as a reader names them: input names, labels (``.named``), outputs, else formulas.

        ``nodes`` holds the node ids, for programs; a path made by hand names its nodes by themselves.

        >>> from pathad.tracing import trace
        >>> next(paths(trace(lambda x, y: (x + y) * y, x=3.0, y=5.0), "x", "<lambda>")).labels
        ('x', 'x+y', '<lambda>')
        """
        names = self.__dict__.get("_names")
        return names(self.nodes) if names is not None else tuple(str(node) for node in self.nodes)

    def __str__(self):
        """'x → x+y → (x+y)·y → h: 1·5·23 = 115': the nodes by name, the labels, their product."""
        route = " → ".join(self.labels)
        if not all(isinstance(w, numbers.Real) for w in self.partials):
            return f"{route}: {'·'.join(map(str, self.partials))}" if self.partials else route
        if len(self.partials) < 2:
            return f"{route}: {_number(self.product)}"
        factors = "·".join(_number(w, parenthesize=True) for w in self.partials)
        return f"{route}: {factors} = {_number(self.product)}"

    def _named_by(self, names):
        object.__setattr__(self, "_names", names)
        return self

    def __getstate__(self):  # the names refer to the whole graph: a copy or a pickle keeps the path alone
        return {key: value for key, value in self.__dict__.items() if key != "_names"}


class _ReaderNames:
    """node -> reader name for the nodes of one graph, worked out once, on first use (see :func:`reader_names`)."""

    def __init__(self, G, scope):
        self.G, self.scope, self.names = G, scope, None

    def __call__(self, nodes):
        if self.names is None:
            self.names = reader_names(self.G, self.scope())
        return tuple(self.names.get(node, str(node)) for node in nodes)


def reader_names(G, nodes=None, *, unique=False):
    """node -> the name a reader knows it by: its label (an input's name, a ``.named`` label, an output's
    name), else its formula in the named nodes when short (``x+4y``), else its ``v<id>`` label.

    Node ids are what programs read (:func:`pathad.solve` returns them); these names are for printing.
    For a plain graph a node's name is its ``label`` attribute, else the node itself as text.  With
    ``unique``, names that two nodes share get the node's id: ``x·x (v1)``.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> reader_names(trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0))
    {0: 'x', 1: 'y', 2: '4y', 3: 'x+4y', 4: 'x+y', 5: '(x+y)·y', 6: '<lambda>'}
    """
    from .draw import formula_names  # draw lays out what this module finds: it imports this module

    graph = G.graph if isinstance(G, Trace) else G
    nodes = list(graph) if nodes is None else list(nodes)
    if isinstance(G, Trace) or any("op" in data for _, data in graph.nodes(data=True)):
        names = formula_names(graph, nodes)
    else:
        names = {node: str(graph.nodes[node].get("label", node)) for node in nodes}
    if unique:
        counts = {}
        for name in names.values():
            counts[name] = counts.get(name, 0) + 1
        names = {node: name if counts[name] == 1 else f"{name} ({_id_text(graph, node)})" for node, name in
                 names.items()}  # fmt: skip
    return names


def _id_text(graph, node):
    label = graph.nodes[node].get("label") if node in graph else None
    return label if isinstance(label, str) and label == f"v{node}" else (f"v{node}" if type(node) is int else
                                                                         repr(node))  # fmt: skip


def paths(
    G: GraphLike, source: Node, target: Node, *, weight: Weight = "partial", limit: int | None = PATH_LIMIT
) -> Iterator[Path]:
    """Every path from ``source`` to ``target``, as :class:`Path` records.

    Parallel edges are distinct paths (x·x has two paths from x, each labeled
    x).  The walk is iterative, depth-first, in the graph's edge order, and only
    enters nodes from which ``target`` can be reached.

    Parameters
    ----------
    G : Trace or networkx graph
    source, target : node references
        Input names, labels or node ids.
    weight : str or callable
        The edge attribute read as each label, or ``weight(u, v, data)``.
    limit : int or None
        Refuse when there are more paths than this (None: no limit).

    Returns
    -------
    iterator of Path

    Raises
    ------
    TooManyPathsError
        If there are more than ``limit`` paths; the message gives the count.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> [(p.nodes, p.partials) for p in paths(trace(lambda x: x * x, 3.0), "x", 1)]
    [((0, 1), (3.0,)), ((0, 1), (3.0,))]
    """
    graph, s, t = _endpoints(G, source, target, "paths")
    _check_count(graph, s, t, limit)
    names = _ReaderNames(graph, lambda: {s, t} | nx.ancestors(graph, t))
    return (path._named_by(names) for path in _walk(graph, s, t, edge_weight(weight)))


def count_paths(G: GraphLike, source: Node, target: Node) -> int:
    """The number of paths from ``source`` to ``target``, by one COUNTING sweep (linear time).

    It is the number of terms of ∂target/∂source written as a sum of products
    of edge labels: what symbolic differentiation would write before
    collecting terms.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> def logistic(x, steps=30):
    ...     for _ in range(steps):
    ...         x = 4 * x * (1 - x)
    ...     return x
    >>> tr = trace(logistic, 0.3)
    >>> tr.graph.number_of_nodes(), count_paths(tr, "x", "logistic")
    (91, 1073741824)

    The logistic map's 2^n paths against 3n + 1 nodes is expression swell in
    the number of terms.  many_sines (y = x, then six times y = sin(x + y)) has
    only n + 1 paths; its swell is in the labels, each cos(x + sin(x + ...))
    holding the whole computation before it:

    >>> from pathad.functions import sin
    >>> def many_sines(x):
    ...     y = x
    ...     for _ in range(6):
    ...         y = sin(x + y)
    ...     return y
    >>> tr = trace(many_sines, 0.5)
    >>> tr.graph.number_of_nodes(), count_paths(tr, "x", "many_sines")
    (13, 7)
    """
    graph, s, t = _endpoints(G, source, target, "count_paths")
    return solve(graph, s, semiring=COUNTING, targets=t).get(t, 0)


def path_sum(
    G: GraphLike, source: Node, target: Node, *, semiring: SemiringLike = REAL, weight: Weight | None = None,
    limit: int | None = PATH_LIMIT,
) -> Any:  # fmt: skip
    """⊕ over the paths source→target of the ⊗-product of their weights, path by path.

    The definition of the path problem, computed by listing the paths: the
    reference :func:`pathad.solve` must agree with.  ``weight`` defaults to
    the semiring's own.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    >>> path_sum(tr, "y", 6), path_sum(tr, "y", 6, semiring=COUNTING), path_sum(tr, "y", 6, semiring="counting")
    (459.0, 3, 3)
    """
    semiring = as_semiring(semiring)
    graph, s, t = _endpoints(G, source, target, "path_sum")
    _check_count(graph, s, t, limit)
    read = edge_weight(semiring.weight if weight is None else weight)
    total = semiring.zero
    for path in _walk(graph, s, t, read):
        product = semiring.one
        for w in path.partials:
            product = semiring.times(product, w)
        total = semiring.plus(total, product)
    return total


def best_path(
    G: GraphLike, source: Node, target: Node, *, weight: Weight = "partial", direction: str = "forward"
) -> Path | None:
    """The most influential path: the largest |product of labels|, by one MAX_TIMES sweep.

    Its product is the single largest term of ∂target/∂source.  Ties go to the
    path that leaves through earlier nodes (see :data:`pathad.semirings.MAX_TIMES`);
    both directions give the same path.  Edges labeled 0 are skipped, since
    they add nothing to the derivative.

    Returns
    -------
    Path or None
        None when no path has a nonzero product.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    >>> p = best_path(tr, "y", 6)
    >>> p.nodes, p.partials, p.product
    ((1, 5, 6), (8.0, 23.0), 184.0)
    """
    graph, s, t = _endpoints(G, source, target, "best_path")
    start, end = (s, t) if direction == "forward" else (t, s)
    solved = solve(graph, start, direction=direction, semiring=MAX_TIMES, weight=influence(weight), targets=end)
    best = solved.get(end, MAX_TIMES.zero)
    if best.edges is None:
        return None
    path = Path((s, *(v for _, v, _ in best.edges)), tuple(w for _, _, w in best.edges))
    return path._named_by(_ReaderNames(graph, lambda: path.nodes))


def sparsity(tr: GraphLike, wrt: Nodes | None = None, of: Nodes | None = None) -> np.ndarray:
    """The Jacobian's sparsity pattern: ``pattern[i, j]`` is whether of[i] depends on wrt[j].

    One sweep: the :data:`~pathad.BITSETS` semiring seeds input j with bit j
    (forward; backward from the outputs when there are fewer of them), so each
    output's value is the set of the inputs it depends on.  Dependence is
    structural: a partial that is 0 at the traced point still counts.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> sparsity(trace(lambda x, y, z: (x * y, z + 1.0), 1.0, 2.0, 3.0)).astype(int)
    array([[1, 1, 0],
           [0, 0, 1]])
    """
    check_graph(tr, "sparsity")
    columns, rows = _inputs(tr, wrt, "sparsity"), _outputs(tr, of, "sparsity")
    return pattern_of(tr, columns, rows)


def pattern_of(tr, columns, rows):
    """:func:`sparsity` for lists of node ids: ``pattern[i, j]`` is whether node rows[i] depends on columns[j]."""
    forward = len(columns) <= len(rows)
    starts, ends = (columns, rows) if forward else (rows, columns)
    pattern = np.zeros((len(ends), len(starts)), dtype=bool)
    if starts and ends:
        seeds = start_bits(starts)
        found = solve(tr, seeds, direction="forward" if forward else "backward", semiring=BITSETS, targets=ends)
        for i, node in enumerate(ends):
            bits = found.get(node, 0)
            pattern[i] = [(bits >> j) & 1 for j in range(len(starts))]
    return pattern if forward else pattern.T


def start_bits(starts):
    """{node: bits} seeding a :data:`~pathad.BITSETS` sweep: start j gets bit j (a node listed twice, both).

    >>> start_bits(["x", "y", "x"])
    {'x': 5, 'y': 2}
    """
    seeds = {}
    for j, node in enumerate(starts):
        seeds[node] = seeds.get(node, 0) | (1 << j)
    return seeds


def active_nodes(tr: GraphLike, wrt: Nodes | None = None, of: Nodes | None = None) -> set[Node]:
    """Activity analysis: the nodes both varied by some input and useful to some output.

    Two BOOLEAN sweeps: forward from all of ``wrt`` (varied), backward from all
    of ``of`` (useful).  Only active nodes need derivative code; the rest are
    constants (not varied) or dead ends (not useful) as far as these
    derivatives go.

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> tr = trace(lambda x, y: (x * 2.0, y + x), 1.0, 2.0)
    >>> sorted(active_nodes(tr, wrt=["x"], of=[3])), sorted(active_nodes(tr, wrt=["y"]))
    ([0, 3], [1, 3])
    """
    check_graph(tr, "active_nodes")
    varied = solve(tr, _inputs(tr, wrt, "active_nodes"), semiring=BOOLEAN)
    useful = solve(tr, _outputs(tr, of, "active_nodes"), direction="backward", semiring=BOOLEAN)
    return {node for node, on in varied.items() if on and useful.get(node, False)}


def explain(
    G: GraphLike, wrt: Node, of: Node | None = None, *, symbolic: bool | None = None, limit: int | None = _EXPLAIN_LIMIT
) -> str:
    """∂of/∂wrt written out as the sum over paths of the products of edge labels.

    The text goes from the labels to the number: ``∂h/∂x = 1·y·(x+y) +
    1·y·(x+4·y) = 40 + 115 = 155``, one term per path, in path order.

    Parameters
    ----------
    G : Trace or networkx graph
    wrt, of : node references
        ``of`` defaults to the trace's single output.
    symbolic : bool or None
        Write labels as formulas in the inputs (needs sympy) or as numbers;
        None chooses formulas when sympy is installed, the graph is small and
        every label is short.
    limit : int or None
        Refuse to write more terms than this (the message gives the count).

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> tr = trace(h, x=3.0, y=5.0)
    >>> print(explain(tr, "x"))
    ∂h/∂x = 1·y·(x+y) + 1·y·(x+4·y) = 40 + 115 = 155
    >>> print(explain(tr, "y", symbolic=False))
    ∂h/∂y = 4·1·40 + 1·5·23 + 8·23 = 160 + 115 + 184 = 459
    """
    check_graph(G, "explain")
    graph, s, t = _endpoints(G, wrt, of if of is not None else _output(G), "explain")
    name = f"∂{_label(graph, t)}/∂{_label(graph, s)}"
    _check_count(graph, s, t, limit)
    terms = _labelled_paths(G, graph, s, t, symbolic)
    if not terms:
        return f"{name} = 0 (no path from {_label(graph, s)} to {_label(graph, t)})"
    products = [math.prod(number for number, _ in path.partials) for path in terms]
    parts = [name, " + ".join("·".join(text for _, text in path.partials) or "1" for path in terms)]
    for part in (_signed_sum(products), _number(sum(products))):
        if part != parts[-1]:  # a single path or a single label says the same thing twice
            parts.append(part)
    return " = ".join(parts)


def _labelled_paths(G, graph, s, t, symbolic):
    """The paths s→t with each label as (number, text)."""
    automatic = symbolic is None
    if automatic:
        symbolic = _symbolic_is_cheap(graph, t)
    if symbolic:
        S = symbolic_graph(G, [t])
        terms = list(_walk(S, s, t, _symbolic_pair)) if s in S else []
        short = all(len(text) <= _SYMBOLIC_WIDTH for path in terms for _, text in path.partials)
        if short or not automatic:
            return terms
    return list(_walk(graph, s, t, _numeric_pair))


def _symbolic_is_cheap(graph, t):
    """sympy is there, the graph is as traced (has ops) and the part above t is small."""
    if not have_sympy() or any("op" not in data for _, data in graph.nodes(data=True)):
        return False
    return len(nx.ancestors(graph, t)) < _SYMBOLIC_NODES


_read_partial = edge_weight("partial")


def _numeric_pair(u, v, data):
    w = _read_partial(u, v, data)
    return w, _number(w, parenthesize=True)


def _symbolic_pair(u, v, data):
    expr = data["symbolic"]
    text = str(expr).replace("**", "^").replace("*", "·").replace(" ", "")
    if expr.is_Add or expr.could_extract_minus_sign():
        text = f"({text})"
    return data["partial"], text


def _number(value, parenthesize=False):
    """155.0 -> '155', 0.5403023058681398 -> '0.540302'; negative in parentheses if asked."""
    value = float(value)
    text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    return f"({text})" if parenthesize and value < 0 else text


def _signed_sum(values):
    """'40 + 115', '40 - 115': the terms with their signs folded into the operators."""
    text = _number(values[0])
    for value in values[1:]:
        text += f" - {_number(-value)}" if value < 0 else f" + {_number(value)}"
    return text


# --- the walk and its helpers --------------------------------------------------


def _walk(graph, s, t, read):
    """Yield every path s→t as a Path, depth first, with an explicit stack (no recursion)."""
    if s == t:
        yield Path((s,), ())
        return
    useful = nx.ancestors(graph, t)
    if s not in useful:
        return
    nodes, labels = [s], []
    stack = [_steps(graph, s, t, useful, read)]
    while stack:
        step = next(stack[-1], None)
        if step is None:  # every edge out of nodes[-1] is done: back up one edge
            stack.pop()
            nodes.pop()
            if labels:
                labels.pop()
        elif step[0] == t:
            yield Path((*nodes, t), (*labels, step[1]))
        else:
            nodes.append(step[0])
            labels.append(step[1])
            stack.append(_steps(graph, step[0], t, useful, read))


def _steps(graph, u, t, useful, read):
    """(v, label) for each edge u→v that can still lead to t, parallel edges one by one."""
    for v, keyed in graph.succ[u].items():
        if v != t and v not in useful:
            continue
        for data in keyed.values() if graph.is_multigraph() else (keyed,):
            yield v, read(u, v, data)


def _check_count(graph, s, t, limit):
    """Count the paths (one COUNTING sweep, which also rejects cycles); refuse past ``limit``."""
    count = solve(graph, s, semiring=COUNTING, targets=t).get(t, 0)
    if limit is not None and count > limit:
        raise TooManyPathsError(
            f"there are {count:,} paths from {_label(graph, s)!r} to {_label(graph, t)!r}, "
            f"more than limit={limit:,}; count them with count_paths, find the largest with "
            "best_path, or pass a larger limit (limit=None lists them all)"
        )
    return count


def _endpoints(G, source, target, function):
    check_graph(G, function)
    graph = G.graph if isinstance(G, Trace) else G
    return graph, resolve_node(G, source, "source"), resolve_node(G, target, "target")



def _output(G):
    if isinstance(G, Trace):
        return G.output
    raise TypeError("a graph has no designated output: name it with of=")


def _label(graph, node):
    return graph.nodes[node].get("label", node)


def _inputs(tr, wrt, function):
    if wrt is None:
        check_trace(tr, f"{function} without wrt=")  # a plain graph has no inputs: name them
        refs = list(tr.inputs)
    else:
        refs = _as_list(wrt)
    return [resolve_node(tr, r, "wrt") for r in refs]


def _outputs(tr, of, function):
    if of is None:
        check_trace(tr, f"{function} without of=")
        return list(tr.outputs)
    return [resolve_node(tr, r, "of") for r in _as_list(of)]


def _as_list(refs):
    return [refs] if isinstance(refs, str) or not isinstance(refs, Iterable) else list(refs)
