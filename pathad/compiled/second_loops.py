"""The compiled loop of second derivatives: replay, tangents and both adjoints of a recorded program in one pass.

Forward over reverse on the units of a :class:`~pathad.compiled.numba_backend.Units`
program at each point, every seed direction a lane:

1. forward, each unit's value and first partials (the generated ``op_values``)
   and its tangent along every direction, ȧ_v = Σ_j ∂v/∂a_j · ȧ_j;
2. backward from the seed, the adjoint ā and the second adjoint ǡ, the two
   halves of the DUAL semiring's pairs (:mod:`pathad.compiled.hessians`): an
   operand a_j of v gets ā_v · ∂v/∂a_j and

       ǡ_v · ∂v/∂a_j + ā_v · Σ_k ∂²v/∂a_j∂a_k · ȧ_k,

   the second partials from the generated ``op_second``; at the inputs ā is
   the gradient and ǡ the Hessian-vector products.

Only slots on a path from the inputs to the seed (``active``) get tangents
and adjoints: any other slot a unit reads has tangent 0.  ``curved[c]`` says
which of an op's second partials (∂²/∂a², ∂²/∂a∂b, ∂²/∂b²) are not the
table's zero rule, so a linear op costs no second-partial call.

The result is trusted only when the returned flag is True: every value, first
and second partial and result is finite.  The loop does no zero-annihilation
(inf · 0 stays nan), so any overflow on the way leaves a result non-finite;
then the caller takes the general way, which names the node.

Two loops do it in two orders.  :func:`second_points` takes one point after
another, the directions its inner loop: the way for one point and a few.
:func:`second_lanes` takes every unit once for all the points, the points
its inner loop, so a unit's decoding, its op dispatch and its loop set-up are
paid once per batch rather than once per point (measured on the 200-input
Rosenbrock function, 3 directions: 32 µs a point at 100 points against 74
one point at a time, but 89 µs against 59 at one point, where its loops over
one lane cost more than they save).

Like :mod:`pathad.compiled.loops`, this file is pasted verbatim into the
generated kernel module (after the dispatches) and runs as plain Python too.
"""

import math

from pathad.compiled.loops import SUM, op_values  # noqa: F401 - op_values: the generated dispatch's stand-in

__all__ = ["second_points", "second_lanes", "symmetric_entries"]


def op_second(c, a, b, r, need_aa, need_ab, need_bb):  # replaced by the generated dispatch
    raise NotImplementedError("op_second is generated from the primitive table (pathad.compiled.kernel_source)")


