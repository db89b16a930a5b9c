"""Graph files: save a trace (or any networkx graph) as node-link JSON, load it back, export GraphML.

:func:`save` writes networkx's *node-link* JSON (``{"directed", "multigraph",
"graph", "nodes", "edges"}``, readable by ``networkx.node_link_graph``) plus a
``"pathad"`` entry that records what makes a graph a trace: its name, inputs,
outputs, the shape of its result and the branches it took.  :func:`load` gives
back a :class:`~pathad.tracing.Trace` whose graph has every node, edge and
graph attribute it had, so derivatives, drawings and path queries work on it
as on the original.  Other graphs come back as the networkx graph they were.

JSON has no tuples, no dicts with non-text keys and no infinities, so such
values are written as tagged objects: ``{"$tuple": [...]}``, ``{"$dict": [[key,
value], ...]}``, ``{"$float": "inf"}``.  Attribute values may be numbers,
text, booleans, None and lists, tuples and dicts of them; anything else (a
sympy formula, say) is refused when saving, naming the attribute.

:func:`load` trusts nothing in the file: it checks the size, the JSON, every
type, that edges join listed nodes, and for a trace that every operation is a
primitive of :data:`pathad.primitives.PRIMITIVES` with exactly its operands,
edges running from earlier to later nodes, values and partials finite.  Any
problem raises :class:`GraphFileError` naming the file and what is wrong.

:func:`to_graphml` exports the graph for other graph tools (Gephi, Cytoscape,
yEd); values that GraphML cannot hold are written as JSON text.  It writes
the file networkx's writer writes, element by element (a trace straight from
its tape), so memory stays flat for graphs of millions of nodes;
:func:`read_graphml` reads GraphML back as ``networkx.read_graphml`` does,
without holding the whole document in memory.

Files are written to a temporary file and moved into place, so a file is
complete or not there at all.

Examples
--------
>>> import os, tempfile
>>> from pathad.derivatives import gradient
>>> from pathad.tracing import trace
>>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> path = os.path.join(tempfile.mkdtemp(), "h.json")
>>> copy = load(save(tr, path))
>>> copy.value, gradient(copy), copy.graph.nodes[2]
(920.0, {'x': 155.0, 'y': 459.0}, {'op': 'mul', 'value': 20.0, 'label': 'v2', 'consts': ((0, 4.0),)})
"""

import bz2
import gzip
import itertools
import json
import math
import numbers
import os
import re
import xml.etree.ElementTree as ET
from collections import deque
from contextlib import contextmanager
from pathlib import Path

import networkx as nx
import numpy as np

from .errors import GraphFileError
from .files import replacing, write_atomically
from .primitives import FLOAT, PRIMITIVES
from .tracing import Guard, Tape, Trace, gc_paused
from .types import FilePath, GraphLike

__all__ = ["save", "load", "to_graphml", "read_graphml", "FORMAT", "MAX_BYTES", "MAX_DEPTH"]

#: The version of pathad's graph files.
FORMAT = 1

#: The largest file :func:`load` reads by default, in bytes.  The file is parsed whole, not streamed (json,
#: then a networkx graph, then the trace's tape and graph), which takes about 20 bytes of memory per byte of
#: file: a file of 32 MiB (about 150,000 operations) peaks near 700 MB and reads in about 15 s.  The limit is
#: chosen to fit that in an ordinary machine's memory; pass a larger ``max_bytes`` for larger files.
MAX_BYTES = 32 * 2**20

#: How deeply attribute values may nest (lists in dicts in tuples ...).
MAX_DEPTH = 32

_NODE_FIELDS = ("id",)
_EDGE_FIELDS = ("source", "target", "key")
_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})


# --- saving -----------------------------------------------------------------


def save(obj: GraphLike, path: FilePath) -> Path:
    """Write a trace or a networkx graph to ``path`` as node-link JSON; return the path.

    Parameters
    ----------
    obj : Trace or networkx graph
    path : str or pathlib.Path

    Raises
    ------
    GraphFileError
        If an attribute holds a value JSON cannot carry (the message names it),
        or a trace's graph was changed so that it no longer is a trace.

    Examples
    --------
    >>> import os, tempfile, networkx as nx
    >>> G = nx.DiGraph([("s", "t", {"partial": 2.0})])
    >>> load(save(G, os.path.join(tempfile.mkdtemp(), "g.json"))).edges["s", "t"]
    {'partial': 2.0}
    """
    path = Path(path)
    write_atomically(path, _layout(_document(obj, str(path))).encode("utf-8"))
    return path


def _layout(document):
    """The document as JSON text with one entry per line, and one line per node and per edge."""
    lines = ["{"]
    for i, (key, value) in enumerate(document.items()):
        comma = "," if i < len(document) - 1 else ""
        if isinstance(value, list) and value:
            lines.append(f" {_compact(key)}: [")
            lines.extend(f"  {_compact(item)}," for item in value[:-1])
            lines.append(f"  {_compact(value[-1])}")
            lines.append(f" ]{comma}")
        else:
            lines.append(f" {_compact(key)}: {_compact(value)}{comma}")
    lines.append("}\n")
    return "\n".join(lines)


def _compact(value):
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _document(obj, where):
    graph = obj.graph if isinstance(obj, Trace) else obj
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"save needs a pathad Trace or a networkx graph, got {type(obj).__name__}")
    meta = {"format": FORMAT}
    if isinstance(obj, Trace):
        record = _trace_record(obj)
        _check_trace(graph, record, f"{where}: the trace cannot be saved: ")
        meta["trace"] = _encode(record, f"{where}: the trace record", 0)
    return {
        "pathad": meta,
        "directed": graph.is_directed(),
        "multigraph": graph.is_multigraph(),
        "graph": _encode_attributes(graph.graph, f"{where}: graph attribute", ()),
        "nodes": [_encode_node(node, data, where) for node, data in graph.nodes(data=True)],
        "edges": [_encode_edge(edge, graph.is_multigraph(), where) for edge in _edges(graph)],
    }


def _edges(graph):
    if graph.is_multigraph():
        return graph.edges(keys=True, data=True)
    return ((u, v, None, data) for u, v, data in graph.edges(data=True))


def _trace_record(tr):
    """What makes the graph a trace.  Array arguments add "arguments" ([name, shape, node ids] each) and a
    nested result adds "tree" (its output tree, structure "tree"); a trace of numbers writes neither, so its
    file is the same as before arrays existed."""
    structure = tr._structure
    record = {
        "name": tr.name,
        "inputs": [[name, node] for name, node in tr.inputs.items()],
        "outputs": list(tr.outputs),
        "structure": structure if structure is None or isinstance(structure, str) else list(structure),
        "guards": [list(guard) for guard in tr.tape.guards],
    }
    for guard in tr.tape.guards:  # load refuses them: refuse them here, before anything is written
        if guard[3] is not None and not math.isfinite(guard[3]):
            raise GraphFileError(f"the guard {list(guard)!r} on node {guard[1]} compares with {guard[3]!r}, "
                                 "which a trace file cannot hold (its constants must be finite)")
    if any(isinstance(nodes, np.ndarray) for nodes in tr.arguments.values()):
        record["arguments"] = [
            [name, list(nodes.shape), nodes.ravel().tolist()] if isinstance(nodes, np.ndarray) else [name, None, nodes]
            for name, nodes in tr.arguments.items()
        ]
    if structure == "tree":
        record["tree"] = tr._tree
    return record


def _encode_node(node, data, where):
    record = {"id": _encode(node, f"{where}: node {node!r}", 0)}
    record.update(_encode_attributes(data, f"{where}: node {node!r} attribute", _NODE_FIELDS))
    return record


