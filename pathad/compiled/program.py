"""The recorded program planned for replay: operands by position, guards, numpy levels, and the checks.

A :class:`Program` is built on a tape's first replay.  It runs the values
(numpy: level by level, one rule call per group of like nodes, narrow levels
node by node, see :class:`_ForwardPlan`, their steps on single nodes in
:mod:`pathad.compiled.program_numpy`; numba: the
:class:`~pathad.compiled.layout.Layout` in one compiled call), checks the
guards (the branches the trace took) and turns non-finite numbers into
:class:`~pathad.DomainError` naming the node.
"""

import math
from functools import cached_property

import numpy as np

from ..errors import DomainError, ReplayError
from ..primitives import PRIMITIVES
from .freeze import ARITY, OPS
from .layout import Layout, bucket, chain_links, chain_terms, group_chains, split
from .numba_backend import run_program, spending
from .program_numpy import _call, _RowSegment, _scalar_weight, _ScalarSegment
from .schedule import ARRAY_SEMIRINGS, choose_ways, distinct, levels, starts

__all__ = ["Program", "Replayed", "as_index", "numba_chunk"]

#: Array elements per replay chunk: (nodes + edges) x batch points for numpy, (value slots + partials) x batch points
#: for numba (see :func:`numba_chunk`).
_BUDGET = 2**25
#: Rough costs of evaluating a level (see _ForwardPlan): an op on one Python float (per point; ops numpy must do
#: cost more, _SCALAR_WEIGHT), one numpy call on one node's row, one rule call on a group of nodes.
_SCALAR_COST, _ROW_COST, _GROUP_COST = 1.0, 4.0, 25.0
#: The batch size from which rows beat Python floats for every op (the plan is the same for all larger sizes).
_ROWS_FROM = 4
_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
            "==": np.equal, "!=": np.not_equal}  # fmt: skip


