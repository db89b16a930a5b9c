"""Pictures of computation graphs: graphviz drawings with values, partials, formulas and path values.

:func:`draw` turns a :class:`~pathad.tracing.Trace` (or any networkx DAG with
pathad's node and edge attributes) into a :class:`Drawing`, a
``graphviz.Digraph`` that shows itself in Jupyter and writes svg, png, jpeg,
pdf or dot files.  Nodes show their name or operation and their value, edges
their local partial.  Options add the lecture's pictures: symbolic edge labels
such as ``(x+y)·y`` (CS701 notes, Fig. 2(a)), the path values of a sweep on
each node (Fig. 3), highlighted paths, a layout direction.

Symbolic labels come from the one rule table, :data:`pathad.primitives.PRIMITIVES`,
evaluated in a small *label algebra* (:class:`Formula`) instead of on floats: it
keeps expressions as written (``(x+y)·y``, not ``xy+y²``) and folds only
constants (``2·(y−v)·½`` is ``y−v``).  Where a graph no longer matches its
rules (after :func:`pathad.eliminate`, say) the edge shows its number.

Rendering needs a dot program.  :func:`find_renderer` looks, in this order, at

1. the environment variable ``PATHAD_DOT`` (a dot-compatible program: used for every format);
2. ``graphviz-pure`` (installed with pathad from PyPI; svg, png and jpeg), first in the
   scripts directory of the running Python, then on ``PATH``;
3. Graphviz's ``dot`` on ``PATH`` (the only one that writes pdf).

Without any, :func:`draw` still returns the drawing and its ``.source`` (DOT
text) and ``.dot`` files can be written; writing an image raises
:class:`RendererNotFoundError`, whose message says what to install.

Examples
--------
>>> from pathad import trace
>>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> d = draw(tr, fold=True)
>>> d.source.count("->")
8
>>> sorted(symbolic_labels(tr)[1].values())[:4]
['(x+y)·y', '1', '1', '1']
"""

import difflib
import html
import math
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import graphviz
import networkx as nx

from .elimination import eliminate, fold_linear
from .enumeration import Path as PathadPath
from .errors import DrawingTooLargeError, RendererNotFoundError, RenderError
from .files import write_atomically
from .primitives import FLOAT, HELPERS, PRIMITIVES
from .regions import collapsed
from .semirings import EdgePath, Scored
from .tracing import Trace, check_graph, described, resolve_node
from .types import FilePath, GraphLike

__all__ = [
    "draw",
    "Drawing",
    "View",
    "node_id",
    "edge_id",
    "symbolic_labels",
    "Formula",
    "format_number",
    "find_renderer",
    "render",
    "repr_mimebundle",
    "FORMATS",
]

#: File formats by suffix; graphviz-pure writes all but pdf, "dot"/"gv" is the DOT text itself.
FORMATS = ("svg", "png", "jpeg", "jpg", "pdf", "dot", "gv")
_PURE_FORMATS = frozenset({"svg", "png", "jpeg", "jpg"})
_TEXT_FORMATS = frozenset({"dot", "gv"})
_RASTER_FORMATS = frozenset({"png", "jpeg", "jpg"})
_RENDER_TIMEOUT = 120  # seconds; a graph under max_nodes lays out in well under one

_GREEN, _GREY, _BLUE, _RED = "#1a7f37", "#8c959f", "#0550ae", "#cf222e"
_FONT = "Helvetica"


# --- numbers ----------------------------------------------------------------


def format_number(x, precision=4):
    """A number as a reader wants it: integers whole, others to ``precision`` significant digits.

    Uses the minus sign − and writes exponents plainly (``1.5e−7``).

    Examples
    --------
    >>> format_number(920.0), format_number(40.00000000001), format_number(-1.9149156216104704)
    ('920', '40', '−1.915')
    >>> format_number(1.5e-7), format_number(0.1 + 0.2, precision=17)
    ('1.5e−7', '0.30000000000000004')
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        text = str(int(x))
    else:
        text = f"{x:.{precision}g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


_FRACTIONS = {0.5: "½", 0.25: "¼", 0.75: "¾"}
_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SHORT_NAME = re.compile(r"([^\W\d_]{1,2})(\d+)")


def _display_name(label, subscripts):
    """'w14' -> 'w₁₄' (one or two letters then digits), other names unchanged."""
    match = _SHORT_NAME.fullmatch(str(label)) if subscripts else None
    return match[1] + match[2].translate(_SUBSCRIPTS) if match else str(label)


# --- the label algebra --------------------------------------------------------


class Formula:
    """An edge or node label as a formula: a sum of terms, each a coefficient times factors.

    A factor is a name (``"x"``, ``"σ(x)"``) or a grouped Formula, kept as
    written: products do not distribute, so ``(x+y)·y`` stays ``(x+y)·y``.
    Numbers fold: ``2·(y−v)·½`` is ``y−v``.  Arithmetic with Python numbers
    works both ways; a result that is a plain number is returned as a float.

    Examples
    --------
    >>> x, y = Formula.name("x"), Formula.name("y")
    >>> str((x + y) * y), str(x + 4 * y), str(2.0 * (y - x) * 0.5), str(y * (1.0 - y))
    ('(x+y)·y', 'x+4y', 'y−x', 'y(1−y)')
    """

    __slots__ = ("terms",)

    def __init__(self, terms):
        self.terms = tuple(terms)  # ((coefficient, (factor, ...)), ...)

    @classmethod
    def name(cls, text):
        """A formula that is one name."""
        return cls(((1.0, (str(text),)),))

    def text(self, precision=4):
        """The formula as text, numbers to ``precision`` significant digits."""
        if len(self.terms) == 1:
            coefficient, factors = self.terms[0]
            if coefficient == 1 and len(factors) == 1 and isinstance(factors[0], Formula):
                return factors[0].text(precision)  # a lone group needs no parentheses
        return _sum_text(self.terms, precision)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return f"Formula({self.text()!r})"

    # arithmetic
    def __add__(self, other):
        return _collect(self.terms + _lift(other).terms)

    def __radd__(self, other):
        return _collect(_lift(other).terms + self.terms)

    def __neg__(self):
        return _scale(self, -1.0)

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __mul__(self, other):
        if isinstance(other, Formula):
            (c1, f1), (c2, f2) = _as_term(self), _as_term(other)
            return _simplify(((c1 * c2, f1 + f2),))
        return _scale(self, float(other))

    def __rmul__(self, other):
        return _scale(self, float(other))

    def __truediv__(self, other):
        if isinstance(other, Formula):
            return _quotient(self, other)
        return _scale(self, 1.0 / float(other))

    def __rtruediv__(self, other):
        return _quotient(_lift(other), self)

    def __abs__(self):
        return Formula.name(f"|{self.text()}|")


def _lift(x):
    if isinstance(x, Formula):
        return x
    return Formula(((float(x), ()),) if x != 0 else ())


def _simplify(terms):
    """Drop zero terms; a formula that is only a number becomes a float."""
    terms = tuple((c, f) for c, f in terms if c != 0)
    if not terms:
        return 0.0
    if len(terms) == 1 and not terms[0][1]:
        return terms[0][0]
    return Formula(terms)


def _collect(terms):
    """Add up terms with the same factors (x + x = 2x), keeping first-seen order."""
    merged = {}
    for coefficient, factors in terms:
        key = tuple(map(str, factors))
        previous = merged.get(key, (0.0, factors))[0]
        merged[key] = (previous + coefficient, factors)
    return _simplify(merged.values())


def _scale(formula, c):
    if c == 0:
        return 0.0
    if len(formula.terms) == 1:
        coefficient, factors = formula.terms[0]
        return _simplify(((c * coefficient, factors),))
    return _simplify(((c, (formula,)),))


def _as_term(formula):
    """A formula as one term: itself if it is one, else a group."""
    return formula.terms[0] if len(formula.terms) == 1 else (1.0, (formula,))


def _quotient(numerator, denominator):
    coefficient, factors = _as_term(numerator)
    magnitude = Formula(((abs(coefficient), factors),))
    text = f"{_grouped(magnitude)}/{_grouped(denominator)}"
    return Formula(((math.copysign(1.0, coefficient), (text,)),))


def _grouped(formula, precision=4):
    """The formula's text, in parentheses unless it is a single name or a positive number."""
    if not isinstance(formula, Formula):
        text = _coefficient(formula, precision)
        return text if formula >= 0 else f"({text})"
    text = formula.text(precision)
    (coefficient, factors), *rest = formula.terms or ((0.0, ()),)
    number = not factors and coefficient >= 0
    name = coefficient == 1 and len(factors) == 1 and not isinstance(factors[0], Formula)
    return text if not rest and (number or name) and "/" not in text else f"({text})"


