"""Watch the path problem being solved: a sweep, one edge term at a time, in a self-contained web page.

:func:`animate` runs :func:`pathad.solve` with an observer, so the steps shown
are the solver's own, in its order, for any semiring: each step is one edge
whose tail's path value is extended by the edge's label (⊗) and combined into
its head's running path value (⊕).  The page is one HTML file: the drawing as
inline SVG (rendered by pathad's dot), the steps as data, and a little plain
JavaScript to step through them.  It needs no network and no server; in
Jupyter an :class:`Animation` shows itself in the output cell.

Examples
--------
>>> import pathad
>>> def h(x, y):
...     return (x + 4 * y) * ((x + y) * y)
>>> movie = pathad.animate(pathad.trace(h, x=3.0, y=5.0), "x", fold=True)
>>> len(movie.steps), movie.answer
(6, '∂h/∂x = 155')
>>> for step in movie.steps[-2:]:
...     print(step.text)
(x+y)·y → h: 5 × 23 = 115; h: 115 (its first path)
x+4y → h: 1 × 40 = 40; h: 115 + 40 = 155
>>> movie.save("sweep.html")  # doctest: +SKIP
"""

import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from .draw import Drawing, View, _graph_of, edge_id, format_number, node_id
from .elimination import _product, eliminate, eliminated_jacobian, jacobian_graph
from .enumeration import paths
from .errors import DrawingTooLargeError, TooManyPathsError
from .pages import Page, inline_svg, swatch
from .semirings import COUNTING, REAL, Scored, Semiring, as_semiring
from .solver import is_forward, solve
from .tracing import Trace, resolve_node
from .types import FilePath, GraphLike, Node, Nodes, Seeds, SemiringLike, Weight

__all__ = [
    "animate",
    "Animation",
    "Step",
    "animate_elimination",
    "Elimination",
    "draw_elimination",
    "EliminationFrame",
    "FILL_IN_STYLE",
    "INCREASED_STYLE",
    "NEXT_STYLE",
]

#: How each semiring's ⊗ and ⊕ read in a step ("×", "+" for the derivative).
SYMBOLS = {
    "real": ("×", "+"),
    "counting": ("×", "+"),
    "boolean": ("and", "or"),
    "max-times": ("×", "max"),
    "min-plus": ("+", "min"),
    "max-plus": ("+", "max"),
}

#: Paths listed when hovering a node, at most (beyond that, only their number).
LISTED_PATHS = 4


@dataclass(frozen=True)
class Step:
    """One step of a sweep: the seeds set, or one edge term added into a node.

    Attributes
    ----------
    kind : {"seed", "term"}
    tail, head : node
        The edge in the sweep's direction (backward: the edge's head first);
        None for the seed step.
    parallel : int
        Which of the parallel edges between the two nodes (in the graph's order).
    weight, value, term, total
        The edge's label, the tail's path value, their ⊗ and the head's path
        value after the ⊕ (the semiring's elements).
    finished : tuple
        The nodes whose path value is final after this step.
    text : str
        The step as a sentence, ``x → v2: 1 × 5 = 5; v2: 40 + 115 = 155``.
    """

    kind: str
    tail: object
    head: object
    parallel: int
    weight: object
    value: object
    term: object
    total: object
    finished: tuple
    text: str


