"""The compiled loops, written as plain Python: the replay of a recorded program and the sweep of a plan.

numba compiles these functions from a generated module
(:mod:`pathad.compiled.kernel_source` copies this file's text into it, after
the op dispatch it writes from the primitive table), which lives in pathad's
cache directory so numba's disk cache serves every later process.  Nothing
here closes over a Python object: the only free names are this module's own
functions and constants, math, numpy, and the two the generated module defines:

* ``op_values(c, a, b, need_p, need_q) -> (value, ∂/∂a, ∂/∂b)``: the op
  with code ``c`` on numbers, one branch per primitive, with the partials not
  needed left 0 (a unary op ignores ``b``); numbers only, so a call costs no
  reference counting;
* ``SUM``, the unit kind of a fused sum (see
  :class:`pathad.compiled.numba_backend.Units`).

The functions run as plain Python too (slowly), which is how the tests read
them without numba.
"""

import math

import numpy as np

__all__ = ["run_units", "program_one", "program_batch", "annihilated", "clear", "depths", "plus", "times",
           "sweep_one", "sweep"]  # fmt: skip

SUM = -1
LAZY = 64  # from this many points on, the backward pass zeroes each adjoint row when it first gets a term


def op_values(c, a, b, need_p, need_q):  # replaced by the generated dispatch
    raise NotImplementedError("op_values is generated from the primitive table (pathad.compiled.kernel_source)")


def annihilated(product, factor):
    """``product`` (a · factor), or 0 where it is nan because ``factor`` is 0 (zero annihilates: inf · 0 is 0)."""
    if product != product and factor == 0.0:
        return 0.0
    return product


def run_units(single, units, terms, signs, consts, fixed, points, back, seed, active, values, partials, adjoint):
    """Inputs (``fixed`` ones first, then ``points``) and constants into their slots, every unit forward, then
    (seed >= 0) the backward pass; returns whether every value and computed partial is finite.

    ``active`` marks the slots whose adjoints the backward pass needs: only
    partials into active operands of active units are computed.  With
    ``single`` (a constant where it is compiled) every loop over the lanes has
    one turn and compiles away, which is what makes one point fast.
    """
    batch = 1 if single else values.shape[1]
    finite = True
    for i in range(fixed.size):
        finite &= math.isfinite(fixed[i])
        for k in range(batch):
            values[i, k] = fixed[i]
    for i in range(points.shape[0]):
        for k in range(batch):
            values[fixed.size + i, k] = points[i, k]
            finite &= math.isfinite(points[i, k])
    first_const = values.shape[0] - consts.size
    for i in range(consts.size):
        for k in range(batch):
            values[first_const + i, k] = consts[i]
    for u in range(units.shape[0]):
        c, v, a, b, e, f = units[u, 0], units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
        if c == SUM:  # Σ sign·a(·b), added up in the program's own order
            t0 = units[u, 6]
            for t in range(t0, units[u, 7]):
                a, b, s = terms[t, 0], terms[t, 1], signs[t]
                if t == t0 and terms[t, 2]:
                    for k in range(batch):
                        values[v, k] = values[a, k] * values[b, k]
                elif t == t0:
                    for k in range(batch):
                        values[v, k] = values[a, k]
                elif terms[t, 2]:
                    for k in range(batch):
                        values[v, k] = values[v, k] + s * (values[a, k] * values[b, k])
                else:
                    for k in range(batch):
                        values[v, k] = values[v, k] + s * values[a, k]
            for k in range(batch):  # a non-finite partial sum or product leaves the total non-finite too
                finite &= math.isfinite(values[v, k])
            continue
        need_p = active[v] and active[a]
        need_q = f >= 0 and active[v] and active[b]
        for k in range(batch):
            r, p, q = op_values(c, float(values[a, k]), float(values[b, k]), need_p, need_q)
            values[v, k] = r
            finite &= math.isfinite(r)
            if need_p:
                partials[e, k] = p
                finite &= math.isfinite(p)
            if need_q:
                partials[f, k] = q
                finite &= math.isfinite(q)
    if seed < 0:
        return finite
    # From LAZY points on, each adjoint row is zeroed when it first gets a term instead of all of them up front: the
    # row is then in the cache when the term is added.  A batch's adjoints are as big as its values, and a pass of
    # their own through memory to zero them cost the 20,000-term loop sum at 1000 points 79 ms a call instead of 68.
    # Rows that get no term are zeroed at the end.  Fewer points zero up front: there the test per term would cost
    # more than it saves (measured at one point: about 2 ns a term, doubling a sum's backward pass).
    lazy = batch >= LAZY
    cleared = np.zeros(adjoint.shape[0] if lazy else 0, dtype=np.bool_)
    if not lazy:
        for i in range(adjoint.shape[0]):
            for k in range(batch):
                adjoint[i, k] = 0.0
    for k in range(batch):
        adjoint[seed, k] = 1.0
    if lazy:
        cleared[seed] = True
    for i in range(back.size):
        u = back[i]
        v, a, b, e, f = units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
        clear(adjoint, v, batch, cleared, lazy)  # a unit's own adjoint is read: 0 if no later unit gave it a term
        # a partial 0 adds nothing, even to an adjoint that overflowed (inf · 0 would be nan): zero annihilates.
        # Every product is tested on the rare nan, not on its factor being zero: a branch per lane would keep the
        # lane loops from vectorizing (measured 25% slower at 1000 points) and relu's 0s would be unpredictable.
        if units[u, 0] != SUM:  # each active operand gets adjoint · partial
            if active[a]:
                clear(adjoint, a, batch, cleared, lazy)
                for k in range(batch):
                    adjoint[a, k] += annihilated(adjoint[v, k] * partials[e, k], partials[e, k])
            if f >= 0 and active[b]:
                clear(adjoint, b, batch, cleared, lazy)
                for k in range(batch):
                    adjoint[b, k] += annihilated(adjoint[v, k] * partials[f, k], partials[f, k])
            continue
        for t in range(units[u, 6], units[u, 7]):  # a sum's partials: ±1, and the other factor of a product
            a, b, s = terms[t, 0], terms[t, 1], signs[t]
            if terms[t, 2] and active[a]:
                clear(adjoint, a, batch, cleared, lazy)
                for k in range(batch):
                    adjoint[a, k] += annihilated((s * adjoint[v, k]) * values[b, k], values[b, k])
            if terms[t, 2] and active[b]:
                clear(adjoint, b, batch, cleared, lazy)
                for k in range(batch):
                    adjoint[b, k] += annihilated((s * adjoint[v, k]) * values[a, k], values[a, k])
            if not terms[t, 2] and active[a]:
                clear(adjoint, a, batch, cleared, lazy)
                for k in range(batch):
                    adjoint[a, k] += s * adjoint[v, k]
    for i in range(adjoint.shape[0] if lazy else 0):
        clear(adjoint, i, batch, cleared, lazy)
    return finite