def _coefficient(c, precision=4):
    return _FRACTIONS.get(c) or format_number(c, precision)


def _sum_text(terms, precision):
    parts = []
    for i, (coefficient, factors) in enumerate(terms):
        sign = "−" if coefficient < 0 else ("+" if i else "")
        parts.append(sign + _term_text(abs(coefficient), factors, precision))
    return "".join(parts)


def _term_text(coefficient, factors, precision):
    pieces = [_factor_text(f, precision) for f in factors]
    text = "" if coefficient == 1 and pieces else _coefficient(coefficient, precision)
    for piece in pieces:
        text += _joiner(text, piece) + piece
    return text


def _factor_text(factor, precision):
    if not isinstance(factor, Formula):
        return factor
    if len(factor.terms) > 1 or factor.terms[0][0] < 0:
        return f"({factor.text(precision)})"
    return factor.text(precision)


def _joiner(left, right):
    """Juxtapose a number or name with a following group ('4y', 'y(1−y)'); else '·'."""
    if not left:
        return ""
    if left[-1].isdigit() and not right[0].isdigit() and left[-1] not in "₀₁₂₃₄₅₆₇₈₉":
        return ""  # 4y, 2(y−v)
    if left[-1] in "½¼¾" or (right[0] == "(" and left[-1].isalnum()):
        return ""  # ½(y−v)², y₂(1−y₂)
    return "·"


class _LabelMath:
    """The math namespace of :mod:`pathad.primitives` for :class:`Formula` labels, built from the table.

    A function primitive shows as its symbol applied to its operands
    (``arsinh(x)``), a helper by its label format (``[x>0]``); functions of
    plain numbers (a constant operand) are evaluated as floats.
    """

    def __init__(self, precision):
        self.precision = precision

    def __getattr__(self, name):
        primitive, helper = PRIMITIVES.get(name), HELPERS.get(name)
        if primitive is None and helper is None:
            raise AttributeError(name)
        number = getattr(FLOAT, name)

        def label(*args):
            if not any(isinstance(a, Formula) for a in args):
                return number(*args)
            texts = [a.text(self.precision) if isinstance(a, Formula) else _coefficient(a, self.precision)
                     for a in args]  # fmt: skip
            if helper is not None:
                return Formula.name(helper.label.format(*texts))
            return Formula.name(f"{primitive.symbol}({', '.join(texts)})")

        return label

    def pi(self):
        return Formula.name("π")

    def sqrt(self, a):
        if not isinstance(a, Formula):
            return FLOAT.sqrt(a)
        return Formula.name("√" + _grouped(a, self.precision))

    def pow(self, a, b):
        if not isinstance(a, Formula) and not isinstance(b, Formula):
            return FLOAT.pow(a, b)
        if isinstance(b, Formula):
            return Formula.name(f"{_grouped(a, self.precision)}^{_grouped(b, self.precision)}")
        if b == 0 or b == 1:
            return 1.0 if b == 0 else a
        exponent = format_number(b, self.precision).replace("−", "-")
        if re.fullmatch(r"-?\d+", exponent):
            return Formula.name(_grouped(a, self.precision) + exponent.translate(_SUPERSCRIPTS))
        return Formula.name(f"{_grouped(a, self.precision)}^{exponent}")


# --- symbolic labels of a graph -------------------------------------------------


