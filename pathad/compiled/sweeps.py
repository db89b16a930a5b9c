"""A :class:`~pathad.compiled.schedule.Schedule` run by numpy calls: trees by pointer jumping, roots by level.

Narrow levels (see :meth:`~pathad.compiled.schedule.Schedule.steps`) go node
by node instead: a Python loop over plain numbers, a batch point at a time, or
a numpy call or two per node on rows of the batch; both repeat the numpy
levels' arithmetic exactly (⊕ in ``reduceat``'s order, the same tree path
products), so a sweep gives the same bits whichever way a level went.

Path products are kept within a band of exponents as they are formed, so a
long tree path neither overflows nor underflows on the way when its product
is a normal float (see :func:`_banded_products`).
"""

import math
import operator

import numpy as np

from .schedule import jump, tree_products

__all__ = ["sweep"]


#: How ⊗ acts on the floats of a numeric semiring: "times" multiplies them (products may leave the range of
#: normal floats), "plus" adds them (sums may overflow); absent: no range to lose (booleans, Python ints).
_ARITHMETIC = {"real": "times", "counting": "times", "max-times": "times", "min-plus": "plus", "max-plus": "plus"}
#: Path products are kept within 2**±_BAND_LOG2: the product of two such floats is a normal float (2**-1022 is the
#: smallest, 2**1024 overflows), rounded once like any product of normal floats.
_BAND_LOG2 = 511
_BAND_LOW, _BAND_HIGH = 2.0**-_BAND_LOG2, 2.0**_BAND_LOG2
_TINY, _HUGE = float(np.finfo(np.float64).tiny), float(np.finfo(np.float64).max)


def _banded(x, exponent):
    """Keep ``x`` within the band: entries outside it (not inf or nan) become their np.frexp mantissa, their
    exponent added to ``exponent`` (allocated when None).  Returns (bound, exponent): bound a K with |log2 |x|| <= K
    for every finite entry."""
    magnitude = np.abs(x)
    lo, hi = float(magnitude.min()), float(magnitude.max())
    if lo >= _BAND_LOW and hi <= _BAND_HIGH:  # false for nan, which then takes the slow way round
        return max(math.log2(hi), -math.log2(lo), 0.0), exponent
    out = (magnitude < _BAND_LOW) | (magnitude > _BAND_HIGH)
    if exponent is None:
        exponent = np.zeros(x.shape, dtype=np.int64)
    x[out], carry = np.frexp(x[out])
    exponent[out] += carry
    magnitude[out] = 1.0  # the mantissas, within [0.5, 1), or inf and nan (whose product is inf or nan anyway)
    lo, hi = float(magnitude.min()), float(magnitude.max())
    bound = max(math.log2(hi), -math.log2(lo), 1.0) if lo >= _BAND_LOW and hi <= _BAND_HIGH else math.inf
    return min(bound, float(_BAND_LOG2)), exponent


def _banded_products(plan, acc):
    """Pointer-jumped products of ``acc`` (no zeros in it) as ``acc · 2**exponent``: (acc, exponent or None).

    Every entry of ``acc`` is kept within 2**±511 (those that leave it move
    their binary exponent into ``exponent``, allocated only then), so the
    product of two entries is always a normal float: no product loses range,
    and none is rounded more than a product of normal floats is.  A round's
    products are only measured (the least and greatest magnitude) when a
    bound does not already place them in the band: entries within 2**±K
    multiply to within 2**±2K, and a measured round gives K its actual value.
    While no exponent is needed the products are exactly those of plain
    pointer jumping (:func:`tree_products`).
    """
    if acc.size == 0:
        return acc, None
    bound, exponent = _banded(acc, None)
    up = plan.parent_index.copy()
    active = np.flatnonzero(up >= 0)
    while active.size:
        above = up[active]
        product = acc[above] * acc[active]
        carried = None if exponent is None else exponent[above] + exponent[active]
        if 2 * bound <= _BAND_LOG2 - 1:  # (a margin for the rounding of log2)
            bound *= 2
        else:
            measured, carried = _banded(product, carried)
            bound = max(bound, measured)
        acc[active] = product
        if carried is not None:
            if exponent is None:  # the first entries to leave the band: from here on exponents are carried
                exponent = np.zeros(acc.shape, dtype=np.int64)
            exponent[active] = carried
        up[active] = up[above]
        active = active[up[active] >= 0]
    return acc, exponent


