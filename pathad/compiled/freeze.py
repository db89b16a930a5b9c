"""Freezing: a trace's tape or any networkx DAG into flat numpy arrays.

Nodes in a topological order with their operation codes (:data:`OPS`), recorded
values and constant operands; edges with tail, head, operand position and partial.
"""

import math
import numbers
from array import array

import networkx as nx
import numpy as np

from ..primitives import PRIMITIVES
from .schedule import index_dtype

__all__ = ["OPS", "CODE", "ARITY", "freeze_tape", "freeze_graph"]

#: Operation codes: ``OPS[code]`` is the op name; -1 marks a node without a known op.
OPS = ("input",) + tuple(PRIMITIVES)
CODE = {name: code for code, name in enumerate(OPS)}
ARITY = np.array([0] + [p.arity for p in PRIMITIVES.values()])


def freeze_tape(tape):
    """The arrays of an untouched trace: node ids are positions already, in topological order."""
    n, m = len(tape.ops), len(tape.src)
    index = index_dtype(n, m)
    return {
        "nodes": None,
        "src": np.array(tape.src, dtype=index),
        "dst": np.array(tape.dst, dtype=index),
        "arg": np.array(tape.arg, dtype=np.int64),
        "partial": np.array(tape.partial, dtype=np.float64),
        "weight": None,
        "codes": np.array([CODE.get(op, -1) for op in tape.ops], dtype=np.int8),
        "values": np.array(tape.values, dtype=np.float64),
        "labels": dict(tape.labels),
        "consts": dict(tape.consts),
        "default_label": True,
    }


def freeze_graph(graph):
    """The arrays of any networkx DAG, nodes renumbered in a topological order."""
    nodes = _topological_nodes(graph)
    position = {node: i for i, node in enumerate(nodes)}
    src, dst, datas = _edge_list(graph, position)
    arg = _operand_positions([d.get("arg", -1) for d in datas])
    partial = [d.get("partial", math.nan) for d in datas]
    weight = [d.get("weight") for d in datas]
    index = index_dtype(len(nodes), len(src))
    identity = all(type(node) is int and node == i for i, node in enumerate(nodes))
    src, dst = np.frombuffer(src, dtype=np.int64), np.frombuffer(dst, dtype=np.int64)
    order = np.lexsort((src, arg, dst))  # a trace's own edge order: by head, then operand position
    return {
        "nodes": None if identity else nodes,
        "src": src[order].astype(index),
        "dst": dst[order].astype(index),
        "arg": arg[order],
        "partial": _numbers(partial, nodes, src, dst, "partial")[order],
        "weight": None if all(w is None for w in weight) else _numbers(weight, nodes, src, dst, "weight", 1.0)[order],
        **_node_attributes(graph, nodes),
    }


def _edge_list(graph, position):
    """Tail and head positions (int64 buffers) and the data dict of every edge, from networkx's adjacency dicts."""
    src, dst, datas = array("q"), array("q"), []
    multi = graph.is_multigraph()
    for u, nbrs in graph._adj.items():  # the dicts behind G.adj, read directly (as the solver does)
        tail = position[u]
        for v, data in nbrs.items():
            head = position[v]
            for d in data.values() if multi else (data,):
                src.append(tail)
                dst.append(head)
                datas.append(d)
    return src, dst, datas


def _topological_nodes(graph):
    """The graph's nodes, in its own order when that is topological, else in networkx's topological order."""
    nodes = list(graph)
    position = {node: i for i, node in enumerate(nodes)}
    if all(position[u] < position[v] for u, nbrs in graph._adj.items() for v in nbrs):
        return nodes
    try:
        return list(nx.topological_sort(graph))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(graph)
        path = " -> ".join(repr(edge[0]) for edge in cycle) + f" -> {cycle[0][0]!r}"
        raise nx.NetworkXUnfeasible(f"compile needs a DAG; the graph has a cycle: {path}") from None


def _operand_positions(args):
    """Edge ``arg`` attributes as ints; -1 where missing or not an int."""
    try:
        return np.array(args, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.array([a if isinstance(a, numbers.Integral) else -1 for a in args], dtype=np.int64)


def _numbers(values, nodes, src, dst, name, missing=math.nan):
    """An edge attribute as float64 (``missing`` where absent); a clear error naming an edge that is not a number."""
    values = [missing if v is None else v for v in values]
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        for k, value in enumerate(values):
            if not isinstance(value, numbers.Real):
                u, v = nodes[src[k]], nodes[dst[k]]
                raise TypeError(f"edge {u!r} -> {v!r}: its {name} {value!r} is not a number") from None
        raise


def _node_attributes(graph, nodes):
    attributes = graph._node
    ops = [attributes[node].get("op") for node in nodes]
    labels = {i: str(attributes[node]["label"]) for i, node in enumerate(nodes) if "label" in attributes[node]}
    consts = {i: tuple(attributes[node]["consts"]) for i, node in enumerate(nodes) if attributes[node].get("consts")}
    return {
        "codes": np.array([CODE.get(op, -1) for op in ops], dtype=np.int8),
        "values": np.array([_float_or_nan(attributes[node].get("value", math.nan)) for node in nodes]),
        "labels": labels,
        "consts": consts,
        "default_label": False,
    }


def _float_or_nan(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
