"""Record once, replay fast: a computation graph compiled to numpy arrays.

:func:`compile` freezes a graph (a :class:`~pathad.tracing.Trace`'s, or any
networkx DAG) into flat arrays: nodes in a topological order with their
operation codes, recorded values and constant operands; edges with their tail,
head, operand position and partial.  The result, a :class:`CompiledTape`, then

* solves path problems in the numeric semirings with numpy instead of a Python
  loop per edge (:meth:`CompiledTape.solve`, the vectorized twin of
  :func:`pathad.solve`; trees of single-predecessor nodes contracted, the
  rest level by level), and
* replays the recorded program at new inputs without tracing again, on one
  point or a batch of points at once (:meth:`CompiledTape.evaluate`,
  :meth:`CompiledTape.gradient`, :meth:`CompiledTape.value_and_gradient`).
  Replay evaluates the very rules of :data:`pathad.primitives.PRIMITIVES`
  (on :data:`pathad.primitives.ARRAY` with numpy, compiled by numba);
  ``wrt=`` restricts a gradient to some inputs and ``fixed=`` shares leading
  inputs (a network's weights) across a batch.
  :meth:`CompiledTape.jacobian`, :meth:`CompiledTape.hvp` and
  :meth:`CompiledTape.hessian` give Jacobians, Hessian-vector products and
  Hessians at new points the same way.
  The comparisons the program made while it was traced are *guards*: a point
  that would take another branch is reported (:class:`BranchError`) or traced
  again, never silently given the recorded branch's answer.

Both run on numpy calls, or on loops compiled by numba when it is installed
(``pip install "pathad[fast]"``; see ``backend=`` of :func:`compile`), which
removes numpy's per-call overhead on deep and small graphs.  numba compiles
them once per machine and keeps them in a disk cache (:func:`cache_dir`).  The
generic :func:`pathad.solve` stays the reference: the tests check that every
backend gives its answers.

The parts, in the order data flows through them:

=====================  ==========================================================
:mod:`.freeze`         a trace's tape or a networkx DAG into flat arrays
:mod:`.tape`           :func:`compile`, :class:`CompiledTape`: nodes, sweeps
:mod:`.schedule`       planning a sweep: trees and levels
:mod:`.sweeps`         a plan run by numpy calls
:mod:`.paths`          :class:`Sweep`, a sweep's result, and best paths
:mod:`.replay`         evaluate / gradient at new inputs (:class:`Gradient`)
:mod:`.replayer`       a replay bound once to (of, wrt): one kernel call per call
:mod:`.jacobians`      Jacobians at new points: a replay, then one vector sweep
:mod:`.hessians`       Hessian-vector products and Hessians at new points
:mod:`.program`        the recorded program planned for replay, and its checks
:mod:`.program_numpy`  numpy's replay of single nodes: on rows, on Python floats
:mod:`.layout`         the program laid out for the compiled loop
:mod:`.loops`          the compiled loops, as plain Python
:mod:`.second_loops`   the compiled loops of second derivatives, as plain Python
:mod:`.vector_loops`   the compiled loop of a Jacobian's vector sweep, as plain Python
:mod:`.kernel_source`  the kernel module's text, written from the primitive table
:mod:`.numba_backend`  loading the kernels from the disk cache, and calling them
=====================  ==========================================================

Examples
--------
>>> import numpy as np
>>> from pathad import trace
>>> tape = compile(trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0))
>>> tape.gradient(x=3.0, y=5.0)
{'x': 155.0, 'y': 459.0}
>>> tape.gradient(x=np.array([3.0, 1.0]), y=np.array([5.0, 2.0]))["y"].tolist()
[459.0, 69.0]
>>> tape.solve(tape.outputs, direction="backward").values[:2].tolist()
[155.0, 459.0]
"""

from .freeze import OPS
from .numba_backend import cache_dir, numba_available, prepare
from .paths import Sweep
from .replay import Gradient
from .tape import CompiledTape, compile

__all__ = ["compile", "CompiledTape", "Sweep", "Gradient", "OPS", "cache_dir", "prepare", "numba_available"]