def symbolic_labels(obj, *, constants=None, subscripts=True, precision=4, max_length=24):
    """Formulas for the nodes and edges of a traced graph, as text.

    Each node's formula is its primitive's value rule applied to its operands'
    symbols, each edge's the partial rule for its operand position: the same
    rules the tracer evaluated on floats.  An operand's symbol is its label when
    it has one (inputs, ``.named`` values), else its formula when that is at most
    ``max_length`` characters, else its ``v<id>`` label.  A node whose value or
    partials no longer match its rules (the graph was changed) gets its label,
    and its in-edges their numbers.

    Parameters
    ----------
    obj : Trace or networkx.MultiDiGraph
    constants : dict, optional
        (node, operand position) -> name for constant operands, shown by name
        instead of value; defaults to the graph attribute ``G.graph["constants"]``.
    subscripts : bool
        Write names like ``w14`` as ``w₁₄``.
    precision : int
        Significant digits of numbers.
    max_length : int
        The longest formula used in place of an unnamed node's label.

    Returns
    -------
    nodes : dict
        node -> formula text, for every computed node: its operation applied to its operands' symbols.
    edges : dict
        (u, v, key) -> label text.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: (x + y) * y, x=3.0, y=5.0)
    >>> nodes, edges = symbolic_labels(tr)
    >>> nodes
    {2: 'x+y', 3: '(x+y)·y'}
    >>> edges[2, 3, 0], edges[1, 3, 1]
    ('y', 'x+y')
    """
    graph = _graph_of(obj)
    nodes, edges = _formulas(graph, graph.nodes, constants, subscripts, precision, max_length)
    return (
        {n: _text(f, precision) for n, f in nodes.items()},
        {e: _text(f, precision) for e, f in edges.items()},
    )


def formula_names(graph, nodes, max_length=24, precision=4):
    """node -> how a reader names it, for the ``nodes`` of a traced graph: a named node (input, ``.named``,
    output) by its label, an unnamed one by its formula when at most ``max_length`` characters, else by its
    ``v<id>`` label; no subscripts, so that a name reads as it is typed.  What :func:`pathad.Path` prints."""
    graph = _graph_of(graph)
    nodes = list(nodes)
    formulas, _ = _formulas(graph, _with_ancestors(graph, nodes), None, False, precision, max_length)
    names = {}
    for node in nodes:
        data = graph.nodes[node]
        label = str(data.get("label", node))
        text = _text(formulas.get(node), precision)
        unnamed = not _is_named(node, data) and data.get("op") != "input"
        names[node] = text if unnamed and text is not None and len(text) <= max_length else label
    return names


def _text(formula, precision):
    if formula is None:
        return None
    return formula.text(precision) if isinstance(formula, Formula) else _coefficient(formula, precision)


def _formulas(graph, scope, constants, subscripts, precision, max_length):
    """(node -> formula of unnamed computed nodes, edge -> formula) over the nodes in ``scope``."""
    if constants is None:
        constants = graph.graph.get("constants", {})
    math_ = _LabelMath(precision)
    symbols, node_formulas, edge_formulas = {}, {}, {}
    for node in nx.topological_sort(graph.subgraph(scope)):
        data = graph.nodes[node]
        name = Formula.name(_display_name(data.get("label", node), subscripts))
        slots = _operand_slots(graph, node, data)
        if slots is None or not _consistent(graph, node, data, slots):
            symbols[node] = name
            edge_formulas.update(_numeric_in_edges(graph, node))
            continue
        args = [_operand(slot, symbols, constants, node, pos, subscripts) for pos, slot in enumerate(slots)]
        primitive = PRIMITIVES[data["op"]]
        formula = primitive.value(math_, *args)
        short = isinstance(formula, Formula) and len(formula.text(precision)) <= max_length
        node_formulas[node] = formula
        symbols[node] = formula if short and not _is_named(node, data) else name
        for pos, slot in enumerate(slots):
            if slot[0] == "edge":
                edge_formulas[slot[1], node, slot[2]] = primitive.label_rules[pos](math_, *args, symbols[node])
    return node_formulas, edge_formulas


def _is_named(node, data):
    label = data.get("label")
    return label is not None and label != f"v{node}"


def _operand_slots(graph, node, data):
    """Per operand position: ("edge", source, key) or ("const", value); None if they do not fit the op."""
    primitive = PRIMITIVES.get(data.get("op"))
    if primitive is None:
        return None
    slots = [None] * primitive.arity
    filled = [(d.get("arg", k), ("edge", u, k)) for u, _, k, d in graph.in_edges(node, keys=True, data=True)]
    filled += [(pos, ("const", value)) for pos, value in data.get("consts", ())]
    for pos, slot in filled:
        if not (isinstance(pos, int) and 0 <= pos < len(slots)) or slots[pos] is not None:
            return None
        slots[pos] = slot
    return None if None in slots else slots


def _consistent(graph, node, data, slots):
    """Whether the node's value and in-edge partials are what its primitive's rules give."""
    primitive = PRIMITIVES[data["op"]]
    try:
        values = [graph.nodes[s[1]]["value"] if s[0] == "edge" else s[1] for s in slots]
        result = data["value"]
        if not _close(primitive.value(FLOAT, *values), result):
            return False
        return all(
            _close(primitive.partials[pos](FLOAT, *values, result), graph.edges[s[1], node, s[2]]["partial"])
            for pos, s in enumerate(slots)
            if s[0] == "edge"
        )
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return False


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _operand(slot, symbols, constants, node, pos, subscripts):
    if slot[0] == "edge":
        return symbols[slot[1]]
    name = constants.get((node, pos))
    return slot[1] if name is None else Formula.name(_display_name(name, subscripts))


def _numeric_in_edges(graph, node):
    return {(u, node, k): p for u, _, k, p in graph.in_edges(node, keys=True, data="partial")}


# --- options ------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    values: bool = True
    partials: bool = True
    symbolic: bool = False
    sweep: object = None
    sweep_label: str | None = None
    highlight: object = None
    rankdir: str = "BT"
    label_place: str = "middle"
    names: str = "auto"
    precision: int = 4
    subscripts: bool = True
    fold: bool = False
    eliminate: tuple = ()
    collapse: object = None
    between: tuple | None = None
    constants: dict | None = None
    title: str | None = None
    max_nodes: int | None = 300
    dpi: float = 150
    second: object = None


_OPTION_NAMES = tuple(f.name for f in fields(_Options))
_RANKDIRS = ("BT", "TB", "LR", "RL")
_NAME_STYLES = ("auto", "op", "expression", "definition", "label", "id")
_LABEL_PLACES = ("middle", "head")