def _encode_edge(edge, multigraph, where):
    u, v, key, data = edge
    name = f"{where}: edge {u!r} -> {v!r}"
    record = {"source": _encode(u, name, 0), "target": _encode(v, name, 0)}
    if multigraph:
        record["key"] = _encode(key, f"{name} key", 0)
    record.update(_encode_attributes(data, f"{name} attribute", _EDGE_FIELDS))
    return record


def _encode_attributes(data, what, reserved):
    encoded = {}
    for name, value in data.items():
        if not isinstance(name, str):
            raise GraphFileError(f"{what} names must be text, got {name!r}")
        if name in reserved or name.startswith("$"):
            raise GraphFileError(f"{what} {name!r} clashes with the file format's own field; rename it")
        encoded[name] = _encode(value, f"{what} {name!r}", 0)
    return encoded


def _encode(value, what, depth):
    """``value`` as JSON data, with tuples, non-text keys and infinities tagged."""
    if depth > MAX_DEPTH:
        raise GraphFileError(f"{what} nests more than {MAX_DEPTH} levels deep (or contains itself)")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic) and isinstance(value.item(), (bool, int, float)):
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, what, depth + 1) for item in value]
        return items if isinstance(value, list) else {"$tuple": items}
    if isinstance(value, dict):
        return _encode_dict(value, what, depth)
    raise GraphFileError(
        f"{what} is a {type(value).__module__}.{type(value).__name__}, which pathad cannot save "
        "(it saves numbers, text, booleans, None, and lists, tuples and dicts of them)"
    )


def _encode_dict(value, what, depth):
    if all(isinstance(k, str) and not k.startswith("$") for k in value):
        return {k: _encode(v, what, depth + 1) for k, v in value.items()}
    return {"$dict": [[_encode(k, what, depth + 1), _encode(v, what, depth + 1)] for k, v in value.items()]}


# --- loading ------------------------------------------------------------------


def load(path: FilePath, *, max_bytes: int = MAX_BYTES) -> GraphLike:
    """Read a graph file written by :func:`save` (or any node-link JSON file).

    Parameters
    ----------
    path : str or pathlib.Path
    max_bytes : int
        Refuse files larger than this.

    Returns
    -------
    Trace or networkx graph
        A :class:`~pathad.tracing.Trace` if the file holds one, else the graph.

    Raises
    ------
    GraphFileError
        For a file that is too large, not JSON, not a graph, or whose trace
        is not consistent; the message names the file and the problem.
    FileNotFoundError
        If there is no such file.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "bad.json")
    >>> _ = Path(path).write_text('{"nodes": 3}')
    >>> load(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pathad.errors.GraphFileError: .../bad.json: "nodes" must be a list, got int
    """
    path = Path(path)
    data = _read_json(path, max_bytes)
    try:
        return _from_document(data)
    except _Invalid as exc:
        raise GraphFileError(f"{path}: {exc}") from None


class _Invalid(Exception):
    """A problem in a file's content (``load`` adds the file name)."""


def _read_json(path, max_bytes):
    with open(path, "rb") as file:
        raw = file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise GraphFileError(f"{path}: the file is larger than max_bytes={max_bytes:,}; pass a larger max_bytes")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as exc:
        raise GraphFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise GraphFileError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except _Invalid as exc:
        raise GraphFileError(f"{path}: {exc}") from None
    except ValueError as exc:  # an integer literal with more digits than Python converts
        raise GraphFileError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise GraphFileError(f"{path}: the JSON nests too deeply") from None