def clear(adjoint, i, batch, cleared, lazy):
    """With ``lazy``, zero row ``i`` of ``adjoint`` unless it was already (``cleared`` marks the rows that were)."""
    if lazy and not cleared[i]:
        for k in range(batch):
            adjoint[i, k] = 0.0
        cleared[i] = True


def program_one(units, terms, signs, consts, fixed, points, back, seed, active, values, partials, adjoint):
    """:func:`run_units` for one point (each loop over the lanes compiled away)."""
    return run_units(True, units, terms, signs, consts, fixed, points, back, seed, active, values, partials, adjoint)


def program_batch(units, terms, signs, consts, fixed, points, back, seed, active, values, partials, adjoint):
    """:func:`run_units` for a batch: lanes (points) are the inner loop of every unit."""
    return run_units(False, units, terms, signs, consts, fixed, points, back, seed, active, values, partials, adjoint)


def depths(node_of):
    """The longest path from an operand-free node to each node; ``node_of[j, v]`` is operand j of node v (-1: none)
    and every operand precedes its node."""
    depth = np.zeros(node_of.shape[1], dtype=np.int64)
    for v in range(node_of.shape[1]):
        for j in range(node_of.shape[0]):
            u = node_of[j, v]
            if u >= 0 and depth[u] + 1 > depth[v]:
                depth[v] = depth[u] + 1
    return depth


def plus(code, a, b):
    """⊕ of the semiring with this code (:data:`pathad.compiled.numba_backend.NUMBA_CODES`)."""
    if code == 0:
        return a + b
    if code == 3:
        return min(a, b)
    return max(a, b)  # boolean (or on 0/1), max-times, max-plus


def times(code, a, b):
    """⊗ of the semiring with this code."""
    if code == 0:
        return a * b
    if code == 1:
        return min(a, b)  # and on 0/1
    if code == 2:
        return -np.inf if a == -np.inf or b == -np.inf else a * b
    return a + b


def sweep_one(code, zero, seed, seeded, w, tree_edge, tree_parent, tree_nodes, tree_offsets,
              root_nodes, root_readers, root_edges, root_starts, root_offsets, value):  # fmt: skip
    """One point of a planned sweep: ``value`` (n,) from weights ``w`` (E,), a seeded node v starting
    from ``seed[v]``."""
    for v in range(value.size):
        value[v] = seed[v] if seeded[v] else zero
    for level in range(tree_offsets.size - 1):
        for r in range(root_offsets[level], root_offsets[level + 1]):
            v, lo = root_nodes[r], root_starts[r]
            hi = root_starts[r + 1] if r + 1 < root_nodes.size else root_edges.size
            g = zero  # an edge whose weight is zero adds no term: zero annihilates (inf · 0 would be nan)
            for k in range(lo, hi):
                wk, other = w[root_edges[k]], value[root_readers[k]]
                term = times(code, other, wk)
                if term != term and (wk == zero or other == zero):  # tested on the rare nan only
                    term = zero
                g = plus(code, g, term)
            value[v] = plus(code, seed[v], g) if seeded[v] else g
        for t in range(tree_offsets[level], tree_offsets[level + 1]):  # parents before children
            wt, parent = w[tree_edge[t]], value[tree_parent[t]]
            term = times(code, parent, wt)
            value[tree_nodes[t]] = zero if term != term and (wt == zero or parent == zero) else term


def sweep(code, zero, seeds, seeded, w, tree_edge, tree_parent, tree_nodes, tree_offsets,
          root_nodes, root_readers, root_edges, root_starts, root_offsets, values):  # fmt: skip
    """Each point in turn: ``values`` (B, n) from weights ``w`` (B, E) or (1, E) and seed values ``seeds``
    (B, n) or (1, n) (read where ``seeded``)."""
    for b in range(values.shape[0]):
        weights = w[b if w.shape[0] > 1 else 0]
        seed = seeds[b if seeds.shape[0] > 1 else 0]
        sweep_one(code, zero, seed, seeded, weights, tree_edge, tree_parent, tree_nodes, tree_offsets,
                  root_nodes, root_readers, root_edges, root_starts, root_offsets, values[b])  # fmt: skip