def _tree_fill(plan, weights, semiring, own=None):
    """(fill, acc, slow): ``fill(root_values, level, a, b)`` is value(root) ⊗ acc for the tree nodes a:b of
    ``level``, acc the ⊗-product of the weights along the path.

    ``fill`` is ``times(root_values, acc[a:b])`` except on the levels where
    ``slow`` (None: none) is true; ``acc`` is None when it is not that anywhere.

    Pointer jumping associates the product differently from the sweep's
    own order, value(parent) ⊗ w edge by edge: float products of products
    can underflow (to 0 or a subnormal) or overflow where every sequential
    value is a normal number, and sums of sums overflow.  So:

    * when ⊗ multiplies floats (real, counting, max-times), the products are
      kept within 2**±511 by moving binary exponents aside
      (:func:`_banded_products`), where needed only: then value(root) ⊗ acc
      is rounded to a float once, at the end, by ``np.ldexp``;
    * when ⊗ adds floats (min-plus, max-plus), a sum of finite numbers that
      overflows stays non-finite; if some acc is, the sums are formed again
      on the weights scaled by 2**-(rounds + 1) (exact but in the subnormals,
      and no sum can overflow then) and those nodes take
      (value(root) · s + acc · s) / s.

    Weights equal to ``zero`` (``own``: whether each tree node's own weight
    is, None when none is) count as ``one`` here: ``sweep`` zeroes those
    paths itself (a zero factor would hide a lost product behind an exact 0).
    """
    kind = _ARITHMETIC.get(semiring.name) if weights.dtype == np.float64 else None
    if kind is None:
        acc = tree_products(plan, weights, semiring)
        return (lambda roots, level, a, b: semiring.times(roots, acc[a:b])), acc, None

    def initial():  # a fresh array each time: the jumping works in place
        acc = weights[plan.tree_edge]
        return np.where(own, semiring.one, acc) if own is not None else acc

    if kind == "times":
        products, exponent = _banded_products(plan, initial())
        if exponent is None:
            return (lambda roots, level, a, b: semiring.times(roots, products[a:b])), products, None
        # where acc · 2**exponent is a normal float it is exact: only the others keep their exponent
        exact = np.ldexp(products, exponent)
        magnitude = np.abs(exact)
        keep = (exponent != 0) & ~((magnitude >= _TINY) & (magnitude <= _HUGE))
        products, exponent = np.where(keep, products, exact), np.where(keep, exponent, 0)
        kept = np.concatenate(([0], np.cumsum(keep.any(axis=1))))
        slow = kept[plan.tree_offsets[1:]] > kept[plan.tree_offsets[:-1]]  # the levels with such nodes

        def fill(roots, level, a, b):
            filled = semiring.times(roots, products[a:b])
            if not slow[level]:
                return filled
            # value(root) ⊗ acc ⊗ 2**exponent, rounded to a float once: the mantissa product is normal
            root_mantissa, root_exponent = np.frexp(roots)
            scaled = np.ldexp(semiring.times(root_mantissa, products[a:b]), root_exponent + exponent[a:b])
            return np.where(keep[a:b] & (roots != semiring.zero), scaled, filled)

        return fill, products, slow
    sums, rounds = jump(plan, initial(), np.add)
    if np.isfinite(sums).all():
        return (lambda roots, level, a, b: roots + sums[a:b]), sums, None
    scale = 2.0 ** -(rounds + 1)
    scaled = jump(plan, initial() * scale, np.add)[0]
    finite = np.isfinite(sums)

    def fill_sums(roots, level, a, b):
        filled = np.where(finite[a:b], roots + sums[a:b], (roots * scale + scaled[a:b]) / scale)
        return np.where(roots == semiring.zero, semiring.zero, filled)

    return fill_sums, None, None