class Program:
    """The operations of a compiled tape, planned for replay on a batch of points.

    Built on the first replay.  Plan: every op node's operands (node or
    constant, by position); for numpy, sums of sums (add/sub nodes each
    feeding only the next) fused into chains evaluated by one cumulative sum,
    the rest levelled and grouped by (level, op, which operands are traced) so
    that each group is one call of the primitive's rule on arrays (narrow
    levels node by node instead, see :class:`_ForwardPlan`); for numba,
    a :class:`Layout` (the program in order, sums of products fused), run by
    one compiled call with its backward pass.
    """

    def __init__(self, tape):
        self.tape = tape
        problem = self._problem()
        if problem:
            raise ReplayError(problem)
        self.input_positions = np.array(list(tape.inputs.values()), dtype=np.int64)
        self._active = {}
        self._vector_rows = {}
        self._read_operands()
        self._plan_guards()
        self._numpy_planned = False  # numba runs the program unit by unit (see Layout) and needs no levels

    def _plan_numpy(self):
        if not self._numpy_planned:
            self._plan_chains()
            self._plan_levels()
            self._numpy_planned = True

    def _problem(self):
        tape = self.tape
        if tape.n_nodes == 0 or not (tape._trace or (tape.codes > 0).any()):
            # a trace without operations (lambda x: x) is a program all the same: its outputs are inputs
            return (
                f"{tape.name} has no operations to replay: a graph without 'op' attributes compiles to "
                "values and partials only (tape.solve works on it)"
            )
        unknown = np.flatnonzero(tape.codes < 0)
        if unknown.size:
            return f"node {tape.label(int(unknown[0]))} has no known op, so the program cannot be replayed"
        if any(p < 0 for p in list(tape.inputs.values()) + tape.outputs):
            return "an input or output of the trace is no longer in its graph"
        return None

    def _read_operands(self):
        tape, n = self.tape, self.tape.n_nodes
        arity = ARITY[tape.codes]
        if ((tape.arg < 0) | (tape.arg >= arity[tape.dst])).any():
            bad = int(tape.dst[(tape.arg < 0) | (tape.arg >= arity[tape.dst])][0])
            raise ReplayError(f"node {tape.label(bad)}: an edge into it has no valid operand position 'arg'")
        self.node_of = np.full((2, n), -1, dtype=np.int64)
        self.edge_of = np.full((2, n), -1, dtype=np.int64)
        self.const_of = np.zeros((2, n))
        filled = np.zeros((2, n), dtype=np.int64)
        np.add.at(filled, (tape.arg, tape.dst), 1)
        self.node_of[tape.arg, tape.dst] = tape.src
        self.edge_of[tape.arg, tape.dst] = np.arange(tape.n_edges)
        for position, pairs in tape._consts.items():
            for j, constant in pairs:
                self.const_of[j, position] = constant
                filled[j, position] += 1
        wrong = np.flatnonzero((filled != (np.arange(2)[:, None] < arity)).any(axis=0))
        if wrong.size:
            raise ReplayError(f"node {tape.label(int(wrong[0]))}: its operands do not match its op's arity")

    def _plan_chains(self):
        """Link each add/sub node to an add/sub operand that feeds nothing else (its partial sum)."""
        tape, n = self.tape, self.tape.n_nodes
        single = np.bincount(tape.src, minlength=n) == 1
        link, self.chain_link_second = chain_links(tape.codes, self.node_of, single)
        linked = np.flatnonzero((link >= 0) | np.isin(np.arange(n), link[link >= 0]))
        self.chain_nodes, self.chain_starts, self.chain_head = group_chains(link, linked)

    def _plan_levels(self):
        """Every node's level (a chain's members share theirs), then what each level holds (:meth:`_plan_groups`)."""
        tape, n = self.tape, self.tape.n_nodes
        unit = self.chain_head
        tail, headn = unit[tape.src], unit[tape.dst]
        keep = tail != headn
        # positions grow along every edge; a chain ranks as its last member, the only one used outside it
        rank = np.arange(n)
        if self.chain_starts.size:
            last = np.append(self.chain_starts[1:], self.chain_nodes.size) - 1
            rank[self.chain_nodes[self.chain_starts]] = self.chain_nodes[last]
        self.level = levels(n, tail[keep], headn[keep], np.flatnonzero(unit == np.arange(n)), rank)[unit]
        self.depth = int(self.level.max()) + 1
        self._plan_groups()

    def _plan_groups(self):
        """The partials' groups (op, traced-operand pattern) across all levels; per level its op nodes and what
        evaluating them costs each way (see :class:`_ForwardPlan`).  The levels' own groups are built by the
        plans that evaluate them by groups."""
        tape, depth = self.tape, self.depth
        self.pattern = (self.node_of[0] >= 0) + 2 * (self.node_of[1] >= 0)
        op_nodes = np.flatnonzero(tape.codes > 0)
        self.partial_groups = [
            _Group(self, code, traced, nodes)
            for (code, traced), nodes in split(op_nodes, tape.codes[op_nodes], self.pattern[op_nodes])
        ]
        self.by_level = op_nodes[np.argsort(self.level[op_nodes], kind="stable")]  # positions ascending per level
        self.level_start = starts(self.level[self.by_level], depth)
        self.in_chain = np.zeros(tape.n_nodes, dtype=bool)
        self.in_chain[self.chain_nodes] = True
        ops = op_nodes[~self.in_chain[op_nodes]]
        kinds = 4 * len(OPS)
        keys = distinct(self.level[ops] * kinds + tape.codes[ops] * 4 + self.pattern[ops])
        calls = np.bincount(keys // kinds, minlength=depth)
        if self.chain_starts.size:
            buckets = distinct(self._chain_level() * 64 + self._chain_width_class())
            calls += np.bincount(buckets // 64, minlength=depth)
        self.level_calls = calls
        self.level_width = np.diff(self.level_start)
        weight = np.zeros(len(OPS))
        for code in distinct(tape.codes[op_nodes].astype(np.int64)).tolist():
            weight[code] = _scalar_weight(code)
        self.level_scalar = np.bincount(self.level[op_nodes], weight[tape.codes[op_nodes]], minlength=depth)
        self._forward_plans = {}

    def _chain_level(self):
        return self.level[self.chain_nodes[self.chain_starts]]

    def _chain_width_class(self):
        lengths = np.diff(np.r_[self.chain_starts, self.chain_nodes.size])
        return np.ceil(np.log2(lengths + 1)).astype(np.int64)

    def _forward_plan(self, batch):
        """How :meth:`forward_values` evaluates ``batch`` points: a :class:`_ForwardPlan`, built once per size."""
        key = min(batch, _ROWS_FROM)  # from there on every batch size gets the same plan
        if key not in self._forward_plans:
            self._forward_plans[key] = _ForwardPlan(self, key)
        return self._forward_plans[key]

    def _level_groups(self, wanted):
        """{level: [_Group]} for the levels where ``wanted``: one group per (op, traced-operand pattern)."""
        tape = self.tape
        ops = self.by_level[wanted[self.level[self.by_level]] & ~self.in_chain[self.by_level]]
        found = {}
        for (level, code, traced), nodes in split(ops, self.level[ops], tape.codes[ops], self.pattern[ops]):
            found.setdefault(level, []).append(_Group(self, code, traced, nodes))
        return found

    def _chain_buckets(self, wanted):
        """{level: [bucket]} for the chains of the levels where ``wanted``: rows of cumulative-sum terms,
        bucketed by (level, power-of-two length)."""
        members, first = self.chain_nodes, self.chain_starts
        found = {}
        if not first.size:
            return found
        chain_level = self._chain_level()
        rows = np.flatnonzero(wanted[chain_level])
        if not rows.size:
            return found
        lengths = np.diff(np.r_[first, members.size])
        terms = chain_terms(self, self.chain_link_second, members, first)
        width = 1 << self._chain_width_class()
        for (level, w), picked in split(rows, chain_level[rows], width[rows]):
            found.setdefault(level, []).append(bucket(picked, first, lengths, int(w), members, *terms))
        return found

    def _plan_guards(self):
        tape = self.tape
        guards = tape._guards
        self.guard_left = np.array([tape._position_of_node(g.left) for g in guards], dtype=np.int64)
        self.guard_right = np.array(
            [tape._position_of_node(g.right) if g.right is not None else -1 for g in guards], dtype=np.int64
        )
        self.guard_const = np.array([g.constant if g.right is None else 0.0 for g in guards], dtype=np.float64)
        self.guard_outcome = np.array([g.outcome for g in guards], dtype=bool)
        self.guard_ops = [g.op for g in guards]
        lost = [g for g, left, right in zip(guards, self.guard_left, self.guard_right)
                if left < 0 or (g.right is not None and right < 0)]  # fmt: skip
        if lost:
            raise ReplayError(f"the guard {lost[0].op!r} refers to a node no longer in the graph")
        self.guard_time = np.append(np.maximum(self.guard_left, self.guard_right), tape.n_nodes)

    # --- running ---

    def run(self, points, output, wrt=None):
        """(outputs, gradients or None, flipped or None) for the columns of ``points``, chunk by chunk.

        Gradients of ``output`` with respect to the inputs ``wrt`` (a tuple or
        range of input rows; None: all), one row each.
        """
        tape, batch = self.tape, points.shape[1]
        if tape._replay_backend(batch) == "numba":
            chunk = min(batch, numba_chunk(self.layout(self.fast.folds(output)).program))
        else:
            chunk = max(1, min(batch, _BUDGET // max(tape.n_nodes + tape.n_edges, 1)))
        if chunk == batch:
            return self._run_chunk(points, 0, output, wrt)
        outputs = np.empty((len(tape.outputs), batch))
        grads = None if output is None else np.empty((len(tape.inputs) if wrt is None else len(wrt), batch))
        flipped = np.full(batch, -1, dtype=np.int64)
        for lo in range(0, batch, chunk):
            part = self._run_chunk(points[:, lo : lo + chunk], lo, output, wrt)
            outputs[:, lo : lo + chunk] = part[0]
            if grads is not None:
                grads[:, lo : lo + chunk] = part[1]
            if part[2] is not None:
                flipped[lo : lo + chunk] = part[2]
        return outputs, grads, flipped if (flipped >= 0).any() else None

    def _run_chunk(self, points, offset, output, wrt):
        """Compute everything, then check: guards first, then domain errors in the columns that keep their branch."""
        backend = self.tape._replay_backend(points.shape[1])
        result = self.compute(points, output, wrt=wrt, backend=backend)
        first_guard = self._excuse_traced_point(self.check_guards(result.at), points)
        if result.finite and first_guard is None:
            self._check_gradients(points, result, output, wrt, None, offset)
            return result.outputs, result.grads, None
        if first_guard is None:
            first_guard = np.full(points.shape[1], -1, dtype=np.int64)
        if not result.finite:
            _check_inputs(self.tape, points)
            if backend == "numba":
                # every node's value, every partial needed
                result = self.compute(points, output, exact=True, wrt=wrt, backend=backend)
            values, partials = result.everything()
            self._raise_domain(values, _first_nonfinite(values), first_guard, offset, points.shape[1])
            if output is not None:
                active = self.active_nodes(output, wrt)
                needed = active[self.tape.src] & active[self.tape.dst]
                self._check_partials(values, partials, needed[:, None] & (first_guard < 0), offset)
        self._check_gradients(points, result, output, wrt, first_guard, offset)
        flipped = first_guard if (first_guard >= 0).any() else None
        return result.outputs, result.grads, flipped

    def _excuse_traced_point(self, first_guard, points):
        """``first_guard`` with the columns at the traced point itself cleared (None when no guard is left).

        At the point the program was traced, the guards' recorded outcomes are
        the truth: tracing computed them with Python's math, and the tape is
        that very run.  numpy's vectorized exp, log, tanh, tan and pow may round
        a last bit differently, which flips a guard that was a near-tie (say
        ``exp(x) > c`` with c the traced exp(x)); replaying exactly at the
        traced inputs (bit for bit) therefore never reports a changed branch.
        Elsewhere a near-tie is judged by the backend's own rounding.
        """
        if first_guard is None or not (first_guard >= 0).any():
            return None
        traced = self.tape.values[self.input_positions].view(np.int64)
        at_traced = (np.asarray(points, dtype=np.float64).view(np.int64) == traced[:, None]).all(axis=0)
        first_guard = np.where(at_traced, -1, first_guard)
        return first_guard if (first_guard >= 0).any() else None

    def _check_gradients(self, points, result, output, wrt, first_guard, offset):
        """A DomainError when a gradient (a backward path value) is not finite in a column that keeps its branch.

        Every value and partial is finite by now, so the backward sweep itself
        overflowed.  The column is swept again by the generic
        :func:`pathad.solve`, whose message names the node where the path value
        first became non-finite; should the generic sweep be finite there (the
        numpy plan multiplies tree paths in another order), its answer is used.
        """
        grads = result.grads
        if grads is None:
            return
        with np.errstate(invalid="ignore", over="ignore"):
            if math.isfinite(grads.sum()):  # one pass; a sum that overflows sends finite gradients the long way
                return
            bad = ~np.isfinite(grads).all(axis=0)
        if first_guard is not None:
            bad &= first_guard < 0
        for column in np.flatnonzero(bad):
            grads[:, column] = self._generic_gradient(points, int(column), output, wrt, offset)

    def _generic_gradient(self, points, column, output, wrt, offset):
        """The gradient at one column by :func:`pathad.solve` on the replayed partials (raises DomainError)."""
        tape = self.tape
        point = points[:, column : column + 1]
        replayed = self.compute(point, output, exact=True, wrt=wrt)
        values, partials = replayed.everything()
        active = self.active_nodes(output, wrt)
        needed = np.flatnonzero(active[tape.src] & active[tape.dst])
        sources = self.input_positions[as_index(wrt, len(tape.inputs))]
        where = f"replaying batch element {offset + column}" if points.shape[1] > 1 or offset else "replaying"
        sweep = tape._generic_solve(partials[needed, 0], needed, [output], False, sources.tolist(), where)
        return np.array([sweep.get(int(s), 0.0) for s in sources])

    def compute(self, points, output=None, exact=False, wrt=None, backend=None):
        """A :class:`Replayed`: values, and with an ``output`` its gradient with respect to ``wrt``, at the columns
        of ``points``.

        numba runs the whole program (sums of products fused, unless
        ``exact``: then every node's value and every needed partial is kept)
        and its backward pass in one compiled call; numpy level by level,
        then the partials by op, then the planned sweep.  ``backend``: the
        tape's choice for this batch size when not given.
        """
        tape = self.tape
        rows = as_index(wrt, len(tape.inputs))
        backend = backend or tape._replay_backend(points.shape[1])
        if backend == "numba":
            layout = self.layout(exact or self.fast.folds(output))
            back, seed, active = (None, -1, layout.inactive) if output is None else layout.backward(output, wrt)
            # the arrays are the layout's own, reused by the next call: what leaves this call is copied out
            values, partials, adjoint, finite = run_program(
                layout.program, points, back, seed, active, layout.workspace
            )
            grads = None if adjoint is None else np.array(adjoint[: len(tape.inputs)][rows])
            outputs = values[layout.output_slots]
            return Replayed(values, layout.slot_of_node, partials, layout.edge_row, outputs, grads, finite)
        with spending("program_one" if points.shape[1] == 1 else "program_batch"):
            return self._compute_numpy(points, output, rows)

    def _compute_numpy(self, points, output, rows):
        tape = self.tape
        values = self.forward_values(points)
        if output is None:
            return Replayed(values, None, None, None, values[tape.outputs], None, False)
        partials = self.partials(values)
        adjoint = tape._run([output], False, partials, ARRAY_SEMIRINGS["real"], points.shape[1])
        grads = adjoint[self.input_positions[rows]]
        return Replayed(values, None, partials, None, values[tape.outputs], grads, False)

    def values_and_partials(self, points, active, backend=None):
        """(:class:`Replayed`, partials (E, B)): every node's value, and the partials of the edges between nodes
        of the mask ``active`` (0 on the others, which are not computed): what a Jacobian's vector sweeps read.

        numba runs the layout that keeps every node (no fused sums) without a
        backward pass, and its ``finite`` covers every value and partial it
        computed; numpy evaluates level by level, then every partial (its
        ``finite`` is False: not checked).
        """
        rows, unneeded = self._partial_rows(active)
        if rows is not None and (backend or self.tape._replay_backend(points.shape[1])) == "numba":
            layout = self.layout(True)
            values, partials, _, finite = run_program(layout.program, points, None, -1, rows[1], layout.workspace)
            weights = partials[rows[0]]
            weights[unneeded] = 0.0
            return Replayed(values, layout.slot_of_node, None, None, None, None, finite), weights
        with spending("program_one" if points.shape[1] == 1 else "program_batch"):
            values = self.forward_values(points)
            weights = self.partials(values)
            weights[unneeded] = 0.0
            return Replayed(values, None, None, None, None, None, False), weights

    def _partial_rows(self, active):
        """For the mask ``active``: ((row of each edge's partial in the numba layout, active slots), or None
        when the layout lacks a partial some needed edge has; the edges not needed), kept per mask."""
        key = active.tobytes()
        if key not in self._vector_rows:
            tape = self.tape
            needed = active[tape.src] & active[tape.dst]
            rows = None
            if self.tape.backend != "numpy":
                layout = self.layout(True)
                edge_row = layout.edge_row
                if not (needed & (edge_row < 0)).any():
                    slots = np.zeros(layout.n_slots, dtype=np.bool_)
                    slots[layout.slot_of_node[active & (layout.slot_of_node >= 0)]] = True
                    rows = (np.where(needed, edge_row, 0), slots)
            self._vector_rows[key] = (rows, np.flatnonzero(~needed))
        return self._vector_rows[key]

    def active_nodes(self, output, wrt):
        """Mask of the nodes on paths from the inputs ``wrt`` (rows; None: all) to ``output``."""
        key = (output, wrt)
        if key not in self._active:
            tape = self.tape
            sources = self.input_positions[as_index(wrt, len(tape.inputs))]
            self._active[key] = tape._reach([output], False) & tape._reach(sources.tolist(), True)
        return self._active[key]

    @cached_property
    def fast(self):
        """The numba layout with sums of products fused."""
        return Layout(self, fuse=True)

    def layout(self, exact):
        """The numba layout: fused (``fast``), or every node and edge kept (built when first needed)."""
        if not exact:
            return self.fast
        if "exact" not in self.__dict__:
            self.exact = Layout(self, fuse=False)
        return self.exact

    def forward_values(self, points):
        """Every node's value, shape (n, B), by the plan for this batch size (:class:`_ForwardPlan`): levels of
        many nodes by one rule call per group of like nodes (chains by one cumsum), runs of narrow levels node by
        node, on rows of numpy or, for a point or two, on Python floats."""
        tape = self.tape
        self._plan_numpy()
        plan = self._forward_plan(points.shape[1])
        n = tape.n_nodes
        work = np.empty((n + plan.consts.size, points.shape[1]))  # the constants' rows after the nodes'
        work[n:] = plan.consts[:, None]
        values = work[:n]
        values[self.input_positions] = np.asarray(points)
        with np.errstate(all="ignore"):
            for step in plan.steps:
                step.run(work)
        return values

    def partials(self, values):
        """Every edge's local partial, shape (E, B), by one rule call per (op, operand, pattern)."""
        tape = self.tape
        self._plan_numpy()
        partials = np.empty((tape.n_edges, values.shape[1]))
        with np.errstate(all="ignore"):
            for group in self.partial_groups:
                operands = group.operands(values)
                result = values[group.nodes]
                for rule, edges in group.partial_edges:
                    partials[edges] = _call(rule, operands, (result,))
        return partials

    def _check_partials(self, values, partials, keep, offset):
        """A DomainError for the first partial that is not finite, in a column that keeps its branches."""
        if np.isfinite(partials).all():
            return
        bad = ~np.isfinite(partials) & keep
        if bad.any():
            edge, column = np.argwhere(bad)[0]
            self._raise_partial(values, int(edge), int(column), offset, partials[edge, column])

    def keeps_branch(self, points):
        """Whether every point keeps the traced branch (True without guards): for the fused kernels, which do
        not check guards; a values-only replay on numba, then :meth:`check_guards`."""
        if not self.guard_ops:
            return True
        replayed = self.compute(points, backend="numba")
        return self._excuse_traced_point(self.check_guards(replayed.at), points) is None

    def check_guards(self, at):
        """For each column, the index of the first guard whose outcome changes (-1: none); None without guards.

        ``at(positions)`` gives those nodes' values, shape (len(positions), B).
        """
        if not self.guard_ops:
            return None
        left = at(self.guard_left)
        first = np.full(left.shape[1], -1, dtype=np.int64)
        has_right = self.guard_right[:, None] >= 0
        right = np.where(has_right, at(np.maximum(self.guard_right, 0)), self.guard_const[:, None])
        outcome = np.empty_like(left, dtype=bool)
        for symbol, compare in _COMPARE.items():
            rows = [i for i, op in enumerate(self.guard_ops) if op == symbol]
            if rows:
                outcome[rows] = compare(left[rows], right[rows])
        changed = outcome != self.guard_outcome[:, None]
        any_changed = changed.any(axis=0)
        first[any_changed] = np.argmax(changed[:, any_changed], axis=0)
        return first

    # --- errors ---

    def _raise_domain(self, values, bad_node, first_guard, offset, batch):
        """A DomainError for the first column whose first failing op precedes any changed guard."""
        guard_time = self.guard_time[first_guard]  # first_guard -1 (none) reads the appended n
        failing = np.flatnonzero(bad_node < guard_time)
        if failing.size:
            column = int(failing[0])
            node = int(bad_node[column])
            reason = f"the result is {values[node, column]}"
            raise DomainError(self._describe(values, node, column, offset, batch, reason))

    def _raise_partial(self, values, edge, column, offset, partial):
        tape = self.tape
        node, j = int(tape.dst[edge]), int(tape.arg[edge])
        reason = f"the derivative in operand {j} does not exist there ({partial})"
        raise DomainError(self._describe(values, node, column, offset, values.shape[1], reason))

    def _describe(self, values, node, column, offset, batch, reason):
        tape = self.tape
        shown = []
        for j in range(ARITY[tape.codes[node]]):
            operand = self.node_of[j, node]
            if operand >= 0:
                shown.append(f"{tape.label(int(operand))} = {float(values[operand, column])!r}")
            else:
                shown.append(repr(float(self.const_of[j, node])))
        plural = "s" if len(shown) > 1 else ""
        where = f" (replaying batch element {offset + column})" if batch > 1 or offset else " (replaying)"
        op, label = OPS[tape.codes[node]], tape.label(node)
        return f"{op} at node {label} with operand{plural} {', '.join(shown)}: {reason}{where}"

    def branch_message(self, points, flipped):
        tape = self.tape
        column = int(np.flatnonzero(flipped >= 0)[0])
        guard = tape._guards[int(flipped[column])]
        at = self.compute(points[:, column : column + 1]).at
        left = at(self.guard_left[flipped[column] : flipped[column] + 1])[0, 0]
        point = points[:, column]
        at = ", ".join(f"{name} = {float(point[row])!r}" for row, name in enumerate(tape.inputs))
        count = int((flipped >= 0).sum())
        return (
            f"the program takes another branch at batch element {column} ({at}): the guard "
            f"{guard.describe(_Labels(tape))} was {guard.outcome} when traced and is {not guard.outcome} now "
            f"(its left side is {float(left)!r}); {count} of {points.shape[1]} points are affected. "
            "Pass retrace=<the traced function> to trace those points again"
        )


class _Group:
    """Nodes of one op whose operands are traced at the same positions: one rule call evaluates them all.

    ``recipe[j]`` is operand j: an array of node positions (traced), or the
    constant (a float when all nodes share it, else a column of them).
    """

    def __init__(self, program, code, traced, nodes):
        self.primitive, self.nodes = PRIMITIVES[OPS[code]], nodes
        self.recipe = []
        for j in range(self.primitive.arity):
            if traced >> j & 1:
                self.recipe.append(program.node_of[j, nodes])
            else:
                constants = program.const_of[j, nodes]
                self.recipe.append(float(constants[0]) if (constants == constants[0]).all() else constants[:, None])
        self.partial_edges = [
            (rule, program.edge_of[j, nodes]) for j, rule in enumerate(self.primitive.partials) if traced >> j & 1
        ]
        self._traced = [traced >> j & 1 for j in range(self.primitive.arity)]

    def operands(self, values):
        return [values[r] if t else r for r, t in zip(self.recipe, self._traced)]


class _ForwardPlan:
    """How :meth:`Program.forward_values` evaluates a batch: its steps in order, and the constants' rows.

    A level goes by groups (one rule call per group of like nodes on the
    fancy-indexed rows, and a cumsum per bucket of chains: cheap for many
    nodes) or node by node, by the rough costs :data:`_SCALAR_COST`,
    :data:`_ROW_COST`, :data:`_GROUP_COST`; a run of levels that go node by
    node is one segment, evaluated in position order, either on rows (one
    numpy call per node on its row of the batch: no gathering, no grouping)
    or on Python floats (a point at a time: no numpy call at all), whichever
    is cheaper over the run (see :func:`~pathad.compiled.schedule.choose_ways`).
    All three give the same numbers: a rule
    evaluates numpy's own way everywhere (on Python floats only where Python's
    arithmetic is that of numpy: +, −, ·, /, sqrt, ..., or where math's
    function gave numpy's bits on a sample, see :func:`_scalar_rule_of`), so a
    point gives the same bits alone or in a batch of any size.
    """

    def __init__(self, program, batch):
        ways = {"rows": program.level_width * _ROW_COST, "scalar": program.level_scalar * batch * _SCALAR_COST}
        groups = program.level_calls * _GROUP_COST
        empty = program.level_width == 0  # (the inputs' level): node by node at no cost, so it joins a run
        for costs in ways.values():
            costs[empty] = 0.0
        groups[empty] = 1.0
        steps = choose_ways(groups, ways, _GROUP_COST, np.ones(groups.size, dtype=bool), "groups")
        by_groups = np.zeros(groups.size, dtype=bool)
        for lo, hi, way in steps:
            by_groups[lo:hi] = way == "groups"
        groups_of, buckets_of = program._level_groups(by_groups), program._chain_buckets(by_groups)
        self.steps, consts = [], []
        base = program.tape.n_nodes
        for lo, hi, way in steps:
            if way == "groups":
                self.steps += [_GroupStep(groups_of.get(lv, []), buckets_of.get(lv, [])) for lv in range(lo, hi)]
                continue
            nodes = np.sort(program.by_level[program.level_start[lo] : program.level_start[hi]])
            if not nodes.size:
                continue
            if way == "rows":
                segment = _RowSegment(program, nodes, base)
                base += segment.consts.size
                consts.append(segment.consts)
            else:
                segment = _ScalarSegment(program, nodes)
            self.steps.append(segment)
        self.consts = np.concatenate(consts) if consts else np.zeros(0)


class _GroupStep:
    """A level evaluated by groups: each group one rule call, each bucket of chains one cumsum."""

    def __init__(self, groups, buckets):
        self.groups, self.buckets = groups, buckets

    def run(self, values):
        for group in self.groups:
            values[group.nodes] = _call(group.primitive.value, group.operands(values))
        for chains in self.buckets:
            chains.fill(values)


class _Labels:
    """What Guard.describe needs from a tape: node id -> label."""

    def __init__(self, tape):
        self._tape = tape

    def label(self, node):
        return self._tape.label(self._tape._position_of_node(node))


class Replayed:
    """What one replay computed: values (by node, through ``rows`` when not every node has a row), partials,
    the outputs' values, the inputs' gradients (or None) and whether everything was checked finite (False: not
    known to be)."""

    def __init__(self, values, rows, partials, partial_rows, outputs, grads, finite):
        self.values, self.rows, self.partials, self.partial_rows = values, rows, partials, partial_rows
        self.outputs, self.grads, self.finite = outputs, grads, finite

    def at(self, positions):
        """The values of the nodes at ``positions``, shape (len(positions), B)."""
        return self.values[positions] if self.rows is None else self.values[self.rows[positions]]

    def everything(self):
        """Every node's value (n, B) and every edge's partial (E, B) (from an exact replay)."""
        if self.rows is None:
            return self.values, self.partials
        return self.values[self.rows], self.partials[self.partial_rows]


def numba_chunk(units):
    """Points per compiled call of the numba layout ``units``: its values and partials within :data:`_BUDGET`
    elements (the adjoints are the size of the gradient handed out, so they count as the result, not as work)."""
    return max(1, _BUDGET // max(units.n_slots + units.n_partials, 1))


def as_index(rows, n):
    """Input rows (None: all n, a range, or a tuple) as something numpy indexes fast: a slice or an array."""
    if rows is None:
        return slice(0, n)
    if isinstance(rows, range):
        return slice(rows.start, rows.stop, rows.step) if rows.stop >= 0 else np.arange(n)[rows]
    return np.array(rows, dtype=np.int64)


def _check_inputs(tape, points):
    """ValueError naming the first input that is not a finite number."""
    points = np.asarray(points)
    bad = ~np.isfinite(points)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        name = list(tape.inputs)[row]
        where = f" (batch element {column})" if points.shape[1] > 1 else ""
        raise ValueError(f"inputs must be finite: {name} = {points[row, column]}{where}")


def _first_nonfinite(values):
    """Per column, the position of the first node whose value is not finite (n when none)."""
    if np.isfinite(values).all():
        return np.full(values.shape[1], values.shape[0])
    bad = ~np.isfinite(values)
    return np.where(bad.any(axis=0), np.argmax(bad, axis=0), values.shape[0])