class Animation(Page):
    """A recorded sweep and its drawing: :meth:`save` writes the page, :meth:`html` gives it as text.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The graph swept and drawn (folded if asked for).
    steps : list of Step
    result : dict
        What :func:`pathad.solve` returned.
    answer : str
        The values at the ends of the paths, as the last step shows them.
    """

    def __init__(
        self, graph: nx.MultiDiGraph, names: dict, positions: dict, seeds: Any, direction: str, semiring: Semiring,
        steps: list[Step], result: dict, answer: str, svg: str, best: Any, title: str,
    ) -> None:  # fmt: skip
        self.graph, self.names, self.seeds, self.direction, self.semiring = graph, names, seeds, direction, semiring
        self.positions = positions  # node -> the number in its SVG ids
        self.steps, self.result, self.answer = steps, result, answer
        self.svg, self.best, self.title = svg, best, title

    def __repr__(self):
        return f"<Animation: {self.direction} {self.semiring.name} sweep, {len(self.steps)} steps; {self.answer}>"

    legend = (
        swatch("#bf8700", "passes its path value on (⊗ the edge's label)")
        + swatch("#cf222e", "receives the term (⊕ into its path value)")
        + swatch("#1a7f37", "path value final; green numbers: path values")
        + swatch("#c8ccd0", "faded: on no path of this sweep")
    )

    def data(self) -> dict[str, Any]:
        """What the page's script reads: nodes, steps and the answer, with every number written out."""
        index = self.positions
        value = _element_text
        counts = solve(self.graph, self.seeds, direction=self.direction, semiring=COUNTING)  # paths from the start
        return {
            "kind": "sweep",
            "title": self.title,
            "direction": self.direction,
            "semiring": self.semiring.name,
            "answer": self.answer,
            "nodes": {node_id(index[n]): self._node_info(n, counts) for n in self.graph},
            "steps": [
                {
                    "kind": step.kind,
                    "tail": None if step.tail is None else node_id(index[step.tail]),
                    "head": None if step.head is None else node_id(index[step.head]),
                    "edge": None if step.kind == "seed" else self._edge(step, index),
                    "total": None if step.kind == "seed" else value(step.total),
                    "seeds": [node_id(index[s]) for s in self.seeds] if step.kind == "seed" else [],
                    "finished": [node_id(index[n]) for n in step.finished],
                    "text": step.text,
                }
                for step in self.steps
            ],
            "best": [self._graph_edge(u, v, 0, index) for u, v in self.best],
            "seedValue": value(self.semiring.one),
        }

    def _edge(self, step, index):
        if self.direction == "forward":
            return self._graph_edge(step.tail, step.head, step.parallel, index)
        return self._graph_edge(step.head, step.tail, step.parallel, index)

    def _graph_edge(self, u, v, parallel, index):
        return edge_id(index[u], index[v], parallel)

    def _node_info(self, node, counts):
        data = self.graph.nodes[node]
        info = {"label": self.names[node]}
        if data.get("value") is not None:
            info["value"] = format_number(data["value"])
        info["paths"] = _paths_text(self.graph, self.names, self.seeds, node, self.direction, counts.get(node, 0))
        return info


def animate(
    obj: GraphLike, start: Seeds | None = None, *, direction: str = "forward", semiring: SemiringLike = REAL,
    weight: Weight | None = None, targets: Nodes | None = None, fold: bool = False, **options: Any,
) -> Animation:  # fmt: skip
    """Record a sweep of :func:`pathad.solve` step by step, with the drawing to show it on.

    Parameters
    ----------
    obj : Trace or networkx.DiGraph or networkx.MultiDiGraph
    start : node reference or list of them, optional
        Where the paths start: for a forward sweep an input (default: the
        first), for a backward sweep an output (default: the output).
    direction : {"forward", "backward"}
    semiring : Semiring or str
        Any of pathad's semirings or your own; with ``"max-times"`` the last
        step lights up the best path.
    weight, targets
        As for :func:`pathad.solve`.
    fold : bool
        Leave out constant scalings first (:func:`pathad.fold_linear`), as the
        lecture's figures do; the sweep then runs on the folded graph.
    **options
        Drawing options (see :func:`pathad.draw`): ``rankdir``, ``symbolic``,
        ``names``, ``precision``, ``max_nodes``, ``title``, ...

    Returns
    -------
    Animation

    Raises
    ------
    DrawingTooLargeError
        For a graph past the drawing limit (``max_nodes``); the message says
        how to draw a part of it (``between=``) or fold it.
    """
    forward = is_forward(direction)
    direction = "forward" if forward else "backward"
    semiring = as_semiring(semiring)
    for option in ("sweep", "highlight", "eliminate"):
        if option in options:
            raise TypeError(f"animate draws the sweep itself; {option}= is an option of pathad.draw only")
    options.setdefault("names", "expression")  # the steps name nodes by their formulas: x+4y, (x+y)·y
    seeds = _references(obj, start) if start is not None else _default_start(obj, forward)
    ends = None if targets is None else _references(obj, targets)
    title = options.pop("title", None)  # the page's heading, not the drawing's
    view = _view(obj, fold, options)  # first: a graph too big to draw is refused before any sweep
    graph, names = view.swept(), view.names()  # the sweep runs on the graph as drawn
    left_out = [n for n in [*seeds, *(ends or [])] if n not in graph]
    if left_out:
        raise ValueError(
            f"node {names.get(left_out[0], left_out[0])!r} (id {left_out[0]!r}) is not in the drawing "
            "(between= or fold=True left it out); animate a part that contains the start and the targets"
        )
    recorder = _Recorder(semiring)
    result = solve(graph, seeds, direction=direction, semiring=semiring, weight=weight, targets=ends, observer=recorder)
    steps = recorder.steps(names, seeds)
    answer_nodes = ends if ends is not None else _far_ends(graph, forward)
    answer = _answer(names, seeds, answer_nodes, result, semiring, forward)
    best = _best_edges(result, answer_nodes, semiring)
    title = title or f"{direction} sweep, {semiring.name} semiring"
    svg = view.drawing().pipe(format="svg")
    return Animation(
        graph, names, view.positions(), seeds, direction, semiring, steps, result, answer, svg, best, title
    )