def second_points(units, terms, signs, consts, fixed, points, back, seed, active, curved, directions,
                 values, partials, tangent, adjoint, second, value_out, gradient_out, product_out):  # fmt: skip
    """For each point j (a column of ``points``) in turn: ``value_out[j]``, ``gradient_out[j]`` (inputs,) and
    ``product_out[j]`` (inputs, width), the Hessian-vector products along ``directions[j]`` (inputs, width)
    (or ``directions[0]`` at every point); returns whether everything computed was finite.

    Work arrays, one point's: ``values`` and ``adjoint`` (slots,),
    ``partials`` (rows,), ``tangent`` and ``second`` (slots, width), the
    directions the inner loop.  One function, its helpers written out: numba
    passed the work arrays to separate ones at a cost per call (measured: the
    backward pass twice as slow), inlined or not.
    """
    width, n_fixed = tangent.shape[1], fixed.size
    n_in = n_fixed + points.shape[0]
    first_const = values.shape[0] - consts.size
    finite = True
    for i in range(consts.size):
        values[first_const + i] = consts[i]
    for i in range(n_fixed):
        values[i] = fixed[i]
        finite &= math.isfinite(fixed[i])
    for i in range(values.shape[0]):  # slots a unit reads without a tangent of their own keep 0
        for k in range(width):
            tangent[i, k] = 0.0
    for j in range(points.shape[1]):
        d = directions[j if directions.shape[0] > 1 else 0]
        for i in range(points.shape[0]):
            values[n_fixed + i] = points[i, j]
            finite &= math.isfinite(points[i, j])
        for i in range(n_in):
            for k in range(width):
                tangent[i, k] = d[i, k] if active[i] else 0.0
        # forward: values, the partials of active operands, tangents of active slots
        for u in range(units.shape[0]):
            c, v, a, b, e, f = units[u, 0], units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
            if c == SUM:  # Σ sign·a(·b), in the replay's own order of additions
                t0, wanted = units[u, 6], active[v]
                for t in range(t0, units[u, 7]):
                    a, b, s = terms[t, 0], terms[t, 1], signs[t]
                    va, vb = values[a], values[b]
                    if terms[t, 2]:
                        values[v] = va * vb if t == t0 else values[v] + s * (va * vb)
                        if wanted and t == t0:
                            for k in range(width):
                                tangent[v, k] = s * (tangent[a, k] * vb + va * tangent[b, k])
                        elif wanted:
                            for k in range(width):
                                tangent[v, k] += s * (tangent[a, k] * vb + va * tangent[b, k])
                    else:
                        values[v] = va if t == t0 else values[v] + s * va
                        if wanted and t == t0:
                            for k in range(width):
                                tangent[v, k] = s * tangent[a, k]
                        elif wanted:
                            for k in range(width):
                                tangent[v, k] += s * tangent[a, k]
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
            if need_p and need_q:
                for k in range(width):
                    tangent[v, k] = p * tangent[a, k] + q * tangent[b, k]
            elif need_p:
                for k in range(width):
                    tangent[v, k] = p * tangent[a, k]
            elif need_q:
                for k in range(width):
                    tangent[v, k] = q * tangent[b, k]
        # backward from the seed: adjoints and second adjoints of the active slots
        for i in range(adjoint.shape[0]):
            adjoint[i] = 0.0
            for k in range(width):
                second[i, k] = 0.0
        adjoint[seed] = 1.0
        for i in range(back.size):
            u = back[i]
            c, v, a, b, e, f = units[u, 0], units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
            av = adjoint[v]
            if c == SUM:  # a term gets ±1, or ± the other factor, and a product its cross term
                for t in range(units[u, 6], units[u, 7]):
                    a, b, s = terms[t, 0], terms[t, 1], signs[t]
                    if not terms[t, 2]:
                        if active[a]:
                            adjoint[a] += s * av
                            for k in range(width):
                                second[a, k] += s * second[v, k]
                        continue
                    va, vb = values[a], values[b]
                    if active[a]:
                        adjoint[a] += (s * av) * vb
                        for k in range(width):
                            second[a, k] += s * (second[v, k] * vb + av * tangent[b, k])
                    if active[b]:
                        adjoint[b] += (s * av) * va
                        for k in range(width):
                            second[b, k] += s * (second[v, k] * va + av * tangent[a, k])
                continue
            need_p, need_q = e >= 0 and active[a], f >= 0 and active[b]
            paa, pab, pbb = 0.0, 0.0, 0.0
            if curved[c, 0] or curved[c, 1] or curved[c, 2]:
                paa, pab, pbb = op_second(c, values[a], values[b], values[v], need_p and curved[c, 0],
                                          need_p and need_q and curved[c, 1], need_q and curved[c, 2])  # fmt: skip
                finite &= math.isfinite(paa) and math.isfinite(pab) and math.isfinite(pbb)
            if need_p:
                p = partials[e]
                adjoint[a] += av * p
                for k in range(width):
                    second[a, k] += second[v, k] * p + av * (paa * tangent[a, k] + pab * tangent[b, k])
            if need_q:
                q = partials[f]
                adjoint[b] += av * q
                for k in range(width):
                    second[b, k] += second[v, k] * q + av * (pab * tangent[a, k] + pbb * tangent[b, k])
        value_out[j] = values[seed]
        finite &= math.isfinite(values[seed])
        for i in range(n_in):
            gradient_out[j, i] = adjoint[i]
            finite &= math.isfinite(adjoint[i])
            for k in range(width):
                product_out[j, i, k] = second[i, k]
                finite &= math.isfinite(second[i, k])
    return finite


