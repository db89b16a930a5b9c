"""The exceptions pathad raises.

Every pathad error derives from :class:`PathadError`, and also from the builtin or
networkx exception a caller would naturally catch (``ValueError``, ``KeyError``,
``networkx.NodeNotFound``), so existing ``except`` clauses keep working.
"""

import networkx as nx

__all__ = [
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


class PathadError(Exception):
    """Base class of every error raised by pathad."""


class DomainError(PathadError, ValueError):
    """An operation was applied outside its domain (log of a negative, division by zero, ...).

    The message names the operation, the node's label and the operand values.
    """


class LostDerivativeError(PathadError, TypeError):
    """A traced value was asked for as a plain number, which would silently drop its derivative.

    ``float()``, ``int()``, ``operator.index``, ``complex()``, ``math.sin`` and
    the other functions of :mod:`math`, ``np.float64(x)`` and assignment into a
    float ndarray all ask for one.  The message names the node, the line of
    code that asked and what to write instead.
    """


class NoDependenceError(PathadError, ValueError):
    """A traced output does not depend on any input, so there is nothing to differentiate."""


class UnknownNodeError(PathadError, nx.NodeNotFound):
    """A node was named (by input name, label or id) that the graph does not have."""


class MissingWeightError(PathadError, KeyError):
    """An edge lacks the attribute a sweep reads as its weight."""

    def __str__(self):  # KeyError would otherwise print the message with quotes around it
        return str(self.args[0])


class MixedTraceError(PathadError, ValueError):
    """Traced values from two different traces were combined in one operation."""


class SemiringLawError(PathadError, ValueError):
    """A semiring law failed on sample elements (the message names the law and the elements)."""


class UnknownSemiringError(PathadError, ValueError):
    """A semiring was named that pathad does not know."""


class TooManyPathsError(PathadError, ValueError):
    """More paths than the limit asked for (the message gives the count)."""


class MissingDependencyError(PathadError, ImportError):
    """An optional dependency is not installed (the message says how to install it)."""


class RendererNotFoundError(PathadError, RuntimeError):
    """No dot program can write the requested format (the message says what to install)."""


class RenderError(PathadError, RuntimeError):
    """The dot program failed or timed out (the message quotes its error output)."""


class DrawingTooLargeError(PathadError, ValueError):
    """The graph has more nodes than ``max_nodes``; the message names the ways out."""


class DataError(PathadError, ValueError):
    """Training data that cannot be used: mismatched sizes, NaN or inf, wrong shapes.

    The message names the array, the row and the offending value.
    """


class DivergenceError(PathadError, ArithmeticError):
    """Training diverged: the loss, a gradient or a weight overflowed, or the loss kept growing.

    Attributes ``epoch`` and ``step`` say where (both counted from 1).
    """

    def __init__(self, message: str, epoch: int, step: int) -> None:
        super().__init__(message)
        self.epoch, self.step = epoch, step


class ExpressionError(PathadError, ValueError):
    """An expression (or a ``name=value`` point) that pathad does not accept; the message says where."""


class GraphFileError(PathadError, ValueError):
    """A graph file that cannot be written or read; the message names the file and the problem."""


class ReplayError(PathadError, ValueError):
    """A compiled tape cannot replay its program (no operations recorded, or inputs that do not fit)."""


class BranchError(ReplayError):
    """A replayed point would take another branch than the traced one (a guard changes its outcome)."""