class _Recorder:
    """The observer given to :func:`pathad.solve`: it keeps every term as the sweep adds it."""

    def __init__(self, semiring):
        self.semiring = semiring
        self.terms = []

    def __call__(self, u, v, w, a, c, total):
        self.terms.append((u, v, w, a, c, total))

    def steps(self, names, seeds):
        """The seed step, then one step per term, each with the nodes it finishes and its sentence."""
        last = {}
        for k, (_, v, *_) in enumerate(self.terms, start=1):
            last[v] = k
        finished = [[] for _ in range(len(self.terms) + 1)]
        for s in seeds:
            finished[last.get(s, 0)].append(s)
        for v, k in last.items():
            if v not in seeds:
                finished[k].append(v)
        one = _element_text(self.semiring.one)
        starts = ", ".join(names[s] for s in seeds)
        steps = [Step("seed", None, None, 0, None, None, None, None, tuple(finished[0]), f"start: {starts} = {one}")]
        seen, previous = {}, {}
        times, plus = SYMBOLS.get(self.semiring.name, ("⊗", "⊕"))
        for k, (u, v, w, a, c, total) in enumerate(self.terms, start=1):
            parallel = seen.get((u, v), 0)
            seen[(u, v)] = parallel + 1
            product = f"{_element_text(a)} {times} {_element_text(w)} = {_element_text(c)}"
            if v in previous:
                combined = f"{_element_text(previous[v])} {plus} {_element_text(c)} = {_element_text(total)}"
            else:
                combined = f"{_element_text(total)} (its first path)"
            previous[v] = total
            text = f"{names[u]} → {names[v]}: {product}; {names[v]}: {combined}"
            steps.append(Step("term", u, v, parallel, w, a, c, total, tuple(finished[k]), text))
        return steps


def _default_start(obj, forward):
    """A trace's first input (forward) or its outputs (backward); a graph's sources or sinks."""
    if isinstance(obj, Trace):
        return [next(iter(obj.inputs.values()))] if forward else list(dict.fromkeys(obj.outputs))
    return _far_ends(_graph_of(obj), not forward)


def _references(obj, refs):
    """Node ids for one reference or a list of them."""
    return list(dict.fromkeys(resolve_node(obj, r) for r in (refs if isinstance(refs, list) else [refs])))


def _far_ends(graph, forward):
    """Where paths end: the sinks (forward) or sources (backward)."""
    degree = graph.out_degree if forward else graph.in_degree
    return [n for n in graph if degree(n) == 0]


