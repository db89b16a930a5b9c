"""Derivatives of a trace as path problems: thin functions over :func:`pathad.solve`.

∂t/∂s is the sum over all paths s→t of the product of the edge partials.  A
forward sweep from s gives ∂v/∂s for every v at once (forward mode: single
source, many targets); a backward sweep from t gives ∂t/∂v for every v at once
(reverse mode, backpropagation: many sources, single target).  For a Jacobian
with |L| inputs and |K| outputs that is |L| forward sweeps or |K| backward ones
(the lecture's Fig. 5); ``mode="auto"`` takes the fewer.

Examples
--------
>>> from pathad import trace
>>> tr = trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> gradient(tr)
{'x': 155.0, 'y': 459.0}
>>> derivative(tr, "y", mode="forward")
459.0
"""

from dataclasses import dataclass

import numpy as np

from .solver import is_forward, solve
from .tracing import resolve_node

__all__ = ["derivative", "gradient", "derivatives_from", "jacobian", "Jacobian"]


def derivative(tr, wrt, of=None, *, mode="backward"):
    """∂(of)/∂(wrt) at the traced point, by one sweep restricted to the paths between them.

    Parameters
    ----------
    tr : Trace
    wrt : str or int
        Input name, node label or node id.
    of : str or int, optional
        The output (default: the trace's single output).
    mode : {"backward", "forward"}

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x: x * x * x, 2.0)
    >>> derivative(tr, "x"), derivative(tr, "x", mode="forward")
    (12.0, 12.0)
    """
    source, target = resolve_node(tr, wrt), _output(tr, of)
    if is_forward(mode, "mode"):
        return solve(tr.graph, source, direction="forward", targets=target).get(target, 0.0)
    return solve(tr.graph, target, direction="backward", targets=source).get(source, 0.0)


def gradient(tr, of=None, *, wrt=None, mode="backward"):
    """All partials of one output: {input: ∂output/∂input}.

    Backward mode does it in ONE sweep from the output; forward mode needs one
    sweep per input.  ``wrt`` defaults to every input; the keys are the
    references as given (input names by default).

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x, y: x * y + y, x=2.0, y=3.0)
    >>> gradient(tr), gradient(tr, mode="forward")
    ({'x': 3.0, 'y': 3.0}, {'x': 3.0, 'y': 3.0})
    """
    refs = list(tr.inputs) if wrt is None else list(wrt)
    nodes = [resolve_node(tr, r) for r in refs]
    target = _output(tr, of)
    if is_forward(mode, "mode"):
        sweeps = [solve(tr.graph, n, direction="forward", targets=target) for n in nodes]
        return {r: s.get(target, 0.0) for r, s in zip(refs, sweeps)}
    adjoint = solve(tr.graph, target, direction="backward", targets=nodes)
    return {r: adjoint.get(n, 0.0) for r, n in zip(refs, nodes)}


def derivatives_from(tr, wrt):
    """Single source, all targets: {node: ∂node/∂wrt} for every node wrt reaches, in one forward sweep.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x: (x * 2.0, x + 1.0), 5.0)
    >>> derivatives_from(tr, "x")
    {0: 1.0, 1: 2.0, 2: 1.0}
    """
    return solve(tr.graph, resolve_node(tr, wrt), direction="forward")


@dataclass(frozen=True)
class Jacobian:
    """A Jacobian and how it was computed.

    Attributes
    ----------
    matrix : numpy.ndarray
        ``matrix[i, j]`` = ∂of[i]/∂wrt[j].
    wrt, of : tuple
        Column and row references.
    mode : str
        "forward" (one sweep per column) or "backward" (one sweep per row).
    sweeps : int
        The number of sweeps performed.
    """

    matrix: np.ndarray
    wrt: tuple
    of: tuple
    mode: str
    sweeps: int

    def __array__(self, dtype=None, copy=None):
        return self.matrix if dtype is None else self.matrix.astype(dtype)

    def __repr__(self):
        return (
            f"Jacobian(of={list(self.of)}, wrt={list(self.wrt)}, mode={self.mode!r}, "
            f"sweeps={self.sweeps},\n{self.matrix!r})"
        )


def jacobian(tr, wrt=None, of=None, *, mode="auto"):
    """∂of/∂wrt for several outputs and inputs, by |wrt| forward or |of| backward sweeps.

    ``mode="auto"`` chooses forward when there are fewer inputs than outputs
    (|L| < |K| in the lecture's Fig. 5) and backward otherwise; the result says
    which it used.

    Examples
    --------
    >>> from pathad import trace
    >>> tr = trace(lambda x: (x * x, 3.0 * x, x + 1.0), 2.0)
    >>> J = jacobian(tr)
    >>> J.mode, J.sweeps, J.matrix.ravel().tolist()
    ('forward', 1, [4.0, 3.0, 1.0])
    """
    wrt = tuple(tr.inputs) if wrt is None else tuple(wrt)
    of = tuple(tr.label(n) for n in tr.outputs) if of is None else tuple(of)
    columns = [resolve_node(tr, r) for r in wrt]
    rows = [resolve_node(tr, r) for r in of]
    if mode == "auto":
        mode = "forward" if len(columns) < len(rows) else "backward"
    matrix = np.zeros((len(rows), len(columns)))
    if is_forward(mode, "mode"):
        for j, column in enumerate(columns):
            sweep = solve(tr.graph, column, direction="forward", targets=rows)
            matrix[:, j] = [sweep.get(r, 0.0) for r in rows]
        return Jacobian(matrix, wrt, of, "forward", len(columns))
    for i, row in enumerate(rows):
        sweep = solve(tr.graph, row, direction="backward", targets=columns)
        matrix[i, :] = [sweep.get(c, 0.0) for c in columns]
    return Jacobian(matrix, wrt, of, "backward", len(rows))


def _output(tr, of):
    return tr.output if of is None else resolve_node(tr, of)