def _zero_on_path(plan, weights, semiring, own=None):
    """For every tree node, whether a weight on its path from its root is ``zero`` (then its value is zero).

    Pointer jumping as :func:`tree_products`, on the exact test ``w == zero``
    (``own``, when given: that test for each tree node's own weight) rather
    than on products, which may have overflowed (inf · 0 is nan) or
    underflowed to 0 without a zero factor.
    """
    own = weights[plan.tree_edge] == semiring.zero if own is None else own.copy()
    return jump(plan, own, np.logical_or)[0]


def sweep(plan, weights, seeds, semiring, batch=1, seed_values=None):
    """Run a planned sweep: path values from ``seeds`` for every node, shape (n, batch).

    Tree nodes get value(root) ⊗ acc, acc the pointer-jumped product of the
    weights on their path; a product that leaves the range of normal floats
    there (where the sequential products need not) is noticed and the path
    products are formed again safely (see :func:`_tree_fill`): the values are
    the sequential ones up to rounding, never an artefact of the association.

    Parameters
    ----------
    plan : Schedule
    weights : array of shape (edges, 1) or (edges, batch)
        Edge weights already in the semiring (e.g. partials for ``real``).
    seeds : sequence of node positions
        Seeded with ``one``; a seed with one incoming edge must be a forced
        root of ``plan``.  A seed's value is its seed ⊕ what flows in.
    semiring : ArraySemiring
    batch : int
        The batch size of the result (weights broadcast to it).
    seed_values : array of shape (len(seeds), batch), optional
        Each seed's own value in each column instead of ``one`` (``zero``: not
        a seed in that column): several sweeps with different seeds in one,
        as the vector modes of a compiled Jacobian need.

    Examples
    --------
    >>> from pathad.compiled.schedule import ARRAY_SEMIRINGS, Schedule
    >>> plan = Schedule(2, gather=np.array([1, 1]), other=np.array([0, 0]))
    >>> sweep(plan, np.array([[2.0], [3.0]]), [0], ARRAY_SEMIRINGS["max-plus"]).ravel().tolist()
    [0.0, 3.0]

    A chain under a root of value 1e300: 1e-200 · 1e-200 underflows, the
    path values 1e100 and 1e-100 do not:

    >>> plan = Schedule(4, gather=np.array([1, 1, 2, 3]), other=np.array([0, 0, 1, 2]))
    >>> w = np.array([[1e300], [0.0], [1e-200], [1e-200]])
    >>> sweep(plan, w, [0], ARRAY_SEMIRINGS["real"]).ravel().tolist()
    [1.0, 1e+300, 1e+100, 1e-100]
    """
    values = np.full((plan.n, batch), semiring.zero, dtype=semiring.dtype)
    seeded = np.zeros(plan.n, dtype=bool)
    seeds = np.asarray(seeds, dtype=np.int64)
    seeded[seeds] = True
    values[seeds] = semiring.one if seed_values is None else seed_values
    if semiring.dtype == np.float64 and weights.dtype != np.float64:  # integer products would wrap around
        weights = weights.astype(np.float64)
    with np.errstate(all="ignore"):  # overflow shows as inf/nan in the values, which the callers check
        # zero annihilates: an edge whose weight is zero adds no term, even where the path value it meets
        # overflowed (inf · 0 would be nan); only weights that are exactly zero count, not products that
        # underflowed to it
        zeros = semiring.dtype != object and bool((weights == semiring.zero).any())
        own = weights[plan.tree_edge] == semiring.zero if zeros else None
        fill, acc, slow = _tree_fill(plan, weights, semiring, own)
        dead = _zero_on_path(plan, weights, semiring, own) if zeros else None
        root_weights = weights[plan.root_edges]
        python = _PYTHON.get(semiring.name)
        steps = plan.steps(batch) if acc is not None else [(0, plan.depth, "numpy")]
        for lo, hi, way in steps:
            if way != "numpy" and (slow is None or not slow[lo:hi].any()):
                way = way if python is not None and seed_values is None else "rows"
                run = plan.run(lo, hi, way)
                if way == "python":
                    _sweep_in_python(run, values, root_weights, acc, dead, seeded, semiring, python)
                else:
                    _sweep_by_rows(run, values, root_weights, acc, dead, seeded, semiring)
                _fill_late(run, values, acc, dead, semiring)
                continue
            for level in range(lo, hi):
                _gather_roots(plan, level, values, root_weights, semiring, seeded, zeros)
                a, b = plan.tree_offsets[level], plan.tree_offsets[level + 1]
                if a < b:
                    roots = values[plan.tree_root[a:b]]
                    filled = fill(roots, level, a, b)
                    if zeros:
                        filled = np.where(dead[a:b] | (roots == semiring.zero), semiring.zero, filled)
                    values[plan.tree_nodes[a:b]] = filled
    return values