def second_lanes(units, terms, signs, consts, fixed, points, back, seed, active, curved, directions,
                 values, partials, tangent, adjoint, second, rates, value_out, gradient_out, product_out):  # fmt: skip
    """:func:`second_points` with every point a lane: the same results, all points at once.

    Work arrays, lanes (points) last: ``values`` and ``adjoint`` (slots, B),
    ``partials`` (rows, B), ``tangent`` and ``second`` (slots, width, B),
    ``rates`` (3, B) for one op's second partials times the adjoint.
    """
    batch = values.shape[1]
    width, n_fixed = tangent.shape[1], fixed.size
    n_in = n_fixed + points.shape[0]
    first_const = values.shape[0] - consts.size
    finite = True
    for i in range(consts.size):
        for j in range(batch):
            values[first_const + i, j] = consts[i]
    for i in range(n_fixed):
        finite &= math.isfinite(fixed[i])
        for j in range(batch):
            values[i, j] = fixed[i]
    for i in range(points.shape[0]):
        for j in range(batch):
            values[n_fixed + i, j] = points[i, j]
            finite &= math.isfinite(points[i, j])
    for i in range(values.shape[0]):  # slots a unit reads without a tangent of their own keep 0
        for k in range(width):
            for j in range(batch):
                tangent[i, k, j] = 0.0
    for i in range(n_in):
        if active[i]:
            for k in range(width):
                for j in range(batch):
                    tangent[i, k, j] = directions[j if directions.shape[0] > 1 else 0, i, k]
    # forward: values, the partials of active operands, tangents of active slots
    for u in range(units.shape[0]):
        c, v, a, b, e, f = units[u, 0], units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
        if c == SUM:  # Σ sign·a(·b), in the replay's own order of additions
            t0, wanted = units[u, 6], active[v]
            for t in range(t0, units[u, 7]):
                a, b, s = terms[t, 0], terms[t, 1], signs[t]
                if terms[t, 2]:
                    for j in range(batch):
                        values[v, j] = values[a, j] * values[b, j] if t == t0 else values[v, j] + s * (
                            values[a, j] * values[b, j])  # fmt: skip
                    for k in range(width if wanted else 0):
                        for j in range(batch):
                            dt = s * (tangent[a, k, j] * values[b, j] + values[a, j] * tangent[b, k, j])
                            tangent[v, k, j] = dt if t == t0 else tangent[v, k, j] + dt
                else:
                    for j in range(batch):
                        values[v, j] = values[a, j] if t == t0 else values[v, j] + s * values[a, j]
                    for k in range(width if wanted else 0):
                        for j in range(batch):
                            dt = s * tangent[a, k, j]
                            tangent[v, k, j] = dt if t == t0 else tangent[v, k, j] + dt
            for j in range(batch):
                finite &= math.isfinite(values[v, j])
            continue
        need_p = e >= 0 and active[v] and active[a]
        need_q = f >= 0 and active[v] and active[b]
        for j in range(batch):
            r, p, q = op_values(c, values[a, j], values[b, j], need_p, need_q)
            values[v, j] = r
            finite &= math.isfinite(r)
            if need_p:
                partials[e, j] = p
                finite &= math.isfinite(p)
            if need_q:
                partials[f, j] = q
                finite &= math.isfinite(q)
        for k in range(width):
            if need_p and need_q:
                for j in range(batch):
                    tangent[v, k, j] = partials[e, j] * tangent[a, k, j] + partials[f, j] * tangent[b, k, j]
            elif need_p:
                for j in range(batch):
                    tangent[v, k, j] = partials[e, j] * tangent[a, k, j]
            elif need_q:
                for j in range(batch):
                    tangent[v, k, j] = partials[f, j] * tangent[b, k, j]
    # backward from the seed: adjoints and second adjoints of the active slots
    for i in range(adjoint.shape[0]):
        for j in range(batch):
            adjoint[i, j] = 0.0
        for k in range(width):
            for j in range(batch):
                second[i, k, j] = 0.0
    for j in range(batch):
        adjoint[seed, j] = 1.0
    for i in range(back.size):
        u = back[i]
        c, v, a, b, e, f = units[u, 0], units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
        if c == SUM:  # a term gets ±1, or ± the other factor, and a product its cross term
            for t in range(units[u, 6], units[u, 7]):
                a, b, s = terms[t, 0], terms[t, 1], signs[t]
                if not terms[t, 2]:
                    if active[a]:
                        for j in range(batch):
                            adjoint[a, j] += s * adjoint[v, j]
                        for k in range(width):
                            for j in range(batch):
                                second[a, k, j] += s * second[v, k, j]
                    continue
                if active[a]:
                    for j in range(batch):
                        adjoint[a, j] += (s * adjoint[v, j]) * values[b, j]
                    for k in range(width):
                        for j in range(batch):
                            second[a, k, j] += s * (second[v, k, j] * values[b, j] + adjoint[v, j] * tangent[b, k, j])
                if active[b]:
                    for j in range(batch):
                        adjoint[b, j] += (s * adjoint[v, j]) * values[a, j]
                    for k in range(width):
                        for j in range(batch):
                            second[b, k, j] += s * (second[v, k, j] * values[a, j] + adjoint[v, j] * tangent[a, k, j])
            continue
        need_p, need_q = e >= 0 and active[a], f >= 0 and active[b]
        curve = curved[c, 0] or curved[c, 1] or curved[c, 2]
        if curve:
            for j in range(batch):
                paa, pab, pbb = op_second(c, values[a, j], values[b, j], values[v, j], need_p and curved[c, 0],
                                          need_p and need_q and curved[c, 1], need_q and curved[c, 2])  # fmt: skip
                finite &= math.isfinite(paa) and math.isfinite(pab) and math.isfinite(pbb)
                rates[0, j], rates[1, j], rates[2, j] = adjoint[v, j] * paa, adjoint[v, j] * pab, adjoint[v, j] * pbb
        for side in range(2):  # operand a, then b: its ∂²v/∂·∂a and ∂²v/∂·∂b are rates[side] and rates[side + 1]
            x, row = (a, e) if side == 0 else (b, f)
            if not (need_p if side == 0 else need_q):
                continue
            for k in range(width):
                if curve:
                    for j in range(batch):
                        second[x, k, j] += second[v, k, j] * partials[row, j] + (
                            rates[side, j] * tangent[a, k, j] + rates[side + 1, j] * tangent[b, k, j])  # fmt: skip
                else:
                    for j in range(batch):
                        second[x, k, j] += second[v, k, j] * partials[row, j]
            for j in range(batch):
                adjoint[x, j] += adjoint[v, j] * partials[row, j]
    for j in range(batch):
        value_out[j] = values[seed, j]
        finite &= math.isfinite(values[seed, j])
        for i in range(n_in):
            gradient_out[j, i] = adjoint[i, j]
            finite &= math.isfinite(adjoint[i, j])
            for k in range(width):
                product_out[j, i, k] = second[i, k, j]
                finite &= math.isfinite(second[i, k, j])
    return finite


def symmetric_entries(products, take, mirror, place, matrix):
    """A Hessian's entries from its HVPs: ``matrix[b, place[e]]`` = the mean of entry e, ``products[b, take[e]]``,
    and its mirror's, ``products[b, take[mirror[e]]]``; returns the largest difference between the two."""
    asymmetry = 0.0
    for b in range(products.shape[0]):
        for e in range(take.size):
            x, y = products[b, take[e]], products[b, take[mirror[e]]]
            asymmetry = max(asymmetry, abs(x - y))
            matrix[b, place[e]] = (x + y) * 0.5
    return asymmetry
