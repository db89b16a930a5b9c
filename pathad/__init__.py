"""pathad: automatic differentiation as a path problem on a computation graph.

Trace an ordinary Python function into a networkx DAG whose edges carry local
partial derivatives; a derivative ∂t/∂s is the sum over all paths s→t of the
product of the edge labels, found by one topological sweep, forward (forward
mode) or backward (reverse mode, backpropagation).

>>> import pathad
>>> tr = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> tr.value, pathad.gradient(tr)
(920.0, {'x': 155.0, 'y': 459.0})
"""

from . import datasets, functions, nn, training
from .animate import Animation, Elimination, EliminationFrame, animate, animate_elimination, draw_elimination
from .compiled import CompiledTape, Gradient, Sweep, compile
from .cost import counted, jacobian_cost
from .derivatives import Jacobian, derivative, derivatives_from, gradient, jacobian
from .draw import Drawing, draw
from .dual import Dual
from .elimination import eliminate, eliminated_jacobian, fold_linear
from .enumeration import Path, active_nodes, best_path, count_paths, explain, path_sum, paths, sparsity
from .errors import (
    BranchError,
    DataError,
    DivergenceError,
    DomainError,
    DrawingTooLargeError,
    ExpressionError,
    GraphFileError,
    LostDerivativeError,
    MissingDependencyError,
    MissingWeightError,
    MixedTraceError,
    NoDependenceError,
    PathadError,
    RendererNotFoundError,
    RenderError,
    ReplayError,
    SemiringLawError,
    TooManyPathsError,
    UnknownNodeError,
    UnknownSemiringError,
)
from .functions import *  # noqa: F403  (one function per function primitive of the table)
from .io import load, save, to_graphml
from .planner import Plan, plan_jacobian
from .primitives import BY_NAME, PRIMITIVES, Primitive
from .second import Hessian, explain_second, hessian, hessian_sparsity, hvp
from .semirings import (
    BITSETS,
    BOOLEAN,
    COUNTING,
    DUAL,
    MAX_PLUS,
    MAX_TIMES,
    MIN_PLUS,
    REAL,
    SEMIRINGS,
    SYMBOLIC,
    Semiring,
    check_laws,
    edge_weight,
)
from .solver import solve
from .source import SourceProgram, adjoint_source, tangent_source
from .symbolic import symbolic_derivative, symbolic_expression, symbolic_graph
from .tracing import Trace, Traced, scope, trace
from .transform import ForwardSource, forward_source

# pathad.abs, .max, .round, ... too: not in __all__, so that `from pathad import *` keeps Python's builtins
globals().update({_name: getattr(functions, _name) for _name in BY_NAME})

__version__ = "0.1.0"

__all__ = [
    "plan_jacobian",
    "Plan",
    "eliminated_jacobian",
    "trace",
    "scope",
    "animate",
    "Animation",
    "animate_elimination",
    "Elimination",
    "draw_elimination",
    "EliminationFrame",
    "Trace",
    "Traced",
    "solve",
    "forward_source",
    "ForwardSource",
    "adjoint_source",
    "tangent_source",
    "SourceProgram",
    "Semiring",
    "REAL",
    "BOOLEAN",
    "COUNTING",
    "MAX_TIMES",
    "MIN_PLUS",
    "MAX_PLUS",
    "SYMBOLIC",
    "SEMIRINGS",
    "BITSETS",
    "DUAL",
    "hvp",
    "hessian",
    "Hessian",
    "hessian_sparsity",
    "explain_second",
    "check_laws",
    "edge_weight",
    "paths",
    "Path",
    "count_paths",
    "path_sum",
    "best_path",
    "explain",
    "sparsity",
    "active_nodes",
    "counted",
    "jacobian_cost",
    "symbolic_derivative",
    "symbolic_expression",
    "symbolic_graph",
    "derivative",
    "gradient",
    "derivatives_from",
    "jacobian",
    "Jacobian",
    "draw",
    "Drawing",
    "nn",
    "datasets",
    "training",
    "compile",
    "CompiledTape",
    "Sweep",
    "Gradient",
    "save",
    "load",
    "to_graphml",
    "Dual",
    "eliminate",
    "fold_linear",
    "Primitive",
    "PRIMITIVES",
    *functions.__all__,
    "PathadError",
    "DomainError",
    "LostDerivativeError",
    "NoDependenceError",
    "UnknownNodeError",
    "MissingWeightError",
    "MixedTraceError",
    "SemiringLawError",
    "UnknownSemiringError",
    "TooManyPathsError",
    "MissingDependencyError",
    "RendererNotFoundError",
    "RenderError",
    "DrawingTooLargeError",
    "DataError",
    "DivergenceError",
    "ExpressionError",
    "GraphFileError",
    "ReplayError",
    "BranchError",
]