def _maximum(a, b):
    return a if a >= b or a != a else b  # as np.maximum: a nan on either side wins


def _minimum(a, b):
    return a if a <= b or a != a else b


def _scores_times(a, b):
    return -math.inf if a == -math.inf or b == -math.inf else a * b  # as schedule._scores_times


#: (⊕, ⊗) of the array semirings on Python numbers, exactly as their numpy ufuncs compute them.
_PYTHON = {
    "real": (operator.add, operator.mul),
    "counting": (operator.add, operator.mul),
    "counting-exact": (operator.add, operator.mul),
    "boolean": (operator.or_, operator.and_),
    "max-times": (_maximum, _scores_times),
    "min-plus": (_minimum, operator.add),
    "max-plus": (_maximum, operator.add),
}


def _sweep_in_python(run, values, root_weights, acc, dead, seeded, semiring, python):
    """Levels of a sweep by a Python loop over their roots' numbers, one batch point at a time (a
    :class:`NodeRun`; its tree nodes are filled afterwards, by :func:`_fill_late`).

    The same numbers as the numpy levels: a root gathers value(reader) ⊗ w over
    its edges (a zero weight giving zero) as ``plus.reduceat`` does, the first
    term ⊕ (the others in order) (numpy sums a row of fewer than 8 terms one by
    one, from -0.0); a reader that is a tree node of the run has the value
    value(its root) ⊗ acc (zero on a dead path or under a zero root), formed
    here as the numpy levels form it.
    """
    if not run.nodes.size:
        return
    zero, one = semiring.zero, semiring.one
    degrees = run.degrees
    if seeded[run.nodes].any():  # a seeded root gathers one ⊕ what flows in: marked by a negative degree
        degrees = np.where(seeded[run.nodes], -run.degree, run.degree).tolist()
    outside = values[run.outside]
    weights = root_weights[run.edge_lo : run.edge_hi]
    products = acc[run.tree_lo : run.tree_hi]
    through = np.full((weights.shape[0], products.shape[1]), one, dtype=products.dtype)  # one: not via a tree
    through[run.tree_read] = products[run.edge_tree[run.tree_read]]
    if dead is not None:
        deaths = np.zeros((weights.shape[0], dead.shape[1]), dtype=bool)
        deaths[run.tree_read] = dead[run.tree_lo : run.tree_hi][run.edge_tree[run.tree_read]]
    found = []
    for k in range(values.shape[1]):
        buffer = outside[:, k].tolist()
        w = weights[:, min(k, weights.shape[1] - 1)].tolist()
        a = through[:, min(k, through.shape[1] - 1)].tolist()
        d = None if dead is None else deaths[:, min(k, deaths.shape[1] - 1)].tolist()
        if python[0] is operator.or_:
            _or_and_pass(degrees, run.firsts, run.edge_slot, buffer, w, a)
        elif python[1] is operator.mul and python[0] is operator.add and zero == 0:
            if d is None:
                _sum_product_pass(degrees, run.firsts, run.edge_slot, buffer, w, a, one)
            else:
                _sum_product_zeros_pass(degrees, run.firsts, run.edge_slot, run.tree_reads, buffer, w, a, d, one)
        else:
            _sweep_pass(degrees, run.firsts, run.edge_slot, run.tree_reads, buffer, w, a, d, python, zero, one)
        found.append(buffer[run.outside.size :])
    values[run.nodes] = np.array(found, dtype=values.dtype).T