def _no_constant(name):
    raise _Invalid(f'the file uses {name}, which JSON does not have (pathad writes {{"$float": ...}})')


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _Invalid(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _from_document(data):
    if not isinstance(data, dict):
        raise _Invalid(f"the file holds a JSON {_kind(data)}, not a node-link graph object")
    meta = _field(data, "pathad", dict, {"format": FORMAT})
    if meta.get("format") != FORMAT:
        raise _Invalid(f"unknown pathad file format {meta.get('format')!r}; this pathad reads format {FORMAT}")
    graph = _graph(data)
    if "trace" not in meta:
        return graph
    record = _decode(meta["trace"], "the trace record", 0)
    _check_trace(graph, record, "")
    return _trace(graph, record)


def _field(data, name, kind, default=None):
    if name not in data:
        if default is None:
            raise _Invalid(f"the {name!r} entry is missing")
        return default
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Invalid(f'"{name}" must be {_kind_name(kind)}, got {_kind(value)}')
    return value


def _graph(data):
    directed = _field(data, "directed", bool, False)
    multigraph = _field(data, "multigraph", bool, True)  # networkx's defaults
    graph = {(False, False): nx.Graph, (False, True): nx.MultiGraph, (True, False): nx.DiGraph}.get(
        (directed, multigraph), nx.MultiDiGraph
    )()
    graph.graph.update(_decode_attributes(_field(data, "graph", dict, {}), "the graph", ()))
    for index, record in enumerate(_field(data, "nodes", list)):
        _add_node(graph, index, record)
    edges = _field(data, "edges" if "edges" in data or "links" not in data else "links", list)
    for index, record in enumerate(edges):
        _add_edge(graph, index, record)
    return graph


def _add_node(graph, index, record):
    if not isinstance(record, dict) or "id" not in record:
        raise _Invalid(f'node {index} must be an object with an "id", got {_kind(record)}')
    node = _hashable(_decode(record["id"], f"node {index}'s id", 0), f"node {index}'s id")
    if node in graph:
        raise _Invalid(f"node {node!r} is listed twice")
    graph.add_node(node, **_decode_attributes(record, f"node {node!r}", _NODE_FIELDS))


def _add_edge(graph, index, record):
    if not isinstance(record, dict) or "source" not in record or "target" not in record:
        raise _Invalid(f'edge {index} must be an object with a "source" and a "target", got {_kind(record)}')
    ends = [_end(record, index, end) for end in ("source", "target")]
    for end in ends:
        if end not in graph:
            raise _Invalid(f"edge {index} joins node {end!r}, which is not in the list of nodes")
    attributes = _decode_attributes(record, f"edge {index}", _EDGE_FIELDS)
    if graph.is_multigraph():
        if "key" not in record:
            raise _Invalid(f'edge {index} of a multigraph needs a "key"')
        key = _hashable(_decode(record["key"], f"edge {index}'s key", 0), f"edge {index}'s key")
        if graph.has_edge(*ends, key):
            raise _Invalid(f"edge {ends[0]!r} -> {ends[1]!r} with key {key!r} is listed twice")
        graph.add_edge(*ends, key, **attributes)
    else:
        if graph.has_edge(*ends):
            raise _Invalid(f"edge {ends[0]!r} -> {ends[1]!r} is listed twice")
        graph.add_edge(*ends, **attributes)


def _end(record, index, end):
    what = f"edge {index}'s {end}"
    return _hashable(_decode(record[end], what, 0), what)


def _decode_attributes(record, what, fields):
    return {name: _decode(value, f"{what}'s {name!r}", 0) for name, value in record.items() if name not in fields}


def _decode(value, what, depth):
    """JSON data back to Python values: the inverse of :func:`_encode`, checking every tag."""
    if depth > MAX_DEPTH:
        raise _Invalid(f"{what} nests more than {MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [_decode(item, what, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    tags = [key for key in value if key.startswith("$")]
    if not tags:
        return {key: _decode(item, what, depth + 1) for key, item in value.items()}
    if len(value) != 1 or tags[0] not in _TAGS:
        raise _Invalid(f"{what} has the unknown tag {tags[0]!r} (pathad writes $tuple, $dict and $float)")
    return _TAGS[tags[0]](value[tags[0]], what, depth)


def _decode_tuple(items, what, depth):
    if not isinstance(items, list):
        raise _Invalid(f"{what}: $tuple must hold a list, got {_kind(items)}")
    return tuple(_decode(item, what, depth + 1) for item in items)


def _decode_dict(pairs, what, depth):
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise _Invalid(f"{what}: $dict must hold a list of [key, value] pairs")
    result = {}
    for key, item in pairs:
        key = _hashable(_decode(key, what, depth + 1), f"{what}'s key")
        if key in result:
            raise _Invalid(f"{what}: the key {key!r} appears twice")
        result[key] = _decode(item, what, depth + 1)
    return result


def _decode_float(text, what, depth):
    if text not in ("inf", "-inf", "nan"):
        raise _Invalid(f'{what}: $float must be "inf", "-inf" or "nan", got {text!r}')
    return float(text)


_TAGS = {"$tuple": _decode_tuple, "$dict": _decode_dict, "$float": _decode_float}


def _hashable(value, what):
    if value is None:
        raise _Invalid(f"{what} must not be null")
    try:
        hash(value)
    except TypeError:
        raise _Invalid(f"{what} must be a number, text or a tuple of them, got {_kind(value)}") from None
    return value


def _kind(value):
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _kind_name(kind):
    return {dict: "an object", list: "a list", bool: "a boolean (true or false)", str: "a string", int: "an integer"}[
        kind
    ]


# --- traces ---------------------------------------------------------------------


def _check_trace(graph, record, prefix):
    """Raise _Invalid (or GraphFileError with ``prefix``) unless graph and record form a trace."""
    try:
        _check_record(record)
        _check_trace_graph(graph, record)
    except _Invalid as exc:
        if prefix:
            raise GraphFileError(f"{prefix}{exc}") from None
        raise


def _check_record(record):
    if not isinstance(record, dict):
        raise _Invalid(f"the trace record must be an object, got {_kind(record)}")
    missing = [key for key in ("name", "inputs", "outputs", "structure", "guards") if key not in record]
    if missing:
        raise _Invalid(f"the trace record lacks {', '.join(missing)}")
    if not isinstance(record.get("name"), str):
        raise _Invalid("the trace's name must be a string")
    for name in ("inputs", "outputs", "guards"):
        if not isinstance(record.get(name), list):
            raise _Invalid(f"the trace's {name} must be a list")
    if not all(_is_input(pair) for pair in record["inputs"]):
        raise _Invalid("the trace's inputs must be [name, node id] pairs")
    if len({p[0] for p in record["inputs"]}) != len(record["inputs"]):
        raise _Invalid("two of the trace's inputs have the same name")
    if not record["outputs"] or not all(_is_id(n) for n in record["outputs"]):
        raise _Invalid("the trace's outputs must be a non-empty list of node ids")
    structure = record.get("structure")
    if structure == "tree":
        if "tree" not in record:
            raise _Invalid('the trace\'s structure is "tree" but it has no "tree"')
        size = _tree_size(record["tree"], 0)
        if size != len(record["outputs"]):
            raise _Invalid(f"the trace's tree holds {size} outputs, not {len(record['outputs'])}")
    elif not (structure in (None, "tuple", "list") or _is_keys(structure, len(record["outputs"]))):
        raise _Invalid(f'the trace\'s structure must be null, "tuple", "list" or its output keys, got {structure!r}')
    if structure is None and len(record["outputs"]) != 1:
        raise _Invalid("a trace with one result (structure null) must have exactly one output")
    if "arguments" in record:
        _check_arguments(record["arguments"], record["inputs"])


def _tree_size(tree, depth):
    """The number of outputs an output tree holds; _Invalid unless it is one."""
    if depth > MAX_DEPTH:
        raise _Invalid(f"the trace's tree nests more than {MAX_DEPTH} levels deep")
    if tree is None:
        return 1
    bad = _Invalid(
        f"the trace's tree has the part {tree!r}; a part is null, (array, shape) or (tuple|list|dict, parts)"
    )
    if not (isinstance(tree, tuple) and len(tree) == 2 and isinstance(tree[1], tuple)):
        raise bad
    kind, content = tree
    if kind == "array":
        if not all(_is_id(n) for n in content):
            raise bad
        return math.prod(content)
    if kind in ("tuple", "list"):
        return sum(_tree_size(child, depth + 1) for child in content)
    if kind == "dict" and all(isinstance(item, tuple) and len(item) == 2 for item in content):
        try:
            if len({key for key, _ in content}) != len(content):
                raise bad
        except TypeError:
            raise bad from None
        return sum(_tree_size(child, depth + 1) for _, child in content)
    raise bad


def _check_arguments(arguments, inputs):
    """The arguments must be [name, shape or null, node id(s)] covering every input exactly once."""
    if not isinstance(arguments, list):
        raise _Invalid("the trace's arguments must be a list")
    covered = []
    for item in arguments:
        ok = isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
        if ok and item[1] is None:
            ok = _is_id(item[2])
            covered.append(item[2])
        elif ok:
            ok = (isinstance(item[1], list) and all(_is_id(n) for n in item[1]) and isinstance(item[2], list)
                  and all(_is_id(n) for n in item[2]) and len(item[2]) == math.prod(item[1]))  # fmt: skip
            covered.extend(item[2] if ok else [])
        if not ok:
            raise _Invalid(f"the trace's argument {item!r} is not [name, shape or null, node id or ids]")
    if len({item[0] for item in arguments}) != len(arguments):
        raise _Invalid("two of the trace's arguments have the same name")
    if sorted(covered) != sorted(node for _, node in inputs):
        raise _Invalid("the trace's arguments do not hold each of its inputs exactly once")


def _is_input(pair):
    return isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and _is_id(pair[1])


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_keys(structure, count):
    if not isinstance(structure, list) or len(structure) != count:
        return False
    try:
        return len(set(structure)) == count
    except TypeError:
        return False


def _check_trace_graph(graph, record):
    if not isinstance(graph, nx.MultiDiGraph):
        raise _Invalid("a trace's graph must be directed and a multigraph")
    n = graph.number_of_nodes()
    if set(graph) != set(range(n)) or not all(_is_id(node) for node in graph):
        raise _Invalid(f"a trace's nodes must be the integers 0 .. {n - 1}")
    for node, data in graph.nodes(data=True):
        _check_node(graph, node, data)
    inputs = {node for node, op in graph.nodes(data="op") if op == "input"}
    named = [node for _, node in record["inputs"]]
    if set(named) != inputs or len(named) != len(inputs):
        raise _Invalid(f"the trace's inputs {record['inputs']} are not exactly its input nodes {sorted(inputs)}")
    for node in record["outputs"]:
        if node >= n:
            raise _Invalid(f"the trace's output {node} is not a node")
    for guard in record["guards"]:
        _check_guard(guard, n)
    for node, data in graph.nodes(data=True):
        if data["op"] != "input":
            _check_numbers(graph, node, data)


#: Stored and recomputed numbers agree when within this relative difference (rounding, another backend's last bit).
_AGREE = 1e-12


def _check_numbers(graph, node, data):
    """The node's value and the partials on its in-edges must be what its operation gives from its operands.

    Each is recomputed with the primitive table's rules from the stored values
    (``PRIMITIVES[op].partials[j](FLOAT, *operands, value)``), so a file whose
    numbers were edited, or do not belong together, is refused naming the node.
    """
    primitive = PRIMITIVES[data["op"]]
    operands = [0.0] * primitive.arity
    for position, value in data.get("consts", ()):
        operands[position] = float(value)
    edges = list(graph.in_edges(node, keys=True, data="partial"))
    for u, _, arg, _ in edges:
        operands[arg] = float(graph.nodes[u]["value"])
    value = float(data["value"])
    label = f"node {node} ({data['op']}, operands {', '.join(map(repr, operands))})"
    try:
        expected = float(primitive.value(FLOAT, *operands))
    except (ArithmeticError, ValueError) as exc:
        raise _Invalid(f"{label}: its operation fails on its stored operands ({exc})") from None
    if not _agrees(value, expected):
        raise _Invalid(f"{label} stores the value {value!r}, but {data['op']} of its operands is {expected!r}")
    for u, _, arg, partial in edges:
        try:
            expected = float(primitive.partials[arg](FLOAT, *operands, value))
        except (ArithmeticError, ValueError) as exc:
            raise _Invalid(f"{label}: its partial in operand {arg} fails ({exc})") from None
        if not _agrees(float(partial), expected):
            raise _Invalid(
                f"edge {u} -> {node} stores the partial {partial!r}, but ∂{data['op']}/∂operand {arg} at "
                f"{label} is {expected!r}"
            )


def _agrees(stored, recomputed):
    return stored == recomputed or abs(stored - recomputed) <= _AGREE * max(abs(stored), abs(recomputed))


def _check_node(graph, node, data):
    label = f"node {node}"
    op = data.get("op")
    if not isinstance(op, str) or (op != "input" and op not in PRIMITIVES):
        known = ", ".join(PRIMITIVES)
        raise _Invalid(f"{label} has op {op!r}, which is not a pathad primitive (known: input, {known})")
    _check_finite(data.get("value"), f"{label}'s value")
    if not isinstance(data.get("label"), str):
        raise _Invalid(f"{label}'s label must be a string, got {data.get('label')!r}")
    arity = 0 if op == "input" else PRIMITIVES[op].arity
    positions = [_check_const(item, arity, label) for item in _consts(data, label)]
    for u, _, key, edge in graph.in_edges(node, keys=True, data=True):
        positions.append(_check_edge(u, node, key, edge, arity, op))
    if sorted(positions) != list(range(arity)):
        given = sorted(positions)
        raise _Invalid(
            f"{label} ({op}) needs operands 0 .. {arity - 1} once each; its edges and constants give {given}"
        )


def _consts(data, label):
    consts = data.get("consts", ())
    if not isinstance(consts, tuple):
        raise _Invalid(f"{label}'s consts must be a tuple of (position, value) pairs, got {consts!r}")
    return consts


def _check_const(item, arity, label):
    if not (isinstance(item, tuple) and len(item) == 2 and _is_id(item[0]) and item[0] < arity):
        raise _Invalid(f"{label} has the constant {item!r}; a constant is (operand position, value)")
    _check_finite(item[1], f"{label}'s constant")
    return item[0]


def _check_edge(u, v, key, edge, arity, op):
    label = f"edge {u} -> {v}"
    if not (isinstance(u, int) and u < v):
        raise _Invalid(f"{label} runs backwards: a trace's edges go from earlier to later nodes")
    arg = edge.get("arg")
    if not (_is_id(arg) and arg < arity and key == arg):
        wanted = f"both must be the operand position of {op} (< {arity})"
        raise _Invalid(f"{label} has arg {arg!r} and key {key!r}; {wanted}")
    _check_finite(edge.get("partial"), f"{label}'s partial")
    return arg


def _check_finite(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise _Invalid(f"{what} must be a finite number, got {value!r}")


def _check_guard(guard, n):
    ok = isinstance(guard, (list, tuple)) and len(guard) == 5
    if ok:
        op, left, right, constant, outcome = guard
        ok = (
            isinstance(op, str)
            and op in _COMPARISONS
            and _is_id(left)
            and left < n
            and isinstance(outcome, bool)
            and ((right is None) != (constant is None))
            and (right is None or (_is_id(right) and right < n))
            and (constant is None or (isinstance(constant, numbers.Real) and not isinstance(constant, bool)))
        )
    if not ok:
        raise _Invalid(f"the guard {guard!r} is not [comparison, node, node or null, number or null, outcome]")
    if constant is not None and not math.isfinite(constant):
        raise _Invalid(f"the guard {guard!r} on node {left} compares with {constant!r}; its constant must be finite")


def _trace(graph, record):
    """The Trace of a checked graph: its tape rebuilt, then every attribute of the file's graph on it."""
    tape = Tape()
    for node in range(graph.number_of_nodes()):
        data = graph.nodes[node]
        tape.ops.append(data["op"])
        tape.values.append(float(data["value"]))
        if data["label"] != f"v{node}":
            tape.labels[node] = data["label"]
        if data.get("consts"):
            tape.consts[node] = tuple((position, float(value)) for position, value in data["consts"])
    for u, v, key, partial in sorted(graph.edges(keys=True, data="partial"), key=lambda e: (e[1], e[2])):
        tape.src.append(u)
        tape.dst.append(v)
        tape.arg.append(key)
        tape.partial.append(float(partial))
    tape.guards.extend(Guard(*guard) for guard in record["guards"])
    structure = record["structure"]
    structure = tuple(structure) if isinstance(structure, list) else structure
    if structure == "tree":
        structure = record["tree"]
    arguments = None
    if "arguments" in record:
        arguments = {
            name: nodes if shape is None else np.array(nodes, dtype=np.int64).reshape(shape)
            for name, shape, nodes in record["arguments"]
        }
    tr = Trace(record["name"], tape, dict(record["inputs"]), list(record["outputs"]), structure, arguments)
    _copy_attributes(graph, tr.graph)
    return tr


def _copy_attributes(source, target):
    target.graph.update(source.graph)
    for node, data in source.nodes(data=True):
        target.nodes[node].update(data)
    for u, v, key, data in source.edges(keys=True, data=True):
        target.edges[u, v, key].update(data)


# --- GraphML ----------------------------------------------------------------------
#
# to_graphml streams the document: the keys first (found in a first pass over the attributes, numbered in
# networkx's order), then node after node and edge after edge, a chunk at a time, so that writing takes no
# memory to speak of beyond the graph.  A trace whose networkx graph was never built is written from its tape
# without building it.  The file is the one networkx.write_graphml writes for the same plain-valued graph,
# byte for byte, except that a carriage return in text is kept (written &#13;; networkx's file loses it).
# read_graphml reads such files back as networkx.read_graphml does, element by element.

_GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"
_GRAPHML_HEADER = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns'
    ' http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)

#: Nodes or edges written to the file at a time.
_CHUNK = 8192

_NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"  # characters XML 1.0 cannot hold, even escaped
_NOT_XML_CHARACTER = re.compile(f"[{_NOT_XML}]")
_TEXT_SPECIAL = re.compile(f"[&<>\r{_NOT_XML}]")
_ATTRIBUTE_SPECIAL = re.compile(f'[&<>"\t\n\r{_NOT_XML}]')
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
)


def to_graphml(obj: GraphLike, path: FilePath) -> Path:
    """Export a trace or a networkx graph as GraphML for other graph tools; return the path.

    Numbers, text and booleans are written as GraphML attributes; tuples,
    lists and dicts (a node's ``consts``, say) as JSON text; None is left out.
    A trace's name, inputs and outputs become graph attributes.  The file is
    the one ``networkx.write_graphml`` writes (``networkx.read_graphml`` and
    :func:`read_graphml` read it), written element by element: a trace whose
    graph was never built is written straight from its tape, without
    building the graph, and memory stays flat however large the graph is.
    Like every file pathad writes, it is complete or not there at all.

    Parameters
    ----------
    obj : Trace or networkx graph
    path : str or pathlib.Path

    Returns
    -------
    pathlib.Path

    Raises
    ------
    GraphFileError
        If an attribute holds a value that is neither a number, text, a
        boolean nor JSON data, or text with a character XML 1.0 cannot hold
        (a control character other than tab, newline and carriage return);
        the message names it.
    TypeError
        If ``obj`` is neither a trace nor a networkx graph.

    Examples
    --------
    >>> import os, tempfile, networkx as nx
    >>> from pathad.tracing import trace
    >>> path = to_graphml(trace(lambda x: 2.0 * x, 3.0), os.path.join(tempfile.mkdtemp(), "f.graphml"))
    >>> G = nx.read_graphml(path)
    >>> G.nodes["1"]["op"], G.nodes["1"]["consts"], G.graph["inputs"]
    ('mul', '[[0, 2.0]]', '{"x": 0}')
    """
    path = Path(path)
    where = str(path)
    if isinstance(obj, Trace) and "graph" not in obj.__dict__:  # never built: write from the tape
        writer = _GraphMLWriter(where, True, True, _trace_graph_data(obj, {}))
        with replacing(path) as file:
            writer.write_tape(file, obj.tape)
        return path
    graph = obj.graph if isinstance(obj, Trace) else obj
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"to_graphml needs a pathad Trace or a networkx graph, got {type(obj).__name__}")
    data = _trace_graph_data(obj, graph.graph) if isinstance(obj, Trace) else dict(graph.graph)
    writer = _GraphMLWriter(where, graph.is_directed(), graph.is_multigraph(), data)
    with replacing(path) as file:
        writer.write(file, lambda: graph.nodes(data=True), lambda: _edges(graph))
    return path


def _trace_graph_data(tr, attributes):
    data = {name: value for name, value in attributes.items() if value is not None}
    data.update(name=tr.name, inputs=json.dumps(tr.inputs), outputs=json.dumps(tr.outputs))
    return data


class _Unwritable(Exception):
    """Text with a character XML cannot hold (the caller says whose text it is)."""


def _xml_text(text):
    """``text`` escaped for element content."""
    if _TEXT_SPECIAL.search(text) is None:
        return text
    _check_characters(text)
    return text.translate(_TEXT_ESCAPES)


def _xml_attribute(text):
    """``text`` escaped for a double-quoted attribute value."""
    if _ATTRIBUTE_SPECIAL.search(text) is None:
        return text
    _check_characters(text)
    return text.translate(_ATTRIBUTE_ESCAPES)


def _check_characters(text):
    bad = _NOT_XML_CHARACTER.search(text)
    if bad is not None:
        raise _Unwritable(f"holds the character {bad.group()!r}, which XML 1.0 cannot hold")


def _boolean_text(value):
    return "True" if value else "False"


#: GraphML type and text of the values written as they are, by exact type (text is escaped).
_KINDS = {bool: "boolean", int: "long", float: "double", str: "string"}
_TEXTS = {bool: _boolean_text, int: int.__repr__, float: float.__repr__, str: _xml_text}


def _graphml_kind(value):
    """The GraphML type a value is written as (None for None, which is left out)."""
    kind = _KINDS.get(value.__class__)
    if kind is not None or value is None:
        return kind
    if isinstance(value, np.generic):
        return _graphml_kind(value.item())
    return next((_KINDS[base] for base in _KINDS if isinstance(value, base)), "string")  # JSON text


def _graphml_value(value, what):
    """(GraphML type, escaped text) of a value, None for None: numbers, text and booleans as they are, else JSON.

    ``what()`` names the value, for an error.
    """
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    for base in _KINDS:  # bool before int
        if isinstance(value, base):
            return _KINDS[base], _TEXTS[base](str.__str__(value) if base is str else value)
    return "string", _xml_text(_json_text(value, what))


def _json_text(value, what):
    """A tuple, list or dict as JSON text (tuples as lists); ``what()`` names it, for an error."""
    text = _pairs_json(value)
    return json.dumps(_untagged(_encode(value, what(), 0)), allow_nan=False) if text is None else text


def _pairs_json(value):
    """The JSON text of a tuple of (int, finite float) pairs, as a node's ``consts`` are (else None), quickly."""
    if value.__class__ is not tuple:
        return None
    if not value:
        return "[]"
    for pair in value:
        if not (
            pair.__class__ is tuple
            and len(pair) == 2
            and pair[0].__class__ is int
            and pair[1].__class__ is float
            and math.isfinite(pair[1])
        ):
            return None
    return "[" + ", ".join([f"[{position}, {constant!r}]" for position, constant in value]) + "]"


def _untagged(value):
    """JSON data with $tuple written as a plain list (GraphML readers see ordinary JSON)."""
    if isinstance(value, list):
        return [_untagged(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"$tuple"}:
            return _untagged(value["$tuple"])
        return {key: _untagged(item) for key, item in value.items()}
    return value


class _GraphMLWriter:
    """One GraphML document: its keys, numbered as networkx numbers them, and its elements, written in chunks.

    ``graph_data`` holds the graph's attributes; as networkx does, an ``id``
    becomes the graph element's id and dicts ``node_default`` and
    ``edge_default`` the keys' default values.
    """

    def __init__(self, where, directed, multigraph, graph_data):
        self.where = where
        self.directed, self.multigraph = directed, multigraph
        graph_data = dict(graph_data)
        self.graph_id = graph_data.pop("id", None)
        self.defaults = {"graph": {}}
        for scope in ("node", "edge"):
            default = graph_data.get(f"{scope}_default")
            self.defaults[scope] = graph_data.pop(f"{scope}_default") if isinstance(default, dict) else {}
        self.graph_data = graph_data
        self.keys = {}  # (name, GraphML type, scope) -> key id
        self.key_lines = []  # the <key> elements, in the order they were numbered
        self.tags = {}  # (scope, name, GraphML type) -> (<data key=...> opening tag, empty <data> element)
        self.fast = {"graph": {}, "node": {}, "edge": {}}  # scope -> {(name, exact type): (opening, empty, text)}

    # --- keys ---

    def register(self, scope, items):
        """Number the keys of the attributes in ``items`` (dicts) in order; return how many items there were."""
        seen = set()  # (name, type) of the values whose GraphML type their Python type tells
        count = 0
        for count, data in enumerate(items, 1):  # noqa: B007 - count is the result
            for name, value in data.items():
                if (name, value.__class__) in seen:
                    continue
                if not isinstance(value, np.generic):  # the type of a numpy scalar's item() may vary
                    seen.add((name, value.__class__))
                kind = _graphml_kind(value)
                if kind is not None:
                    self.key(name, kind, scope)
        return count

    def key(self, name, kind, scope):
        """The id of the key for attribute ``name`` of GraphML type ``kind`` on ``scope``; a new one if need be."""
        name = str(name)
        found = self.keys.get((name, kind, scope))
        if found is not None:
            return found
        identifier = self.keys[name, kind, scope] = f"d{len(self.keys)}"
        try:
            attributes = f'id="{identifier}" for="{scope}" attr.name="{_xml_attribute(name)}" attr.type="{kind}"'
        except _Unwritable as exc:
            raise GraphFileError(f"{self.where}: the {scope} attribute name {name!r} {exc}") from None
        default = self.defaults[scope].get(name)
        if default is None:
            self.key_lines.append(f"  <key {attributes} />\n")
        else:
            text = self._value(default, f"graph attribute '{scope}_default'", None, name)[1]  # (type, text)
            default = f"    <default>{text}</default>\n" if text else "    <default />\n"
            self.key_lines.append(f"  <key {attributes}>\n{default}  </key>\n")
        return identifier

    def header(self, empty):
        """The document up to the graph's content (the whole graph element if ``empty``)."""
        graph = f'  <graph edgedefault="{"directed" if self.directed else "undirected"}"'
        if self.graph_id is not None:
            graph += f' id="{self._id(self.graph_id, "graph", None)}"'
        return _GRAPHML_HEADER + "".join(reversed(self.key_lines)) + graph + (" />\n" if empty else ">\n")

    def _id(self, value, kind, element):
        """A node id, an edge key or the graph id (``kind`` "node", "key" or "graph") as attribute text."""
        if value.__class__ is int:
            return int.__repr__(value)
        try:
            return _xml_attribute(str(value))
        except _Unwritable as exc:
            what = {"node": f"node {element!r}: its id", "graph": "the graph's id"}.get(kind)
            what = what or f"edge {element[0]!r} -> {element[1]!r}: its key"
            raise GraphFileError(f"{self.where}: {what} {exc}") from None

    def _what(self, scope, element):
        """The start of an error message about an attribute of ``element`` (a node, an edge (u, v) or None)."""
        if scope == "node":
            return f"{self.where}: node {element!r} attribute"
        if scope == "edge":
            return f"{self.where}: edge {element[0]!r} -> {element[1]!r} attribute"
        return f"{self.where}: graph attribute" if scope == "graph" else f"{self.where}: {scope}"

    # --- elements ---

    def write(self, file, nodes, edges):
        """Write the document; ``nodes`` and ``edges`` give iterators of (node, data) and (u, v, key, data)."""
        self.register("graph", [self.graph_data])
        has_nodes = self.register("node", (data for _, data in nodes()))
        self.register("edge", (data for _, _, _, data in edges()))
        graph_lines = []
        self.data("graph", self.graph_data, graph_lines, "    ", None)
        empty = not (has_nodes or graph_lines)
        file.write(self.header(empty))
        for chunk in _chunks(nodes()):
            file.write(self._nodes(chunk))
        for chunk in _chunks(edges()):
            file.write(self._edges(chunk))
        file.write("".join(graph_lines) + ("</graphml>\n" if empty else "  </graph>\n</graphml>\n"))

    # (the loops are functions of their own, short ones: tracemalloc finds their lines faster)

    def _nodes(self, chunk):
        parts = []
        for node, data in chunk:
            self.element(parts, f'    <node id="{self._id(node, "node", node)}"', "    </node>\n", "node", data, node)
        return "".join(parts)

    def _edges(self, chunk):
        parts = []
        for u, v, key, data in chunk:
            opening = f'    <edge source="{self._id(u, "node", u)}" target="{self._id(v, "node", v)}"'
            if self.multigraph:
                opening += f' id="{self._id(key, "key", (u, v))}"'
            self.element(parts, opening, "    </edge>\n", "edge", data, (u, v))
        return "".join(parts)

    def element(self, parts, opening, closing, scope, data, element):
        """Append a node or an edge: its opening tag, its data and its closing tag, or one empty element."""
        start = len(parts)
        parts.append(opening + ">\n")
        if self.data(scope, data, parts, "      ", element):
            parts.append(closing)
        else:
            parts[start] = opening + " />\n"

    def data(self, scope, data, parts, indent, element):
        """Append a <data> element for each attribute that is not None; return how many there were."""
        fast = self.fast[scope]
        count = len(parts)
        for name, value in data.items():
            entry = fast.get((name, value.__class__))
            if entry is None:
                written = self._value(value, scope, element, name, indent)
                if written is None:
                    continue
                (opening, empty), text = written
                if value.__class__ in _TEXTS:
                    fast[name, value.__class__] = (opening, empty, _TEXTS[value.__class__])
            else:
                opening, empty, convert = entry
                try:
                    text = convert(value)
                except _Unwritable as exc:
                    raise GraphFileError(f"{self._what(scope, element)} {name!r} {exc}") from None
            parts.append(f"{opening}{text}</data>\n" if text else empty)
        return len(parts) - count

    def _value(self, value, scope, element, name, indent=None):
        """((opening, empty) tags of its <data>, escaped text) of an attribute value, None for None.

        Without ``indent``, (GraphML type, escaped text) instead.
        """

        def what():
            return f"{self._what(scope, element)} {name!r}"

        try:
            written = _graphml_value(value, what)
        except _Unwritable as exc:
            raise GraphFileError(f"{what()} {exc}") from None
        if written is None or indent is None:
            return written
        kind, text = written
        tags = self.tags.get((scope, name, kind))
        if tags is None:
            key = self.keys[str(name), kind, scope]
            tags = self.tags[scope, name, kind] = (f'{indent}<data key="{key}">', f'{indent}<data key="{key}" />\n')
        return tags, text

    # --- a trace's tape ---

    def write_tape(self, file, tape):
        """Write a trace's graph from its tape, as :meth:`write` writes ``tr.graph`` (the same bytes)."""
        ops, values, labels, consts = tape.ops, tape.values, tape.labels, tape.consts
        src, dst, arg, partial = tape.src, tape.dst, tape.arg, tape.partial
        plain = (
            _all(ops, str)
            and _all(labels.values(), str)
            and "" not in labels.values()
            and _all(values, float)
            and _all(consts.values(), tuple)
            and _all(src, int)
            and _all(dst, int)
            and _all(arg, int)
            and _all(partial, float)
        )
        if not plain or "" in set(ops):  # values of other types: the general writer, fed from the tape
            self.write(file, lambda: _tape_node_items(tape), lambda: _tape_edge_items(tape))
            return
        self.register("graph", [self.graph_data])
        self.register("node", [{"op": "", "value": 0.0, "label": "", "consts": ()}])
        if len(src):
            self.register("edge", [{"partial": 0.0, "arg": 0}])
        graph_lines = []
        self.data("graph", self.graph_data, graph_lines, "    ", None)
        file.write(self.header(False))
        key = {name: self.keys[name, kind, "node"] for name, kind in _TAPE_NODE_KEYS}
        node_line = (
            '    <node id="%d">\n'
            f'      <data key="{key["op"]}">%s</data>\n'
            f'      <data key="{key["value"]}">%r</data>\n'
            f'      <data key="{key["label"]}">%s</data>\n'
            f'      <data key="{key["consts"]}">%s</data>\n'
            "    </node>\n"
        )
        unlabeled_line = node_line.replace(f'<data key="{key["label"]}">%s', f'<data key="{key["label"]}">v%d')
        op_texts = {
            op: self._tape_text(op, "op", lambda op=op: next(i for i, o in enumerate(ops) if o == op))
            for op in set(ops)
        }
        label_texts = {node: self._tape_text(label, "label", lambda node=node: node) for node, label in labels.items()}
        consts_texts = {}  # constants -> their text, for the first few thousand different ones
        lines = (node_line, unlabeled_line)
        for start in range(0, len(ops), _CHUNK):
            stop = min(start + _CHUNK, len(ops))
            file.write(self._tape_nodes(tape, start, stop, lines, op_texts, label_texts, consts_texts))
        if len(src):
            key = {name: self.keys[name, kind, "edge"] for name, kind in (("partial", "double"), ("arg", "long"))}
            edge_line = (
                '    <edge source="%d" target="%d" id="%d">\n'
                f'      <data key="{key["partial"]}">%r</data>\n'
                f'      <data key="{key["arg"]}">%d</data>\n'
                "    </edge>\n"
            )
            order = _tape_edge_order(tape)
            for start in range(0, len(order), _CHUNK):
                file.write(_tape_edge_lines(tape, order[start : start + _CHUNK].tolist(), edge_line))
        file.write("".join(graph_lines) + "  </graph>\n</graphml>\n")

    def _tape_nodes(self, tape, start, stop, lines, op_texts, label_texts, consts_texts):
        """The text of nodes ``start`` to ``stop`` (a function of its own: tracemalloc finds lines faster)."""
        node_line, unlabeled_line = lines
        ops, values, consts = tape.ops, tape.values, tape.consts
        parts = []
        for node in range(start, stop):
            constants = consts.get(node)
            if constants is None:
                constants = "[]"
            else:
                text = consts_texts.get(constants)
                if text is None:
                    text = self._tape_consts(constants, node)
                    if len(consts_texts) < 4096:
                        consts_texts[constants] = text
                constants = text
            label = label_texts.get(node)
            if label is None:
                parts.append(unlabeled_line % (node, op_texts[ops[node]], values[node], node, constants))
            else:
                parts.append(node_line % (node, op_texts[ops[node]], values[node], label, constants))
        return "".join(parts)

    def _tape_text(self, text, name, node):
        """Escaped text of a node's attribute ``name`` (``node()`` is the node, for an error)."""
        try:
            return _xml_text(text)
        except _Unwritable as exc:
            raise GraphFileError(f"{self.where}: node {node()!r} attribute {name!r} {exc}") from None

    def _tape_consts(self, constants, node):
        text = _pairs_json(constants)
        if text is None:
            text = _xml_text(_json_text(constants, lambda: f"{self.where}: node {node!r} attribute 'consts'"))
        return text


_TAPE_NODE_KEYS = (("op", "string"), ("value", "double"), ("label", "string"), ("consts", "string"))


def _chunks(items):
    """Lists of up to _CHUNK of the items."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, _CHUNK)):
        yield chunk


def _all(items, kind):
    """Whether every item is exactly of type ``kind``."""
    return all(item.__class__ is kind for item in items)


def _tape_edge_lines(tape, indices, edge_line):
    """The text of the tape's edges ``indices``."""
    src, dst, arg, partial = tape.src, tape.dst, tape.arg, tape.partial
    parts = []
    for k in indices:
        position = arg[k]
        parts.append(edge_line % (src[k], dst[k], position, partial[k], position))
    return "".join(parts)


def _tape_node_items(tape):
    """(node, data) of a tape's nodes, as ``tr.graph.nodes(data=True)`` gives them."""
    labels, consts = tape.labels, tape.consts
    for node, (op, value) in enumerate(zip(tape.ops, tape.values)):
        yield node, {"op": op, "value": value, "label": labels.get(node, f"v{node}"), "consts": consts.get(node, ())}


def _tape_edge_items(tape):
    """(u, v, key, data) of a tape's edges, as ``tr.graph.edges(keys=True, data=True)`` gives them."""
    src, dst, arg, partial = tape.src, tape.dst, tape.arg, tape.partial
    order = _tape_edge_order(tape)
    for start in range(0, len(order), _CHUNK):
        for k in order[start : start + _CHUNK].tolist():
            yield src[k], dst[k], arg[k], {"partial": partial[k], "arg": arg[k]}


def _tape_edge_order(tape):
    """The tape's edge indices in the order of ``tr.graph``'s edges.

    The graph keeps the edges by source node, then by target in the order the
    tape first joins the two, then in tape order: the order of its adjacency
    dicts, which the tape fills edge after edge.
    """
    if not len(tape.src):
        return np.zeros(0, dtype=np.int64)
    src = np.asarray(tape.src, dtype=np.int64)
    dst = np.asarray(tape.dst, dtype=np.int64)
    _, first, pair = np.unique(src * (int(dst.max()) + 1) + dst, return_index=True, return_inverse=True)
    return np.lexsort((first[pair.ravel()], src))


# --- reading GraphML ---------------------------------------------------------------

_RAW_ID = object()  # an edge-data key no file can hold: the edge's GraphML id, until the graph's class is known


class _Unusual(Exception):
    """GraphML that read_graphml leaves to networkx.read_graphml."""


def read_graphml(path, node_type=str, edge_key_type=int, force_multigraph=False):
    """Read a GraphML file as ``networkx.read_graphml`` does, element by element.

    The graph is the one ``networkx.read_graphml`` returns (the same class,
    nodes, edges, attributes, keys and order), but the file is never held in
    memory as a whole document: reading takes little more memory than the
    graph.  Files written by :func:`to_graphml` and any GraphML of keys,
    nodes, edges and data read this way; GraphML that networkx reads in its
    own ways (yEd's extensions, ports, nested graphs, hyperedges, several
    graphs, keys after the graph) and files with errors are handed to
    ``networkx.read_graphml``, so the result, or the error, is networkx's.

    Parameters
    ----------
    path : str, pathlib.Path or binary file
        A name ending in ``.gz`` or ``.bz2`` is read decompressed, as networkx does.
    node_type : callable
        Makes a node from its GraphML id.
    edge_key_type : callable
        Makes a multigraph's edge key from the edge's GraphML id.
    force_multigraph : bool
        Return a multigraph even if no two edges join the same nodes.

    Returns
    -------
    networkx graph
        A ``MultiDiGraph`` (``MultiGraph`` if undirected), or a ``DiGraph``
        (``Graph``) with the edge ids as attribute ``id`` if no two edges join
        the same nodes.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathad.tracing import trace
    >>> path = to_graphml(trace(lambda x: x * x, 3.0), os.path.join(tempfile.mkdtemp(), "sq.graphml"))
    >>> G = read_graphml(path)
    >>> type(G).__name__, G.nodes["1"]["value"], sorted(G.edges(keys=True, data="partial"))
    ('MultiDiGraph', 9.0, [('0', '1', 0, 3.0), ('0', '1', 1, 3.0)])
    """
    with _graphml_source(path) as source:
        start = source.tell() if source.seekable() else None
        try:
            with gc_paused():  # millions of dicts that cannot form cycles
                return _StreamingReader(node_type, edge_key_type, force_multigraph).read(source)
        except ET.ParseError:
            raise  # not XML: networkx's parser would say the same
        except _Unusual as exc:
            if start is None:
                raise nx.NetworkXError(
                    f"read_graphml leaves GraphML with {exc} to networkx.read_graphml, which reads the file from "
                    "its start: give a path or a seekable file"
                ) from None
        except Exception:  # networkx's way with this file: its error
            if start is None:
                raise
        source.seek(start)
        return nx.read_graphml(
            source, node_type=node_type, edge_key_type=edge_key_type, force_multigraph=force_multigraph
        )


@contextmanager
def _graphml_source(path):
    """A binary file of ``path`` (decompressed for .gz and .bz2 names, as networkx's reader does)."""
    if hasattr(path, "read"):
        yield path
        return
    name = os.fspath(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(Path(name).suffix, open)
    with opener(name, "rb") as file:
        yield file


_KEY, _GRAPH, _NODE, _EDGE, _DATA, _DEFAULT, _ROOT = (
    _GRAPHML_NS + name for name in ("key", "graph", "node", "edge", "data", "default", "graphml")
)

#: Bytes the reader parses at a time.
_READ_CHUNK = 1 << 18

#: How many different texts the reader keeps one string object for (texts that come again share it).
_SHARED = 1 << 16


def _graphml_boolean(text):
    """A GraphML boolean as networkx reads it."""
    return nx.readwrite.graphml.GraphML.convert_bool[text.lower()]


class _StreamingReader:
    """networkx's GraphMLReader for one graph, taking each node and edge as soon as it is parsed.

    The parser builds the document tree as usual; after each chunk of the
    file, the graph element's finished children are read into the graph and
    dropped from the tree, so the tree never holds more than a chunk.
    """

    def __init__(self, node_type, edge_key_type, force_multigraph):
        self.node_type, self.edge_key_type, self.multigraph = node_type, edge_key_type, force_multigraph
        types = nx.readwrite.graphml.GraphML()
        types.construct_types()
        self.python_type = types.python_type
        self.keys = {}  # key id -> (attribute name, converter of its text or None, Python type, for)
        self.defaults = {}  # key id -> default value
        self.G = None
        self.graph_data = {}
        self.edges_begun = False
        self.shared = {}  # text -> the one string object kept for it

    def read(self, source):
        parser = ET.XMLPullParser(events=("start",))
        root = graph = None
        while chunk := source.read(_READ_CHUNK):
            parser.feed(chunk)
            if graph is None:
                for _, element in parser.read_events():
                    if root is None:
                        root = element
                        if root.tag != _ROOT:
                            raise _Unusual("not a GraphML document")
                    elif element.tag == _GRAPH:
                        graph = element
                        self.begin(root, graph)
                        break
            if graph is not None:
                deque(parser.read_events(), maxlen=0)  # the parser's events are not needed any more
                self.take(graph, len(graph) - 1)  # all but the last are finished
        parser.close()
        if graph is None:
            raise _Unusual("no graph")
        self.take(graph, len(graph))
        if root[-1] is not graph:
            raise _Unusual("elements after the graph")
        self.G.graph.update(self.graph_data)
        return _settled(self.G, self.multigraph)

    def begin(self, root, graph):
        """Read the keys (the root's elements before the graph) and start the graph."""
        for element in root:
            if element is graph:
                break
            if element.tag != _KEY:
                raise _Unusual(f"the element {element.tag} before the graph")
            self.key(element)
        G = self.G = nx.MultiDiGraph() if graph.get("edgedefault") == "directed" else nx.MultiGraph()
        G.graph["node_default"], G.graph["edge_default"] = {}, {}
        for key_id, value in self.defaults.items():
            name, _, kind, scope = self.keys[key_id]
            if scope in ("node", "edge"):
                G.graph[f"{scope}_default"][name] = kind(value)
        self.nodes, self.succ = G._node, G._adj
        self.pred = G._pred if G.is_directed() else G._adj

    def key(self, element):
        if element.get("yfiles.type") is not None or None in (element.get("attr.type"), element.get("attr.name")):
            raise _Unusual("a yEd key, or a key without a type or a name")
        kind = self.python_type[element.get("attr.type")]
        convert = None if kind is str else _graphml_boolean if kind is bool else kind
        self.keys[element.get("id")] = (element.get("attr.name"), convert, kind, element.get("for"))
        for child in element:
            if child.tag != _DEFAULT or len(child):
                raise _Unusual(f"the element {child.tag} in a key")
            self.defaults[element.get("id")] = _graphml_boolean(child.text) if kind is bool else kind(child.text)

    def take(self, graph, count):
        """Read the graph's first ``count`` elements into the graph and drop them from the tree.

        One loop for nodes, edges and their data (the hot loop of reading, kept flat).
        """
        keys, nodes, succ, pred, node_type, shared = (
            self.keys,
            self.nodes,
            self.succ,
            self.pred,
            self.node_type,
            self.shared,
        )
        for element in graph[:count]:
            tag = element.tag
            if tag == _DATA:
                element = (element,)  # graph data: the element holds itself
            data = {}
            for child in element:
                key = keys.get(child.get("key"))
                if key is None or child.tag != _DATA or len(child):
                    raise _Unusual("an unknown key, yEd data, or an element other than data in a node or an edge")
                text = child.text
                if text is None:
                    data[key[0]] = ""
                elif key[1] is not None:
                    data[key[0]] = key[1](text)
                else:  # text: texts that come again (an op, "[]") share one string
                    common = shared.get(text)
                    if common is None:
                        if len(shared) < _SHARED:
                            shared[text] = text
                        common = text
                    data[key[0]] = common
            if tag == _NODE:
                if self.edges_begun or element.get("yfiles.foldertype") is not None:
                    raise _Unusual("a node after an edge, or a yEd group")
                node = node_type(element.get("id"))
                if node in nodes:
                    nodes[node].update(data)
                else:
                    _add_graphml_node(node, nodes, succ, pred, data)
            elif tag == _EDGE:
                self.edge(element, data)
            elif tag == _DATA:
                self.graph_data.update(data)
            else:
                raise _Unusual(f"the element {tag} in the graph")
        del graph[:count]

    def edge(self, element, data):
        if element.get("directed") is not None:
            raise _Unusual("an edge that says whether it is directed")
        self.edges_begun = True
        u, v = self.node_type(element.get("source")), self.node_type(element.get("target"))
        raw = element.get("id")
        if raw:
            raw = self.shared.get(raw) or (self.shared.setdefault(raw, raw) if len(self.shared) < _SHARED else raw)
            try:
                key = self.edge_key_type(raw)
            except ValueError:
                key = raw
        else:
            key = data.get("key")
        succ = self.succ
        if not self.multigraph and u in succ and v in succ[u]:
            self.multigraph = True
        _add_graphml_edge(u, v, key, data, raw, self.nodes, succ, self.pred)


def _add_graphml_node(node, nodes, succ, pred, data=None):
    """networkx's ``add_node`` on a graph's dicts (``pred is succ`` if undirected)."""
    if node is None:
        raise ValueError("None cannot be a node")
    nodes[node] = {} if data is None else data
    succ[node] = {}
    if pred is not succ:
        pred[node] = {}


def _add_graphml_edge(u, v, key, data, raw, nodes, succ, pred):
    """networkx's ``add_edges_from([(u, v, key, data)])`` on a multigraph's dicts (``pred is succ`` if undirected)."""
    for end in (u, v):
        if end not in nodes:
            _add_graphml_node(end, nodes, succ, pred)
    keydict = succ[u].get(v)
    if key is None:
        key = 0 if keydict is None else len(keydict)
        while keydict is not None and key in keydict:
            key += 1
    if raw:
        data[_RAW_ID] = raw
    if keydict is None:
        succ[u][v] = pred[v][u] = {key: data}
    elif key in keydict:
        keydict[key].update(data)
    else:
        keydict[key] = data


def _settled(G, multigraph):
    """The graph as networkx.read_graphml returns it: a multigraph, or a simple graph with edge ids as "id"."""
    if multigraph:
        for nbrs in G._adj.values():
            for keydict in nbrs.values():
                for data in keydict.values():
                    data.pop(_RAW_ID, None)
        return G
    if not G.is_directed():
        ids = {}
        for u, nbrs in G._adj.items():
            for v, keydict in nbrs.items():
                for data in keydict.values():
                    raw = data.pop(_RAW_ID, None)
                    if raw is not None:
                        ids[u, v] = raw
        H = nx.Graph(G)
        nx.set_edge_attributes(H, values=ids, name="id")
        return H
    # directed: what nx.DiGraph(G) and the ids make, done in place (each edge's data dict moves over)
    G._pred.clear()
    succ = G._succ
    for nbrs in succ.values():
        for v, keydict in nbrs.items():
            (data,) = keydict.values()
            raw = data.pop(_RAW_ID, None)
            if raw is not None:
                data["id"] = raw
            nbrs[v] = data
    pred = {node: {} for node in G._node}
    for u, nbrs in succ.items():
        for v, data in nbrs.items():
            pred[v][u] = data
    H = nx.DiGraph()
    H.graph.update(G.graph)
    H._node, H._succ, H._pred = G._node, succ, pred  # the dicts move over (as tracing's _build_graph fills them)
    H._adj = H._succ
    return H