def _options(given):
    unknown = [name for name in given if name not in _OPTION_NAMES]
    if unknown:
        close = difflib.get_close_matches(unknown[0], _OPTION_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TypeError(f"draw got an unknown option {unknown[0]!r}{hint} The options are: {', '.join(_OPTION_NAMES)}")
    options = _Options(**given)
    _check_choice("rankdir", str(options.rankdir).upper(), _RANKDIRS)
    _check_choice("names", options.names, _NAME_STYLES)
    _check_choice("label_place", options.label_place, _LABEL_PLACES)
    _check_number("precision", options.precision, 1, 17, integer=True)
    _check_number("dpi", options.dpi, 1, 2400)
    if options.max_nodes is not None:
        _check_number("max_nodes", options.max_nodes, 1, math.inf, integer=True)
    if options.sweep is not None:
        options = replace(options, sweep=_sweep_values(options.sweep))
    if _is_path(options.between):  # a Path: the part between its ends
        options = replace(options, between=_ends(options.between))
    return options


def _sweep_values(sweep):
    """node -> number shown, from what a sweep returns: a dict (:func:`pathad.solve`), a compiled ``Sweep``
    (its ``to_dict()``); a max-times value shows its score."""
    if hasattr(sweep, "to_dict") and not hasattr(sweep, "items"):
        sweep = sweep.to_dict()
    if not hasattr(sweep, "items"):
        raise TypeError(
            "sweep must be a dict node -> path value (as pathad.solve returns) or a compiled Sweep "
            f"(as CompiledTape.solve returns), got {described(sweep)}"
        )
    return {node: value.score if isinstance(value, Scored) else value for node, value in sweep.items()}


def _is_path(obj):
    """A path as pathad returns one: a :class:`pathad.Path`, an :class:`EdgePath` or a max-times ``Scored``."""
    return isinstance(obj, (EdgePath, Scored, PathadPath))


def _path_nodes(path):
    """The nodes of a path pathad returned, in order (an EdgePath with no edges has none)."""
    if isinstance(path, Scored):
        path = path.edges if path.edges is not None else EdgePath()
    if isinstance(path, EdgePath):
        edges = list(path)
        return [edges[0][0], *(v for _, v, *_ in edges)] if edges else []
    return list(path.nodes)


def _ends(path):
    nodes = _path_nodes(path)
    if not nodes:
        raise ValueError("between: the path is empty (no path was found)")
    return (nodes[0], nodes[-1])


def _check_choice(option, value, choices):
    if value not in choices:
        raise ValueError(f"{option} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def _check_number(option, value, low, high, integer=False):
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        what = "an integer" if integer else "a number"
        raise ValueError(f"{option} must be {what} from {low} to {high}, got {value!r}")


# --- which nodes to draw ----------------------------------------------------------


def _graph_of(obj):
    graph = obj.graph if isinstance(obj, Trace) else obj
    if not isinstance(graph, (nx.DiGraph, nx.MultiDiGraph)):
        check_graph(obj, "draw")  # names what it got
    return graph if graph.is_multigraph() else nx.MultiDiGraph(graph)


def _refs(obj, graph, refs, option):
    """Node ids for one reference or a list of them (input names and labels work for a Trace)."""
    single = isinstance(refs, (str, int)) or refs in graph
    refs = [refs] if single else list(refs)
    if isinstance(obj, Trace):
        return [resolve_node(obj, r) for r in refs]
    missing = [r for r in refs if r not in graph]
    if missing:
        raise ValueError(f"{option} names node {missing[0]!r}, which is not in the graph")
    return refs


def _kept_nodes(obj, graph, between):
    if between is None:
        return set(graph)
    if not isinstance(between, (tuple, list)) or len(between) != 2:
        raise ValueError(f"between must be a pair (source, target), got {between!r}")
    sources, targets = (_refs(obj, graph, refs, "between") for refs in between)
    below = set(sources).union(*(nx.descendants(graph, s) for s in sources))
    above = set(targets).union(*(nx.ancestors(graph, t) for t in targets))
    kept = below & above
    if not kept & set(targets):
        raise ValueError(f"between: no path leads from {between[0]!r} to {between[1]!r}")
    return kept


def _removed_nodes(obj, graph, kept, options):
    removed = set(_refs(obj, graph, options.eliminate, "eliminate")) if options.eliminate else set()
    if options.fold:
        removed |= set(graph) - set(fold_linear(obj if isinstance(obj, Trace) else graph))
    if options.collapse is not None:
        removed |= collapsed(graph, options.collapse)
    if isinstance(obj, Trace):
        removed -= set(obj.outputs)
    return removed & kept


def _check_size(count, max_nodes):
    if max_nodes is not None and count > max_nodes:
        raise DrawingTooLargeError(
            f"the drawing would have {count} nodes, more than max_nodes={max_nodes}: too many to read "
            "and slow to lay out. Draw only the part that matters with between=(source, target) "
            "(the nodes on paths from source to target), or pass max_nodes=None (or a larger number) "
            "to draw it all anyway."
        )


# --- the drawing ---------------------------------------------------------------


class _EdgeLabel:
    """An edge's partial and formula together, so that elimination multiplies and adds both."""

    __slots__ = ("value", "formula")

    def __init__(self, value, formula):
        self.value, self.formula = value, formula

    def __mul__(self, other):
        return _EdgeLabel(_both(self.value, other.value, "mul"), _both(self.formula, other.formula, "mul"))

    def __add__(self, other):
        return _EdgeLabel(_both(self.value, other.value, "add"), _both(self.formula, other.formula, "add"))


def _both(a, b, op):
    if a is None or b is None:
        return None
    return a * b if op == "mul" else a + b


def draw(obj: GraphLike, path: FilePath | None = None, **options: Any) -> "Drawing":
    """Draw a computation graph; write it to ``path`` when given.

    Parameters
    ----------
    obj : Trace or networkx.DiGraph or networkx.MultiDiGraph
        A traced function, or any DAG with pathad's attributes (node ``op``,
        ``value``, ``label``, ``consts``; edge ``partial``, ``arg``); missing
        attributes are simply not shown.
    path : str or pathlib.Path, optional
        File to write; the format is the suffix: .svg, .png, .jpeg/.jpg, .pdf
        or .dot/.gv (the DOT text).  The file appears complete or not at all.
    **options
        values : bool, default True
            Show each node's value.
        partials : bool, default True
            Show each edge's partial (a number).
        symbolic : bool, default False
            Show each edge's partial as a formula, ``(x+y)·y`` (the lecture's
            Fig. 2(a)); unnamed nodes are then named by their formula.
        sweep : dict or Sweep, optional
            node -> path value, e.g. the result of :func:`pathad.solve` or of a
            compiled tape's ``solve`` (a max-times value shows its score), shown
            in green on each node (the lecture's Fig. 3); nodes and edges outside
            it are greyed.
        sweep_label : str, optional
            Text before each path value ("grad").
        highlight : path, list of paths or set of nodes, optional
            A path is a :class:`pathad.Path` (as :func:`pathad.paths` and
            :func:`pathad.best_path` return), a compiled sweep's ``.path(node)``,
            a list of nodes or a list of edges (u, v); its edges and nodes are
            drawn in red.  A set of nodes (as :func:`pathad.active_nodes`
            returns) lights them and the edges among them.
        rankdir : {"BT", "TB", "LR", "RL"}, default "BT"
            Layout direction: "BT" puts the inputs at the bottom, the output on top.
        label_place : {"middle", "head"}, default "middle"
            Where edge labels go: mid-edge, or next to the arrowhead (clearer
            where many edges cross, as in a layer of a neural net).
        names : {"auto", "op", "expression", "definition", "label", "id"}, default "auto"
            How to name nodes without a user label: by operation ("op"), by
            formula ("expression", when short), by their ``v<id>`` label, by
            node id; "definition" also writes named nodes as ``t₁ = w·x`` (a
            Wengert list).  "auto" is "expression" with ``symbolic``, else "op".
        precision : int, default 4
            Significant digits of non-integer numbers.
        subscripts : bool, default True
            Write names like ``w14`` as ``w₁₄``.
        fold : bool, default False
            Leave out constant scalings such as ``4*y`` (:func:`pathad.fold_linear`):
            their edges merge, partials multiplied (the lecture's drawings).
        eliminate : list of nodes, optional
            Further nodes to leave out the same way (:func:`pathad.eliminate`).
        collapse : str, list of str, True or "auto", optional
            Leave out whole regions, each replaced by edges labeled with its
            path values (exact: vertex elimination): scopes by name
            (:func:`pathad.scope`), True for every outermost scope, "auto" for
            the single-entry, single-exit regions (see :func:`collapsed`).  The
            way to read a big trace as its layers.
        between : (source, target), optional
            Draw only the nodes on paths from source to target (each a node or
            a list of nodes; a :class:`pathad.Path` stands for its two ends); the
            way to draw a part of a big graph.
        constants : dict, optional
            (node, operand position) -> name, to show constants by name in
            formulas; defaults to the graph attribute ``G.graph["constants"]``.
        title : str, optional
            A caption above the graph ("\\n" breaks a line).
        max_nodes : int or None, default 300
            Refuse (:class:`DrawingTooLargeError`) to draw more nodes than this;
            None draws any size.
        dpi : number, default 150
            Resolution of png and jpeg files.
        second : dict or array, optional
            A direction v, as :func:`pathad.hvp` takes it: each edge shows the
            pair (partial, its rate along v), the label the :data:`pathad.DUAL`
            sweep of a Hessian-vector product reads (not with ``fold``,
            ``eliminate`` or ``collapse``).

    Returns
    -------
    Drawing
        A ``graphviz.Digraph``: ``.source`` is the DOT text; in Jupyter it shows itself.

    Raises
    ------
    TypeError
        For an unknown option (the message lists them).
    ValueError
        For a bad option value or file format.
    DrawingTooLargeError
        For a graph with more than ``max_nodes`` nodes to draw.
    RendererNotFoundError
        When writing an image and no dot program can render its format.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    >>> d = draw(tr, fold=True, symbolic=True, values=False, partials=False)
    >>> "(x+y)·y" in d.source and "x+4y" in d.source
    True
    >>> draw(tr, path="h.svg")  # doctest: +SKIP
    """
    view = View(obj, **options)
    drawing = view.drawing(_paths(obj, view.graph, view.options.highlight))
    if path is not None:
        drawing.write(path)
    return drawing


class View:
    """What a drawing shows, before it is laid out: the part of the graph kept, folded or eliminated as asked.

    :func:`draw` lays it out; :func:`pathad.animate` also sweeps it.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The whole graph.
    work : networkx.MultiDiGraph
        The nodes and edges drawn, each edge's ``label`` the partial (and formula) it shows.
    options
        The drawing options, checked.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
    >>> view = View(tr, fold=True, names="expression")
    >>> list(view.names().values())
    ['x', 'y', 'x+4y', 'x+y', '(x+y)·y', '<lambda>']
    >>> sorted(view.swept().edges(data="partial"))[:2]
    [(0, 3, 1.0), (0, 4, 1.0)]
    """

    def __init__(self, obj, **options):
        self.options = options = _options(options)
        self.graph = graph = _graph_of(obj)
        kept = _kept_nodes(obj, graph, options.between)
        removed = _removed_nodes(obj, graph, kept, options)
        _check_size(len(kept) - len(removed), options.max_nodes)
        _check_sweep(graph, options.sweep)
        self.work, self.formulas = _working_graph(graph, kept, removed, options)
        if options.second is not None:
            self.options = options = replace(options, second=_second_rates(obj, options.second, removed))

    def drawing(self, highlighted=(set(), set()), *, node_styles=None, edge_styles=None):
        """The :class:`Drawing`, with the ``highlighted`` (edges, nodes) in red.

        An edge in ``highlighted`` is a pair (u, v), which lights every parallel
        edge u→v, or a triple (u, v, key), which lights that edge alone.
        ``node_styles`` (node -> DOT attributes) and ``edge_styles``
        ((u, v, key) -> DOT attributes) restyle single nodes and edges, on top
        of everything else: what :func:`pathad.draw_elimination` marks fill-in with.
        """
        return _build(self.work, self.graph, self.formulas, self.options, highlighted, node_styles, edge_styles)

    def positions(self):
        """node -> its position in the whole graph's node order: what :func:`node_id` and :func:`edge_id` number."""
        return {n: i for i, n in enumerate(self.graph)}

    def names(self):
        """node -> the name its box shows first."""
        work, formulas, options = self.work, self.formulas, self.options
        return {n: _node_name(n, work.nodes[n], formulas.get(n), options) for n in work}

    def swept(self):
        """The graph drawn as a graph to sweep: its nodes, and its edges with the partials shown
        (``partial``, a product where nodes were folded away) and every other attribute of an edge kept."""
        swept = nx.MultiDiGraph()
        swept.add_nodes_from(self.work.nodes(data=True))
        for u, v, key, data in self.work.edges(keys=True, data=True):
            original = self.graph.get_edge_data(u, v, key) if self.graph.has_edge(u, v, key) else None
            kept = original is not None and original.get("partial") == data["label"].value
            attributes = dict(original) if kept else {"arg": data["arg"]}
            attributes["partial"] = data["label"].value
            swept.add_edge(u, v, key, **attributes)
        return swept


def _check_sweep(graph, sweep):
    if sweep is None:
        return
    if not hasattr(sweep, "items"):
        raise TypeError(f"sweep must be a dict node -> path value (as pathad.solve returns), got {described(sweep)}")
    strangers = [n for n in sweep if n not in graph]
    if strangers:
        raise ValueError(f"sweep has a value for node {strangers[0]!r}, which is not in the graph")


def _second_rates(obj, direction, removed):
    """{(node, operand position): rate} of the edge labels along ``direction`` (:func:`pathad.second.second_labels`)."""
    from .second import _direction, second_labels  # pathad.second builds on the derivatives, which draw precedes

    if not isinstance(obj, Trace):
        raise TypeError(f"second= needs a pathad.Trace (its second partials come from its operations), got "
                        f"{described(obj)}")  # fmt: skip
    if removed:
        raise ValueError("second= labels the traced edges; it cannot be combined with fold=, eliminate= or collapse=")
    return second_labels(obj, _direction(obj, direction))


def _working_graph(graph, kept, removed, options):
    """The kept part of the graph with an _EdgeLabel on every edge, ``removed`` nodes eliminated."""
    formulas = options.symbolic or _name_style(options) in ("expression", "definition")
    node_formulas, edge_formulas = {}, {}
    if formulas:
        scope = kept if len(kept) == len(graph) else _with_ancestors(graph, kept)
        node_formulas, edge_formulas = _formulas(
            graph, scope, options.constants, options.subscripts, options.precision, max_length=24
        )
    work = nx.MultiDiGraph()
    work.add_nodes_from((n, graph.nodes[n]) for n in graph if n in kept)
    work.add_edges_from(
        (u, v, k, {"arg": d.get("arg", k), "label": _EdgeLabel(d.get("partial"), edge_formulas.get((u, v, k)))})
        for u, v, k, d in graph.edges(keys=True, data=True)
        if u in kept and v in kept
    )
    if removed:
        work = eliminate(work, [n for n in graph if n in removed], weight="label")
    return work, node_formulas


def _with_ancestors(graph, nodes):
    """``nodes`` and everything they depend on (their formulas need their operands')."""
    seen = set(nodes)
    stack = list(seen)
    while stack:
        for u in graph.predecessors(stack.pop()):
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return seen


def _paths(obj, graph, highlight):
    """The edges (u, v) of the highlighted paths, and their nodes.

    A path is a :class:`pathad.Path` (from :func:`pathad.paths`, :func:`pathad.best_path`), an edge path
    or max-times value (a sweep's ``.path(node)``), a list of nodes, or a list of edges (u, v); several
    paths are a list (or iterator) of those.
    """
    if highlight is None:
        return set(), set()
    if isinstance(highlight, (set, frozenset)):  # nodes, as pathad.active_nodes returns: them and the edges among them
        nodes = set(_refs(obj, graph, list(highlight), "highlight"))
        return {(u, v) for u, v in graph.edges() if u in nodes and v in nodes}, nodes
    if _is_path(highlight):
        highlight = [highlight]
    elif isinstance(highlight, (str, int)) or highlight in graph:  # one node
        highlight = [[highlight]]
    elif not isinstance(highlight, Iterable) or hasattr(highlight, "items"):
        raise TypeError(
            "highlight must be a path (a pathad.Path, a list of nodes, a list of edges (u, v)), a list "
            f"of paths or a set of nodes, got {described(highlight)}"
        )
    paths = [_path_nodes(p) if _is_path(p) else p for p in highlight]
    if paths and not isinstance(paths[0], (list, tuple)):
        paths = [paths]
    edges, nodes = set(), set()
    for path in paths:
        path = _refs(obj, graph, list(path), "highlight")
        nodes.update(path)
        edges.update(zip(path, path[1:]))
    return edges, nodes


def _name_style(options):
    if options.names == "auto":
        return "expression" if options.symbolic else "op"
    return options.names


def _build(work, graph, node_formulas, options, highlighted, node_styles=None, edge_styles=None):
    edges_on, nodes_on = highlighted
    node_styles, edge_styles = node_styles or {}, edge_styles or {}
    index = {n: i for i, n in enumerate(graph)}
    drawing = Drawing(name="pathad", graph_attr=_graph_attr(options), node_attr=_NODE_ATTR, edge_attr=_EDGE_ATTR)
    drawing.dpi = options.dpi
    sinks = {n for n in work if graph.out_degree(n) == 0}
    for node in sorted(work, key=index.get):
        data = work.nodes[node]
        label = _node_label(node, data, node_formulas.get(node), options)
        style = _node_style(node, data, node in sinks, node in nodes_on, options)
        style.update(node_styles.get(node, {}))
        drawing.node(node_id(index[node]), label, id=node_id(index[node]), **style)
    for u, v, key, data in sorted(work.edges(keys=True, data=True), key=lambda e: (index[e[1]], e[2], index[e[0]])):
        text = _edge_text(data["label"], options)
        if options.second is not None and text:  # the DUAL pair: the partial and its rate along the direction
            text = f"({text}, {format_number(options.second.get((v, data['arg']), 0.0), options.precision)})"
        style = _edge_style(u, v, (u, v) in edges_on or (u, v, key) in edges_on, options)
        if text:
            side = _side(work, u, v, key, index) * _TURN[options.rankdir.upper()]
            style.update(_edge_label(text, options.label_place, side))
        style.update(edge_styles.get((u, v, key), {}))
        parallel = list(work[u][v]).index(key)
        drawing.edge(node_id(index[u]), node_id(index[v]), id=edge_id(index[u], index[v], parallel), **style)
    return drawing


def node_id(position):
    """The DOT name and SVG id of the node at ``position`` in the graph's node order."""
    return f"n{position}"


def edge_id(tail, head, parallel):
    """The SVG id of the ``parallel``-th edge (in the graph's order) between the nodes at positions tail, head."""
    return f"e{tail}_{head}_{parallel}"


def _graph_attr(options):
    attr = {"rankdir": options.rankdir.upper(), "ordering": "in", "nodesep": "0.35", "ranksep": "0.45"}
    if options.label_place == "head":  # labels beside the arrowheads need room between the heads
        attr.update(nodesep="0.6", ranksep="0.6")
    if options.title:  # a line break in the title is a line break in the drawing
        lines = [html.escape(line, quote=False) for line in str(options.title).split("\n")]
        attr.update(label="<" + "<BR/>".join(lines) + ">", labelloc="t", fontname=_FONT, fontsize="15")
    return attr


_NODE_ATTR = {"fontname": _FONT, "fontsize": "13", "margin": "0.1,0.05"}
_EDGE_ATTR = {"fontname": _FONT, "fontsize": "11", "fontcolor": _BLUE, "arrowsize": "0.7"}


def _html(text):
    return "<" + html.escape(str(text), quote=False) + ">"


def _node_name(node, data, formula, options):
    style = _name_style(options)
    label = _display_name(data.get("label", node), options.subscripts)
    if style == "id":
        return str(node)
    text = _text(formula, options.precision) if formula is not None else None
    short = text is not None and len(text) <= 24
    named = _is_named(node, data)
    if style == "definition" and short:
        return f"{label} = {text}" if named else text
    if style in ("label", "definition") or named or data.get("op") == "input" or data.get("op") not in PRIMITIVES:
        return label
    if options.collapse is not None and data.get("scope"):  # its formula would name nodes collapsed away
        return f"{data['scope']}: {_operation(data, label, options)}"
    if style == "expression" and short:
        return text
    return _operation(data, label, options)


def _definition(node, data, formula, options):
    """' = (x+4y)·(x+y)·y' or ' = · × ·' after the name of a computed node with a name (an output, a
    ``.named`` value), so that its box says what it computes; '' for every other node."""
    style = _name_style(options)
    if style in ("label", "definition", "id") or not _is_named(node, data) or data.get("op") not in PRIMITIVES:
        return ""
    if options.collapse is not None and data.get("scope"):
        return ""
    text = _text(formula, options.precision) if formula is not None else None
    if style == "expression" and text is not None and len(text) <= 16:  # a short formula; else the operation
        return f" = {text}"
    return f" = {_operation(data, data.get('label', node), options)}"  # its drawn operands may be more than its op's


def _op_symbol(op, label):
    return _OP_SYMBOLS.get(op) or (PRIMITIVES[op].symbol if op in PRIMITIVES else label)


def _operation(data, label, options, placeholders=False):
    """What a node computes, its constant operands in place: ``×``, ``+ 3``, ``1 /``, ``max(·, 0)``.

    A drawn operand is an edge into the node; a constant is written where it stands in the formula, so
    that ``+`` over a value 3 cannot read as "add 3".  With ``placeholders``, drawn operands are ``·``
    (``h = · × ·``), for a name in front.
    """
    op = data.get("op")
    symbol = _op_symbol(op, label)
    primitive = PRIMITIVES.get(op)
    consts = dict(data.get("consts") or ())
    if primitive is None or primitive.arity == 0:
        return symbol
    shown = {pos: _constant_text(value, options.precision) for pos, value in consts.items()}
    if primitive.infix and primitive.arity == 2:
        left, right = (shown.get(pos, "·" if placeholders else None) for pos in (0, 1))
        return " ".join(part for part in (left, symbol, right) if part is not None)
    if not consts and not placeholders:
        return symbol
    return f"{symbol}({', '.join(shown.get(pos, '·') for pos in range(primitive.arity))})"


def _constant_text(value, precision):
    text = format_number(value, precision)
    return f"({text})" if text.startswith("−") else text


#: Operation symbols that read better inside a node than the formula symbol.
_OP_SYMBOLS = {"mul": "×"}


def _node_label(node, data, formula, options):
    name = _node_name(node, data, formula, options) + _definition(node, data, formula, options)
    lines = [html.escape(name, quote=False)]
    if options.values and data.get("value") is not None:
        lines.append(f'<FONT POINT-SIZE="12">{format_number(data["value"], options.precision)}</FONT>')
    if options.sweep is not None and node in options.sweep:
        value = options.sweep[node]
        if isinstance(value, tuple):  # a DUAL pair: (∂f/∂node, its rate along the direction)
            text = "(" + ", ".join(format_number(part, options.precision) for part in value) + ")"
        else:
            text = format_number(value, options.precision)
        if options.sweep_label:
            text = f"{options.sweep_label} {text}"
        lines.append(f'<FONT COLOR="{_GREEN}"><B>{html.escape(text, quote=False)}</B></FONT>')
    return "<" + "<BR/>".join(lines) + ">"


def _node_style(node, data, sink, highlighted, options):
    style = {}
    if data.get("op") == "input":
        style.update(shape="box", style="rounded,filled", fillcolor="#f6f8fa")
    if sink:
        style.update(peripheries="2")
    if options.sweep is not None and node not in options.sweep:
        style.update(color=_GREY, fontcolor=_GREY)
    if highlighted:
        style.update(color=_RED, penwidth="2")
    return style


def _edge_text(label, options):
    parts = []
    if options.symbolic and label.formula is not None:
        parts.append(_text(label.formula, options.precision))
    if options.partials and label.value is not None:
        number = format_number(label.value, options.precision)
        if number not in parts:
            parts.append(number)
    return " = ".join(parts)


#: How an angle turns in each layout direction: "BT" draws "TB" mirrored, "RL" draws "LR" mirrored.
_TURN = {"LR": 1, "TB": 1, "BT": -1, "RL": -1}


def _side(work, u, v, key, index):
    """-1, 0 or 1: where the edge comes into its head among the head's in-edges drawn (first, middle, last)."""
    ins = sorted(((k, index[t]) for t, _, k in work.in_edges(v, keys=True)))
    if len(ins) < 2:
        return 1
    position = ins.index((key, index[u]))
    middle = (len(ins) - 1) / 2
    return -1 if position < middle else (1 if position > middle else 0)


def _edge_label(text, place, side=1):
    if place == "head":  # beside the arrowhead, on the side away from the head's other in-edges
        angle = "-35" if side < 0 else "35"  # the middle edge of three: the side of the last (not on its line)
        return {"headlabel": _html(text), "labeldistance": "2.2", "labelangle": angle}
    return {"label": _html(f"\N{NO-BREAK SPACE}{text}")}  # a space between the line and the text


def _edge_style(u, v, highlighted, options):
    if highlighted:
        return {"color": _RED, "penwidth": "2.2"}
    if options.sweep is not None and not (u in options.sweep and v in options.sweep):
        return {"color": _GREY, "fontcolor": _GREY, "style": "dashed"}
    return {}


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders with pathad's renderer (see :func:`find_renderer`).

    ``pipe`` (and so Jupyter's display) uses ``PATHAD_DOT``, graphviz-pure or
    Graphviz's dot, whichever is found first; :meth:`write` writes a file.

    Examples
    --------
    >>> d = Drawing()
    >>> d.edge("a", "b")
    >>> d.write("picture.bmp")
    Traceback (most recent call last):
    ...
    ValueError: cannot write 'picture.bmp': unknown format 'bmp'; pathad writes svg, png, jpeg, jpg, pdf, dot, gv
    """

    dpi = 150

    def pipe(
        self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
        neato_no_op: bool | int | None = None, quiet: bool = False, *, engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:  # fmt: skip
        """The rendered drawing as bytes (str with ``encoding``), by pathad's renderer."""
        if renderer or formatter or neato_no_op or (engine or self.engine) != "dot":
            return super().pipe(
                format,
                renderer=renderer,
                formatter=formatter,
                neato_no_op=neato_no_op,
                quiet=quiet,
                engine=engine,
                encoding=encoding,
            )
        data = render(self.source, format or self.format, dpi=self.dpi)
        return data.decode(encoding) if encoding else data

    def write(self, path: FilePath) -> Path:
        """Write the drawing to ``path`` (format from its suffix), all or nothing; return the path."""
        path = Path(path)
        fmt = _format_of(path)
        data = self.source.encode("utf-8") if fmt in _TEXT_FORMATS else render(self.source, fmt, dpi=self.dpi)
        write_atomically(path, data)
        return path

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except (RendererNotFoundError, RenderError) as exc:
            return {"text/plain": f"<pathad drawing: not rendered: {exc}>"}


def _format_of(path):
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot write {str(path)!r}: unknown format {fmt!r}; pathad writes {', '.join(FORMATS)}")
    return fmt


def find_renderer(fmt="svg"):
    """The dot program that will render format ``fmt``: PATHAD_DOT, else graphviz-pure, else Graphviz's dot.

    ``PATHAD_DOT`` (a program name or path) is used for every format when set.
    graphviz-pure (a PyPI package installed with pathad) writes svg, png and
    jpeg; pdf needs Graphviz's own ``dot``.

    Raises
    ------
    ValueError
        For an unknown format.
    RendererNotFoundError
        When no program renders ``fmt`` (the message says what to install).

    Examples
    --------
    >>> find_renderer("bmp")
    Traceback (most recent call last):
    ...
    ValueError: unknown format 'bmp'; pathad writes svg, png, jpeg, jpg, pdf, dot, gv
    >>> find_renderer("svg")  # doctest: +SKIP
    '/home/me/.venv/bin/graphviz-pure'
    """
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; pathad writes {', '.join(FORMATS)}")
    chosen = os.environ.get("PATHAD_DOT")
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise RendererNotFoundError(f"PATHAD_DOT={chosen!r} is not a program that can be run")
        return found
    found = (_graphviz_pure() if fmt in _PURE_FORMATS else None) or shutil.which("dot")
    if found is None:
        raise RendererNotFoundError(_install_hint(fmt))
    return found


def _graphviz_pure():
    """graphviz-pure from the running Python's scripts directories, else from PATH."""
    directories = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    try:
        directories.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:
        pass
    return shutil.which("graphviz-pure", path=os.pathsep.join(directories)) or shutil.which("graphviz-pure")


def _install_hint(fmt):
    graphviz_dot = (
        "Graphviz's dot (apt install graphviz, brew install graphviz, "
        "conda install -c conda-forge graphviz, or https://graphviz.org/download/)"
    )
    if fmt == "pdf":
        return (
            f"writing pdf needs {graphviz_dot}, or PATHAD_DOT set to a dot program that writes pdf; "
            "graphviz-pure writes svg, png and jpeg only"
        )
    return (
        f"no program found to render {fmt}: pip install graphviz-pure (or reinstall pathad, which "
        f"brings it), or install {graphviz_dot}, or set PATHAD_DOT to a dot-compatible program. "
        "Without one, Drawing.source still gives the DOT text and .dot files can be written."
    )


def render(source, fmt="svg", *, dpi=None):
    """Render DOT text to the bytes of an image in format ``fmt`` with :func:`find_renderer`'s program.

    Examples
    --------
    >>> render("digraph { a -> b }", "svg")[:5]  # doctest: +SKIP
    b'<?xml'
    """
    program = find_renderer(fmt)
    command = [program, f"-T{'jpeg' if fmt == 'jpg' else fmt}"]
    if dpi and fmt in _RASTER_FORMATS:
        command.append(f"-Gdpi={dpi}")
    try:
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True, timeout=_RENDER_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{program} took more than {_RENDER_TIMEOUT} s to render {fmt}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"{program} could not render {fmt} (exit status {done.returncode}): {message}")
    return done.stdout


def repr_mimebundle(obj, include=None, exclude=None):
    """What Jupyter shows for a Trace: its drawing as SVG, and its repr as text.

    A graph too big to draw, or no renderer, leaves only the text (with the reason).
    ``Trace._repr_mimebundle_`` can return ``repr_mimebundle(self, include, exclude)``.

    Examples
    --------
    >>> from pathad import trace
    >>> repr_mimebundle(trace(lambda x: x * x, 3.0), include=["text/plain"])
    {'text/plain': '<Trace <lambda>(x) = 9.0: 2 nodes, 2 edges>'}
    """
    wanted = set(include) if include is not None else {"image/svg+xml", "text/plain"}
    wanted -= set(exclude or ())
    bundle, note = {}, ""
    if "image/svg+xml" in wanted:
        try:
            bundle["image/svg+xml"] = draw(obj).pipe("svg", encoding="utf-8")
        except (DrawingTooLargeError, RendererNotFoundError, RenderError) as exc:
            note = f"\n(not drawn: {exc})"
    if "text/plain" in wanted:
        bundle["text/plain"] = repr(obj) + note
    return bundle