def _sweep_by_rows(run, values, root_weights, acc, dead, seeded, semiring):
    """Levels of a sweep node by node, each node by a numpy call or two on its row of the batch (a
    :class:`NodeRun`): the operations of the numpy levels, one node at a time, written into the node's row."""
    plus, times, zero = semiring.plus, semiring.times, semiring.zero
    into = times if isinstance(times, np.ufunc) else lambda a, b, out: np.copyto(out, times(a, b))
    weights = root_weights[run.edge_lo : run.edge_hi]
    products = acc[run.tree_lo : run.tree_hi]
    edge_node, tree_root_node = run.edge_node, run.tree_root_node
    if dead is not None:  # some weight is zero: where it is, a term is zero; a tree node on a dead path too
        deaths = dead[run.tree_lo : run.tree_hi]
        zero_weight = weights == zero
        zeroed, dying = zero_weight.any(axis=1).tolist(), deaths.any(axis=1).tolist()

    def term(e, out=None):
        incoming = (
            times(values[edge_node[e]], weights[e]) if out is None else into(values[edge_node[e]], weights[e], out)
        )
        if dead is not None and zeroed[e]:
            np.copyto(incoming, zero, where=zero_weight[e])
        return incoming

    for kind, i, v, seed in zip(run.kinds, run.index, run.node_list, seeded[run.nodes].tolist()):
        out = values[v]
        if kind == 0:
            root = values[tree_root_node[i]]
            into(root, products[i], out)
            if dead is not None:
                np.copyto(out, zero, where=root == zero)
                if dying[i]:
                    np.copyto(out, zero, where=deaths[i])
        elif kind == 1 and not seed:
            term(i, out)
        else:
            gathered = term(i)
            if kind > 1:
                rest = term(i + 1)
                for e in range(i + 2, i + kind):
                    rest = plus(rest, term(e))
                gathered = plus(gathered, rest)
            plus(out, gathered, out=out) if seed else np.copyto(out, gathered)  # out holds the seed


def _fill_late(run, values, acc, dead, semiring):
    """The tree nodes a :class:`NodeRun` left for last: value(root) ⊗ acc, all at once."""
    if run.late_nodes.size:
        roots = values[run.late_roots]
        filled = semiring.times(roots, acc[run.late_tree])
        if dead is not None:
            filled = np.where(dead[run.late_tree] | (roots == semiring.zero), semiring.zero, filled)
        values[run.late_nodes] = filled


def _sweep_pass(degrees, firsts, edge_slot, tree_reads, buffer, w, a, dead, python, zero, one):
    """One batch point of :func:`_sweep_in_python`: each root's number appended to ``buffer`` in turn."""
    plus, times = python
    append = buffer.append

    def term(e):
        we = w[e]
        if dead is not None and we == zero:
            return zero
        value = buffer[edge_slot[e]]
        if tree_reads[e]:  # a tree node: value(root) ⊗ acc, zero on a dead path or under a zero root
            value = zero if dead is not None and (dead[e] or value == zero) else times(value, a[e])
        return times(value, we)

    for degree, e in zip(degrees, firsts):
        end = e + (degree if degree > 0 else -degree)
        gathered = term(e)
        if end > e + 1:
            rest = term(e + 1)
            for f in range(e + 2, end):
                rest = plus(rest, term(f))
            gathered = plus(gathered, rest)
        append(plus(one, gathered) if degree < 0 else gathered)


