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
yEd); values that GraphML cannot hold are written as JSON text.

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

import io as _io
import json
import math
import numbers
from pathlib import Path

import networkx as nx
import numpy as np

from .errors import GraphFileError
from .files import write_atomically
from .primitives import PRIMITIVES
from .tracing import Guard, Tape, Trace

__all__ = ["save", "load", "to_graphml", "FORMAT", "MAX_BYTES", "MAX_DEPTH"]

#: The version of pathad's graph files.
FORMAT = 1

#: The largest file :func:`load` reads by default, in bytes.
MAX_BYTES = 256 * 2**20

#: How deeply attribute values may nest (lists in dicts in tuples ...).
MAX_DEPTH = 32

_NODE_FIELDS = ("id",)
_EDGE_FIELDS = ("source", "target", "key")
_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})


# --- saving -----------------------------------------------------------------


def save(obj, path):
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


def load(path, *, max_bytes=MAX_BYTES):
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


def to_graphml(obj, path):
    """Export a trace or a networkx graph as GraphML for other graph tools; return the path.

    Numbers, text and booleans are written as GraphML attributes; tuples,
    lists and dicts (a node's ``consts``, say) as JSON text; None is left out.
    A trace's name, inputs and outputs become graph attributes.

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
    graph = obj.graph if isinstance(obj, Trace) else obj
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"to_graphml needs a pathad Trace or a networkx graph, got {type(obj).__name__}")
    plain = graph.__class__()
    plain.graph.update(_plain_attributes(graph.graph, f"{path}: graph attribute"))
    if isinstance(obj, Trace):
        plain.graph.update(name=obj.name, inputs=json.dumps(obj.inputs), outputs=json.dumps(obj.outputs))
    for node, data in graph.nodes(data=True):
        plain.add_node(node, **_plain_attributes(data, f"{path}: node {node!r} attribute"))
    for u, v, key, data in _edges(graph):
        attributes = _plain_attributes(data, f"{path}: edge {u!r} -> {v!r} attribute")
        if graph.is_multigraph():
            plain.add_edge(u, v, key, **attributes)
        else:
            plain.add_edge(u, v, **attributes)
    buffer = _io.BytesIO()
    nx.write_graphml(plain, buffer)
    write_atomically(path, buffer.getvalue())
    return path


def _plain_attributes(data, what):
    plain = {}
    for name, value in data.items():
        if value is None:
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, (bool, int, float, str)):
            plain[str(name)] = value
        else:
            plain[str(name)] = json.dumps(_untagged(_encode(value, f"{what} {name!r}", 0)), allow_nan=False)
    return plain


def _untagged(value):
    """JSON data with $tuple written as a plain list (GraphML readers see ordinary JSON)."""
    if isinstance(value, list):
        return [_untagged(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"$tuple"}:
            return _untagged(value["$tuple"])
        return {key: _untagged(item) for key, item in value.items()}
    return value
