"""The type aliases of pathad's public signatures, in one place (issue 17; pathad ships ``py.typed``).

A parameter that takes several kinds of things (a node reference, a list of
them, a trace or a networkx graph) is annotated with one of these aliases, so
that the hints say what is accepted rather than ``Any``; the numpydoc
docstrings say the same in prose.  networkx has no type information, so to a
type checker ``Graph`` is ``Any``.

Examples
--------
>>> from pathad.types import NodeRef
>>> isinstance("x", NodeRef.__args__), isinstance(3, NodeRef.__args__)
(True, True)
"""

import os
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, Union

import networkx as nx

if TYPE_CHECKING:
    from .semirings import Semiring
    from .tracing import Trace

__all__ = ["NodeRef", "NodeRefs", "Node", "Nodes", "Seeds", "Graph", "GraphLike", "SemiringLike", "Weight", "FilePath"]

#: A node of a trace: an input name, the function's name (its single output), a label, or a node id.
NodeRef: TypeAlias = str | int

#: One node reference or several (``wrt=``, ``of=``): ``"x"``, ``3``, ``["x", "y"]``.
NodeRefs: TypeAlias = NodeRef | Sequence[NodeRef]

#: A node of a networkx graph: any hashable value (in a trace, a :data:`NodeRef`).
Node: TypeAlias = Hashable

#: One node or several, of a trace (:data:`NodeRef`) or of a networkx graph (:data:`Node`).
Nodes: TypeAlias = Node | Collection[Node]

#: Where a sweep starts (``pathad.solve(G, start)``): a node, a collection of nodes, {node: seed value},
#: or a compiled tape's :class:`~pathad.compiled.Sweep` (its values seed the new sweep; a Sweep is hashable,
#: so :data:`Node` covers it: naming it here, an import cycle through this module, crashed mypy 2.4.1).
Seeds: TypeAlias = Node | Collection[Node] | Mapping[Node, Any]

#: A networkx computation graph.
Graph: TypeAlias = nx.DiGraph | nx.MultiDiGraph

#: What the graph functions take: a :class:`pathad.Trace` or a networkx graph.
GraphLike: TypeAlias = Union["Trace", nx.DiGraph, nx.MultiDiGraph]

#: A :class:`pathad.Semiring` or the name of one (``"real"``, ``"max_times"``, ...).
SemiringLike: TypeAlias = Union["Semiring", str]

#: An edge weight: the name of an edge attribute, or a function ``f(u, v, data)`` of an edge.
Weight: TypeAlias = str | Callable[..., Any]

#: A file name.
FilePath: TypeAlias = str | os.PathLike[str]
