"""The compiled loop of a Jacobian: the replay and its vector sweep in one pass, one point after another.

:meth:`pathad.compiled.CompiledTape.jacobian` on numba used to make two
kernel calls (the replay for the partials, then the planned vector sweep over
every edge) and a read-off in numpy; for a small dense Jacobian the calls and
the read-off cost more than the arithmetic.  Here the replay's own units carry
the sweep: forward, each unit's tangents along the seed directions as it is
evaluated; backward, the adjoints of every seed direction unit by unit, last
first, as :func:`pathad.compiled.loops.run_units` runs one.  Fused sums of
products (the replay layout's) get the product rule.

Like :mod:`pathad.compiled.loops`, this file is pasted verbatim into the
generated kernel module (after the dispatches) and runs as plain Python too.
"""

import math

from pathad.compiled.loops import SUM, op_values  # noqa: F401 - op_values: the generated dispatch's stand-in

__all__ = ["vector_points"]


def vector_points(units, terms, signs, consts, fixed, points, forward, back, active, seeds, direction, rows, reads,
                  values, partials, lanes, row_values, found):  # fmt: skip
    """A Jacobian's vector sweep fused with the replay, one point after another: for point j (a column of
    ``points``), ``row_values[j]`` the values at the slots ``rows`` and ``found[j]`` (reads, width) the lanes at
    the slots ``reads``; returns whether every value, partial and entry read was finite.

    ``forward``: the lanes are tangents, the slots ``seeds`` (inputs) start at
    their rows of ``direction`` (seeds, width) and every active unit's tangent
    is Σ partial · operand's tangent.  Else the lanes are adjoints: the seeds
    (outputs) start at their rows of ``direction`` plus what flows in, and the
    units of ``back`` (last first) give each active operand adjoint · partial.
    ``active``: the slots on a path from a seed to a read.  Work arrays:
    ``values`` (slots,), ``partials`` (rows,), ``lanes`` (slots, width).
    """
    width, n_fixed = lanes.shape[1], fixed.size
    first_const = values.shape[0] - consts.size
    finite = True
    for i in range(consts.size):
        values[first_const + i] = consts[i]
    for i in range(n_fixed):
        values[i] = fixed[i]
        finite &= math.isfinite(fixed[i])
    for j in range(points.shape[1]):
        for i in range(points.shape[0]):
            values[n_fixed + i] = points[i, j]
            finite &= math.isfinite(points[i, j])
        for i in range(lanes.shape[0]):
            for k in range(width):
                lanes[i, k] = 0.0
        for i in range(seeds.size):
            for k in range(width):
                lanes[seeds[i], k] = direction[i, k]
        for u in range(units.shape[0]):
            c, v, a, b, e, f = units[u, 0], units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
            if c == SUM:  # Σ sign·a(·b), in the replay's own order of additions
                t0, wanted = units[u, 6], forward and active[v]
                for t in range(t0, units[u, 7]):
                    a, b, s = terms[t, 0], terms[t, 1], signs[t]
                    va, vb = values[a], values[b]
                    if terms[t, 2]:
                        values[v] = va * vb if t == t0 else values[v] + s * (va * vb)
                        for k in range(width if wanted else 0):
                            lanes[v, k] += s * (lanes[a, k] * vb + va * lanes[b, k])
                    else:
                        values[v] = va if t == t0 else values[v] + s * va
                        for k in range(width if wanted else 0):
                            lanes[v, k] += s * lanes[a, k]
                finite &= math.isfinite(values[v])
                continue
            need_p = e >= 0 and active[v] and active[a]
            need_q = f >= 0 and active[v] and active[b]
            r, p, q = op_values(c, values[a], values[b], need_p, need_q)
            values[v] = r
            finite &= math.isfinite(r)
            if need_p:
                partials[e] = p
                finite &= math.isfinite(p)
            if need_q:
                partials[f] = q
                finite &= math.isfinite(q)
            if forward and need_p and need_q:
                for k in range(width):
                    lanes[v, k] = p * lanes[a, k] + q * lanes[b, k]
            elif forward and need_p:
                for k in range(width):
                    lanes[v, k] = p * lanes[a, k]
            elif forward and need_q:
                for k in range(width):
                    lanes[v, k] = q * lanes[b, k]
        for i in range(0 if forward else back.size):
            u = back[i]
            v = units[u, 1]
            if units[u, 0] == SUM:  # a term gets ±1, or ± the other factor
                for t in range(units[u, 6], units[u, 7]):
                    a, b, s = terms[t, 0], terms[t, 1], signs[t]
                    if not terms[t, 2]:
                        for k in range(width if active[a] else 0):
                            lanes[a, k] += s * lanes[v, k]
                        continue
                    for k in range(width if active[a] else 0):
                        lanes[a, k] += (s * lanes[v, k]) * values[b]
                    for k in range(width if active[b] else 0):
                        lanes[b, k] += (s * lanes[v, k]) * values[a]
                continue
            a, b, e, f = units[u, 2], units[u, 3], units[u, 4], units[u, 5]
            for k in range(width if e >= 0 and active[a] else 0):
                lanes[a, k] += lanes[v, k] * partials[e]
            for k in range(width if f >= 0 and active[b] else 0):
                lanes[b, k] += lanes[v, k] * partials[f]
        for i in range(rows.size):
            row_values[j, i] = values[rows[i]]
        for i in range(reads.size):
            for k in range(width):
                found[j, i, k] = lanes[reads[i], k]
                finite &= math.isfinite(lanes[reads[i], k])
    return finite