def _element_text(x):
    """A semiring element as the page shows it."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, Scored):
        return "no path" if x.edges is None else format_number(x.score)
    if isinstance(x, (int, float)):
        return format_number(x)
    return str(x)


def _answer(names, seeds, ends, result, semiring, forward):
    """The values at the ends of the paths, ``∂h/∂x = 155`` for the derivative."""
    parts = []
    for end in ends:
        if end in seeds:
            continue
        value = _element_text(result.get(end, semiring.zero))
        if semiring.name == REAL.name:
            source, target = (seeds, end) if forward else (end, seeds)
            if forward:
                pair = f"∂{names[target]}/∂{', '.join(names[s] for s in source)}"
            else:
                pair = f"∂{', '.join(names[s] for s in target)}/∂{names[source]}"
            parts.append(f"{pair} = {value}")
        else:
            parts.append(f"{names[end]}: {value}")
    return ", ".join(parts) if parts else "no path leaves the start"


def _best_edges(result, ends, semiring):
    """The edges (u, v) of the best paths to ``ends`` when the elements remember paths (max-times)."""
    edges = []
    for end in ends:
        element = result.get(end)
        if isinstance(element, Scored) and element.edges is not None:
            edges.extend((u, v) for u, v, _ in element.edges)
    return list(dict.fromkeys(edges))


def _paths_text(graph, names, seeds, node, direction, count):
    """The ``count`` paths that join the start to ``node``, and the first few, as the hover box shows them."""
    forward = direction == "forward"
    if node in seeds or count == 0:
        return [] if node in seeds else ["no path from the start"]
    lines = [f"{count} path{'s' if count != 1 else ''} from the start"]
    if count <= LISTED_PATHS:
        for s in seeds:
            source, target = (s, node) if forward else (node, s)
            try:
                for path in paths(graph, source, target, limit=LISTED_PATHS):
                    lines.append(" → ".join(names[n] for n in path.nodes))
            except (TooManyPathsError, nx.NetworkXError):
                break
    return lines


def _view(obj, fold, options):
    """The :class:`~pathad.draw.View` to animate; a graph too big to draw is refused with what to do."""
    try:
        return View(obj, fold=fold, **options)
    except DrawingTooLargeError as error:
        raise DrawingTooLargeError(
            f"cannot animate: {error} For an animation, fold=True also leaves out the constant scalings."
        ) from None


# --- vertex elimination, a drawing per step ------------------------------------------------------------------


class Elimination(Page):
    """A recorded vertex elimination: a drawing before and after each node goes, with what changed.

    Attributes
    ----------
    graphs : list of networkx.MultiDiGraph
        The graph at each step (the first as given, the last with every node eliminated).
    steps : list of dict
        Per step: ``text`` (what happens), ``svg`` (its drawing), ``node`` (the node eliminated, or None)
        and ``changes`` (the pairs of edges folded, as :func:`pathad.eliminate`'s observer reports them).
    answer : str
        The edges left at the end between what remains (for a trace: the inputs and outputs, the Jacobian).
    """

    legend = swatch(
        "#cf222e", "before: the node to eliminate and its edges; after: the new and changed edges"
    ) + swatch("#0550ae", "edge labels: partials; an eliminated node's pairs multiply, parallel ones add")

    def __init__(self, graphs: list[nx.MultiDiGraph], steps: list[dict[str, Any]], answer: str, title: str) -> None:
        self.graphs, self.steps, self.answer, self.title = graphs, steps, answer, title
        self.svg = steps[0]["svg"]

    def __repr__(self):
        return f"<Elimination: {len(self.steps) // 2} nodes eliminated, {len(self.steps)} steps>"

    def data(self) -> dict[str, Any]:
        return {
            "kind": "frames",
            "title": self.title,
            "answer": self.answer,
            "steps": [{"text": step["text"], "svg": inline_svg(step["svg"]), "edge": None} for step in self.steps],
        }


def animate_elimination(
    obj: GraphLike, nodes: Sequence[Node] | None = None, *, fold: bool = False, **options: Any
) -> Elimination:
    """Record :func:`pathad.eliminate` node by node, with a drawing before and after each node goes.

    Eliminating v replaces each pair of edges p→v→s by an edge p→s labeled
    w(p,v)·w(v,s) (a *fill-in* edge when p→s was not there; otherwise the two
    labels add), so every path value between the other nodes stays.  At the
    end of a trace's elimination the edges from inputs to outputs carry the
    Jacobian's entries.

    Parameters
    ----------
    obj : Trace or networkx.MultiDiGraph
    nodes : list of node references, optional
        The order of elimination; default every node that is neither an input
        nor an output (a source or sink), in the graph's order (forward).
    fold : bool
        Fold constant scalings away first (they are not steps).
    **options
        Drawing options (see :func:`pathad.draw`).

    Returns
    -------
    Elimination

    Examples
    --------
    >>> import pathad
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> movie = pathad.animate_elimination(pathad.trace(h, x=3.0, y=5.0), fold=True)
    >>> len(movie.steps), movie.answer
    (7, 'x → h: 40 + 115 = 155, y → h: 160 + 299 = 459')
    >>> print(movie.steps[2]["text"])
    x+4y eliminated: x → h: 1 × 40 = 40 (new edge); y → h: 4 × 40 = 160 (new edge)
    """
    title = options.pop("title", None) or "vertex elimination"
    _refuse_step_options(options, "animate_elimination")
    options.setdefault("names", "expression")
    view = _view(obj, fold, options)
    graph, names = view.swept(), view.names()
    order = _far_ends_complement(graph) if nodes is None else _references(obj, nodes)
    unknown = [n for n in order if n not in graph]
    if unknown:
        raise ValueError(f"node {unknown[0]!r} is not in the drawing (fold=True left it out, or it is not a node)")
    graphs, steps = [graph], [{"text": "the graph: eliminate the nodes between inputs and outputs one by one",
                               "svg": _frame(graph, names, options), "node": None, "changes": []}]  # fmt: skip
    for node in order:
        current = graphs[-1]
        touched = [*current.in_edges(node, keys=True), *current.out_edges(node, keys=True)]
        steps.append(
            {
                "text": _before_text(current, names, node),
                "svg": _frame(current, names, options, touched, [node]),
                "node": node,
                "changes": [],
            }
        )
        recorded: list[tuple] = []
        after = eliminate(current, [node], observer=_keeping(recorded))
        graphs.append(after)
        changed = [(p, s, key) for p, s, key, *_ in recorded]  # by key: a parallel edge not changed stays black
        steps.append(
            {
                "text": _after_text(names, node, recorded),
                "svg": _frame(after, names, options, changed),
                "node": node,
                "changes": recorded,
            }
        )
    return Elimination(graphs, steps, _edges_left(graphs[-1], names), title)


def _edges_left(graph, names):
    """The edges at the end, parallel ones added: ``x → h: 40 + 115 = 155``."""
    parts = []
    for u, v in dict.fromkeys(graph.edges()):
        labels = [d["partial"] for d in graph.get_edge_data(u, v).values()]
        text = format_number(sum(labels))
        if len(labels) > 1:
            text = " + ".join(map(format_number, labels)) + " = " + text
        parts.append(f"{names[u]} → {names[v]}: {text}")
    return ", ".join(parts) or "no edges left"


def _refuse_step_options(options, function):
    """A TypeError for the drawing options an elimination's frames set themselves."""
    for option in ("sweep", "highlight", "eliminate", "between"):
        if option in options:
            raise TypeError(f"{function} draws each step itself; {option}= is an option of pathad.draw only")


def _keeping(recorded):
    """An observer for :func:`pathad.eliminate` that keeps every change in ``recorded``."""

    def observe(_, changes):
        recorded.extend(changes)

    return observe


def _far_ends_complement(graph):
    """Every node with edges both in and out, in the graph's order: what elimination can remove."""
    return [n for n in graph if graph.in_degree(n) and graph.out_degree(n)]


def _frame(graph, names, options, edges=(), nodes=()):
    """One step's drawing as svg, ``edges`` (u, v, key) and ``nodes`` in red."""
    return _frame_drawing(graph, names, options, edges, nodes).pipe(format="svg")


def _frame_drawing(graph, names, options, edges=(), nodes=(), **styles):
    """One step's :class:`~pathad.draw.Drawing`: ``graph`` with its nodes named by ``names``, ``edges``
    (u, v, key) and ``nodes`` in red, ``styles`` (``node_styles``, ``edge_styles``) as for View.drawing."""
    labeled = graph.copy()
    for node in labeled:
        labeled.nodes[node]["label"] = names[node]
    frame_options = dict(options, names="label")
    highlighted = (set(edges), set(nodes))
    return View(labeled, **frame_options).drawing(highlighted, **styles)


def _before_text(graph, names, node):
    into, out = graph.in_degree(node), graph.out_degree(node)
    return (
        f"eliminate {names[node]}: {into} edge{'s' if into != 1 else ''} in × {out} out "
        f"= {into * out} pair{'s' if into * out != 1 else ''} to fold into edges that skip it"
    )


def _after_text(names, node, changes):
    parts = []
    for p, s, _, w_in, w_out, before, after in changes:
        product = f"{format_number(w_in)} × {format_number(w_out)} = {format_number(_product(w_in, w_out))}"
        if before is None:
            parts.append(f"{names[p]} → {names[s]}: {product} (new edge)")
        else:
            parts.append(
                f"{names[p]} → {names[s]}: {product}, added to {format_number(before)}: {format_number(after)}"
            )
    return f"{names[node]} eliminated: " + ("; ".join(parts) if parts else "it joined nothing")


# --- vertex elimination, a still picture per step ------------------------------------------------------------

#: How :func:`draw_elimination` draws a fill-in edge (one the step created), an edge whose label grew by a sum,
#: and the node eliminated next (DOT attributes).
FILL_IN_STYLE = {"color": "#cf222e", "fontcolor": "#cf222e", "penwidth": "2.6"}
INCREASED_STYLE = {"color": "#8250df", "fontcolor": "#8250df", "penwidth": "2.6", "style": "dashed"}
NEXT_STYLE = {"style": "dashed,filled", "fillcolor": "#fff8c5", "penwidth": "1.6"}

# the captions say "multiplications" and "additions": pathad's renderer has no glyph for ⊗ and ⊕
_LEGEND = (
    f'<FONT COLOR="{FILL_IN_STYLE["color"]}"><B>red</B>: new edge (fill-in)</FONT>'
    f'    <FONT COLOR="{INCREASED_STYLE["color"]}"><B>purple, dashed</B>: label increased (an addition)</FONT>'
)
_LEGEND_NEXT = "    <B>dashed yellow</B>: eliminated next"


@dataclass(frozen=True)
class EliminationFrame:
    """One still of :func:`draw_elimination`: the graph after a step, what the step changed, and its drawing.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The graph after the step (the first frame: before any step).
    node : node or None
        The node the step eliminated; None for the first frame.
    new : tuple of (p, s, key)
        The fill-in edges: the edges p→s the step created.
    increased : tuple of (p, s, key)
        The edges that were there before the step and had products added to their label (⊕).
    times, plus : int
        The ⊗ and ⊕ so far; the last frame's are the whole Jacobian's.
    caption : str
        What the step did and the counts so far, as the drawing's caption says it.
    drawing : Drawing
    """

    graph: nx.MultiDiGraph
    node: object
    new: tuple
    increased: tuple
    times: int
    plus: int
    caption: str
    drawing: Drawing

    def write(self, path: FilePath) -> Path:
        """Write the drawing to ``path``, the format from its suffix (see :meth:`pathad.draw.Drawing.write`)."""
        return self.drawing.write(path)


def draw_elimination(
    obj: GraphLike, order: str | Sequence[Node] = "markowitz", *, wrt: Sequence[Node] | None = None,
    of: Sequence[Node] | None = None, fold: bool = False, title: str | None = None, **options: Any,
) -> list[EliminationFrame]:  # fmt: skip
    """Still pictures of a vertex elimination down to the Jacobian: the graph after each step, fill-in marked.

    Eliminating v folds each pair of edges p→v→s into the edge p→s: its
    label gets w(p,v)·w(v,s) (one ⊗, a multiplication), added (one ⊕, an
    addition) to the label p→s had, or, when p→s was not there, on a new
    *fill-in* edge.  The products land on one edge per pair p→s, as
    :func:`pathad.eliminated_jacobian` counts them, so after the last step
    only the inputs and outputs are left, each edge an entry of the Jacobian.
    Each frame is drawn on its own: the fill-in edges in red
    (:data:`FILL_IN_STYLE`), the edges whose label grew in dashed purple
    (:data:`INCREASED_STYLE`), an edge that got a sum labeled with it
    (``0.5911 + 0.5911 = 1.182``), the node eliminated next dashed on yellow
    (:data:`NEXT_STYLE`); the caption says what the step did and the ⊗ and ⊕
    so far, and the last one adds the Jacobian as a table.

    Parameters
    ----------
    obj : Trace or networkx.MultiDiGraph
    order : {"forward", "reverse", "markowitz", "optimal"} or list of nodes
        The elimination order, as for :func:`pathad.eliminated_jacobian`.
    wrt, of : list of node references, optional
        The Jacobian's columns and rows; default a trace's inputs and outputs
        (a graph's sources and sinks).  Only the nodes on paths between them are drawn.
    fold : bool
        Fold constant scalings away first (they are not steps).
    title : str, optional
        The first line of every caption; default names the order.
    **options
        Drawing options (see :func:`pathad.draw`): ``rankdir``, ``precision``, ``names``, ``dpi``, ...

    Returns
    -------
    list of EliminationFrame
        The graph before any step, then one frame per node eliminated; the
        last is the bipartite graph of the Jacobian.  Each writes its drawing
        with ``write(path)``.

    Examples
    --------
    >>> import pathad
    >>> def h(x, y):
    ...     return (x + 4 * y) * ((x + y) * y)
    >>> frames = pathad.draw_elimination(pathad.trace(h, x=3.0, y=5.0), fold=True)
    >>> [(len(f.new), len(f.increased)) for f in frames], (frames[-1].times, frames[-1].plus)
    ([(0, 0), (2, 0), (1, 1), (0, 2)], (6, 3))
    >>> print(frames[2].caption)  # doctest: +NORMALIZE_WHITESPACE
    step 2 of 3: x+y eliminated, 2 edges in × 1 out = 2 multiplications, 1 addition: 1 new edge,
    1 label increased. So far 4 multiplications, 1 addition. Next: (x+y)·y.
    >>> frames[-1].write("jacobian.svg")  # doctest: +SKIP
    """
    _refuse_step_options(options, "draw_elimination")
    options.setdefault("names", "expression")
    view = _view(obj, fold, options)
    graph, names = view.swept(), view.names()
    columns = _references(obj, wrt) if wrt is not None else _default_ends(obj, graph, inputs=True)
    rows = _references(obj, of) if of is not None else _default_ends(obj, graph, inputs=False)
    left_out = [n for n in [*columns, *rows] if n not in graph]
    if left_out:
        raise ValueError(f"node {left_out[0]!r} is not in the drawing (fold=True left it out, or it is not a node)")
    steps = eliminated_jacobian(graph, columns, rows, order)[1]["order"]
    current, columns, rows = jacobian_graph(graph, columns, rows)
    names = names | {n: _end_name(n, names) for n in current}  # and a name for each new end
    precision = options.get("precision", 4)
    title = title or f"vertex elimination, {order if isinstance(order, str) else 'given'} order"
    caption = (
        f"the graph between inputs and outputs; its {_count(len(steps), 'inner node')} "
        "go one by one, each pair of edges p→v→s folded into the edge p→s."
    )
    frames = [_still(current, names, options, (title, caption, None), (None, (), (), {}, 0, 0), steps[:1])]
    times = plus = 0
    for k, node in enumerate(steps, start=1):
        ins, outs = current.in_degree(node), current.out_degree(node)
        recorded: list[tuple] = []
        after = eliminate(current, [node], merge=True, observer=_keeping(recorded))
        sums = _sums(current, recorded, precision)
        new = tuple(e for e in sums if not current.has_edge(*e))
        increased = tuple(e for e in sums if current.has_edge(*e))
        added = sum(r[5] is not None for r in recorded)
        times, plus = times + len(recorded), plus + added
        caption = (
            f"step {k} of {len(steps)}: {names[node]} eliminated, {_count(ins, 'edge')} in × {outs} out = "
            f"{_count(len(recorded), 'multiplication')}, {_count(added, 'addition')}: "
            f"{_count(len(new), 'new edge')}, {_count(len(increased), 'label')} increased. "
            f"So far {_count(times, 'multiplication')}, {_count(plus, 'addition')}."
        )
        table = None
        if k == len(steps):
            parallel = sum(len(after[u][v]) - 1 for u, v in set(after.edges()))  # parallel input→output edges add
            plus += parallel
            caption += (
                " Left: the bipartite graph inputs → outputs, each edge an entry of the Jacobian"
                + (f" (its parallel edges add: {_count(parallel, 'addition')} more)" if parallel else "")
                + f"; {times} multiplications + {plus} additions in all."
            )
            table = _jacobian_table(after, columns, rows, names, precision)
        changes = (node, new, increased, sums, times, plus)
        frames.append(_still(after, names, options, (title, caption, table), changes, steps[k:]))
        current = after
    return frames


def _default_ends(obj, graph, inputs):
    """A trace's inputs (or outputs) that are drawn, a graph's sources (or sinks)."""
    if isinstance(obj, Trace):
        return list(dict.fromkeys(obj.inputs.values() if inputs else obj.outputs))
    return _far_ends(graph, not inputs)


def _end_name(node, names):
    """A node's name; a new end of :func:`pathad.elimination.jacobian_graph` is named after the node it stands for."""
    if node in names:
        return names[node]
    kind, original = node
    return f"{names[original]} ({'input' if kind == 'column' else 'output'})"


def _count(n, thing):
    return f"{n} {thing}{'s' if n != 1 else ''}"


def _sums(before, recorded, precision):
    """(p, s, key) -> the edge's label as a sum when the step added to it (``0.5911 + 0.5911 = 1.182``),
    else None, for each edge the step wrote, in the order written."""
    terms, totals = {}, {}
    for p, s, key, w_in, w_out, _, after in recorded:
        edge = (p, s, key)
        if edge not in terms:
            terms[edge] = [before.edges[edge]["partial"]] if before.has_edge(*edge) else []
        terms[edge].append(_product(w_in, w_out))
        totals[edge] = after
    return {
        e: " + ".join(format_number(t, precision) for t in ts) + " = " + format_number(totals[e], precision)
        if len(ts) > 1
        else None
        for e, ts in terms.items()
    }


def _jacobian_table(graph, columns, rows, names, precision):
    """The Jacobian left in ``graph`` as an HTML-like table for a DOT label: a row per output."""
    cell = '<TD ALIGN="RIGHT">{}</TD>'

    def entry(row, column):
        if not graph.has_edge(column, row):
            return "0"
        return format_number(sum(d["partial"] for d in graph.get_edge_data(column, row).values()), precision)

    head = "<TR><TD></TD>" + "".join(f"<TD><B>∂/∂{html.escape(names[c])}</B></TD>" for c in columns) + "</TR>"
    body = "".join(
        f"<TR><TD><B>{html.escape(names[r])}</B></TD>"
        + "".join(cell.format(html.escape(entry(r, c))) for c in columns)
        + "</TR>"
        for r in rows
    )
    return f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">{head}{body}</TABLE>'


def _still(graph, names, options, text, changes, upcoming):
    """One :class:`EliminationFrame`: ``text`` (title, caption, a table or None) over the drawing, ``changes``
    (node, new, increased, sums, times, plus) marked, and the first node of ``upcoming`` as the next."""
    title, caption, table = text
    node, new, increased, sums, times, plus = changes
    node_styles = {upcoming[0]: NEXT_STYLE} if upcoming else {}
    if upcoming:
        caption += f" Next: {names[upcoming[0]]}."
    edge_styles = {e: dict(FILL_IN_STYLE) for e in new} | {e: dict(INCREASED_STYLE) for e in increased}
    where = "headlabel" if options.get("label_place") == "head" else "label"
    for edge, label in sums.items():
        if label is not None:
            edge_styles[edge][where] = "<\N{NO-BREAK SPACE}" + html.escape(label, quote=False) + ">"
    drawing = _frame_drawing(graph, names, options, node_styles=node_styles, edge_styles=edge_styles)
    lines = [f"<B>{html.escape(title, quote=False)}</B>"]
    lines += [html.escape(line, quote=False) for line in textwrap.wrap(caption, 84, break_on_hyphens=False)]
    lines.append(_LEGEND + (_LEGEND_NEXT if upcoming else ""))
    label = "<BR/>".join(lines)
    if table is not None:  # a label is text or one table: the lines go in a cell beside the Jacobian's
        label = f'<TABLE BORDER="0" CELLSPACING="8"><TR><TD>{label}</TD><TD>{table}</TD></TR></TABLE>'
        drawing.graph_attr["ranksep"] = "1.5"  # the bipartite graph: long edges, their labels apart
    drawing.graph_attr.update(label=f"<{label}>", labelloc="t", fontname="Helvetica", fontsize="13")
    return EliminationFrame(graph, node, new, increased, times, plus, caption, drawing)