def _sum_product_pass(degrees, firsts, edge_slot, buffer, w, a, one):
    """:func:`_sweep_pass` for + and · without a zero weight (real, counting): the same numbers, no calls.

    A term is (value · a) · w, a the tree node's path product or 1 (exact).
    """
    append = buffer.append
    for degree, e in zip(degrees, firsts):
        if degree == 1:
            append(buffer[edge_slot[e]] * a[e] * w[e])
        elif degree == 2:
            append(buffer[edge_slot[e]] * a[e] * w[e] + buffer[edge_slot[e + 1]] * a[e + 1] * w[e + 1])
        else:
            end = e + (degree if degree > 0 else -degree)
            gathered = buffer[edge_slot[e]] * a[e] * w[e]
            if end > e + 1:
                rest = buffer[edge_slot[e + 1]] * a[e + 1] * w[e + 1]
                for f in range(e + 2, end):
                    rest = rest + buffer[edge_slot[f]] * a[f] * w[f]
                gathered = gathered + rest
            append(one + gathered if degree < 0 else gathered)


def _or_and_pass(degrees, firsts, edge_slot, buffer, w, a):
    """:func:`_sweep_pass` for the boolean semiring (reachability): a term is value and a and w (a tree node's
    path product, True otherwise), whether or not some weight is False (a dead path's product is False)."""
    append = buffer.append
    for degree, e in zip(degrees, firsts):
        if degree < 0:  # a seed: True
            append(True)
            continue
        found = False
        for f in range(e, e + degree):
            if buffer[edge_slot[f]] and a[f] and w[f]:
                found = True
                break
        append(found)


def _sum_product_zeros_pass(degrees, firsts, edge_slot, tree_reads, buffer, w, a, dead, one):
    """:func:`_sweep_pass` for + and · with zero weights: a zero weight gives a zero term, a tree node on a dead
    path or under a zero root the value zero.  Roots of one or two edges (most of them) are spelled out."""
    append = buffer.append
    for degree, e in zip(degrees, firsts):
        if degree == 1 or degree == 2:
            we = w[e]
            if we == 0.0:
                gathered = 0.0
            else:
                value = buffer[edge_slot[e]]
                if tree_reads[e]:
                    value = 0.0 if dead[e] or value == 0.0 else value * a[e]
                gathered = value * we
            if degree == 2:
                f = e + 1
                wf = w[f]
                if wf == 0.0:
                    gathered = gathered + 0.0
                else:
                    value = buffer[edge_slot[f]]
                    if tree_reads[f]:
                        value = 0.0 if dead[f] or value == 0.0 else value * a[f]
                    gathered = gathered + value * wf
            append(gathered)
            continue
        gathered = rest = None
        for f in range(e, e + (degree if degree > 0 else -degree)):
            we = w[f]
            if we == 0.0:
                term = 0.0
            else:
                value = buffer[edge_slot[f]]
                if tree_reads[f]:
                    value = 0.0 if dead[f] or value == 0.0 else value * a[f]
                term = value * we
            if gathered is None:
                gathered = term
            elif rest is None:
                rest = term
            else:
                rest = rest + term
        if rest is not None:
            gathered = gathered + rest
        append(one + gathered if degree < 0 else gathered)


def _gather_roots(plan, level, values, root_weights, semiring, seeded, zeros=False):
    """One level's roots: ⊕ over their incoming edges of value(other) ⊗ w (⊕ its seed value for a seed).

    With ``zeros`` (some weight is the semiring's zero), an edge whose weight
    is zero contributes zero whatever value(other) is.
    """
    a, b = plan.root_offsets[level], plan.root_offsets[level + 1]
    if a == b:
        return
    lo, hi = plan.edge_offsets[level], plan.edge_offsets[level + 1]
    w = root_weights[lo:hi]
    incoming = semiring.times(values[plan.root_readers[lo:hi]], w)
    if zeros:
        incoming = np.where(w == semiring.zero, semiring.zero, incoming)
    gathered = semiring.plus.reduceat(incoming, plan.root_starts[a:b] - lo, axis=0)
    nodes = plan.root_nodes[a:b]
    seeds = seeded[nodes]
    if seeds.any():
        gathered[seeds] = semiring.plus(values[nodes[seeds]], gathered[seeds])  # the seeds' own values
    values[nodes] = gathered
