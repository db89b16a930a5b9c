"""The program laid out for the numba loop: value slots, units in order, sums of products fused.

Also the chain machinery both replays share: a chain is a run of add/sub
nodes, each partial sum used only by the next (a loop's running total).
"""

import threading

import numpy as np

from ..errors import ReplayError
from .freeze import ARITY, CODE
from .numba_backend import SUM, Units, node_depths
from .schedule import index_dtype

__all__ = ["Layout", "bucket", "chain_links", "chain_terms", "group_chains", "split"]

_ADD, _SUB, _MUL = CODE["add"], CODE["sub"], CODE["mul"]


class Layout:
    """The recorded program as a :class:`~pathad.compiled.numba_backend.Units` for the numba loop, and the maps back.

    Slots: the inputs (in the trace's order), the kept nodes, the distinct
    constants.  With ``fuse``, every chain of add/sub nodes (each partial sum
    used only by the next) is one fused sum, and a product used only by such a
    sum becomes one of its terms; those inner nodes get no slot (their values
    and partials are not kept), and nodes the replay must read (outputs, guards)
    are never folded in.  Without ``fuse`` every node and edge is kept.
    """

    def __init__(self, program, fuse):
        tape, n = program.tape, program.tape.n_nodes
        self.tape, self._program = tape, program
        keep = np.zeros(n, dtype=bool)
        keep[tape.outputs] = True
        keep[program.guard_left] = True
        keep[program.guard_right[program.guard_right >= 0]] = True
        alone = (np.bincount(tape.src, minlength=n) == 1) & ~keep
        chains = self._chains(program, alone) if fuse else None
        self._slots(program, chains)
        units, terms, signs = self._units(program, chains)
        small = index_dtype(self.n_slots, self.n_partials, terms.shape[0], units.shape[0])  # int32: half the reads
        self.program = Units(units.astype(small), terms.astype(small), signs, self.consts, self.n_slots,
                               int(self.n_partials))  # fmt: skip
        self.output_slots = self.slot_of_node[tape.outputs]
        self.inactive = np.zeros(self.n_slots, dtype=np.bool_)  # evaluate: no partials, no adjoints
        self._back = {}
        self._lent = threading.local()  # run_program's arrays by batch size, lent from one replay to the next

    @property
    def workspace(self):
        """This thread's arrays for :func:`~pathad.compiled.numba_backend.run_program` (each thread its own)."""
        if not hasattr(self._lent, "arrays"):
            self._lent.arrays = {}
        return self._lent.arrays

    def _chains(self, program, alone):
        """Members of the fused sums grouped by sum, innermost first; their terms; the products folded in."""
        codes = self.tape.codes
        link, via_second = chain_links(codes, program.node_of, alone)
        members, starts, _ = group_chains(link, np.flatnonzero((codes == _ADD) | (codes == _SUB)))
        term_node, term_const, term_sign = chain_terms(program, via_second, members, starts)
        product = (term_node >= 0) & (codes[np.maximum(term_node, 0)] == _MUL) & alone[np.maximum(term_node, 0)]
        last = np.append(starts[1:], members.size) - 1 if starts.size else starts
        term_start = starts + np.arange(starts.size)  # a chain of k members has k + 1 terms
        # a lone add/sub of two plain terms runs faster as an op of its own
        with_product = np.add.reduceat(product, term_start) > 0 if starts.size else starts.astype(bool)
        fused = (last > starts) | with_product
        folded = np.zeros(self.tape.n_nodes, dtype=bool)
        folded[members] = np.repeat(fused, last - starts + 1)
        folded[members[last]] = False
        folded[term_node[product & np.repeat(fused, last - starts + 2)]] = True
        sums = np.zeros(self.tape.n_nodes, dtype=bool)
        sums[members[last[fused]]] = True
        return {"members": members, "starts": starts, "last": last, "term_start": term_start, "node": term_node,
                "const": term_const, "sign": term_sign, "product": product, "folded": folded, "sums": sums}  # fmt: skip

    def _slots(self, program, chains):
        tape = self.tape
        n, codes = tape.n_nodes, tape.codes
        n_in = len(tape.inputs)
        kept = np.flatnonzero((codes > 0) & ~(chains["folded"] if chains else False))
        depth = node_depths(program.node_of)  # runs of one op at a time: the loop's branches predict well
        kept = kept[np.lexsort((codes[kept], depth[kept]))]
        self.kept = kept
        self.slot_of_node = np.full(n, -1, dtype=np.int64)
        self.slot_of_node[program.input_positions] = np.arange(n_in)
        self.slot_of_node[kept] = n_in + np.arange(kept.size)
        stray = np.flatnonzero((codes == 0) & (self.slot_of_node < 0))  # op "input" but not an input: a constant
        arity = ARITY[codes]
        operand_consts = program.const_of[(program.node_of < 0) & (np.arange(2)[:, None] < arity)]
        bits = np.unique(np.concatenate([operand_consts, tape.values[stray], [0.0]]).view(np.int64))
        self._const_bits, self.consts = bits, bits.view(np.float64)
        self.first_const = n_in + kept.size
        self.n_slots = self.first_const + bits.size
        self.slot_of_node[stray] = self._const_slot(tape.values[stray])

    def _const_slot(self, constants):
        return self.first_const + np.searchsorted(self._const_bits, np.asarray(constants, np.float64).view(np.int64))

    def _slot(self, nodes, constants):
        """The slots of operands: a node's own, else the constant's."""
        return np.where(nodes >= 0, self.slot_of_node[np.maximum(nodes, 0)], self._const_slot(constants))

    def _units(self, program, chains):
        tape, kept = self.tape, self.kept
        codes = tape.codes[kept]
        is_sum = np.zeros(kept.size, dtype=bool) if chains is None else chains["sums"][kept]
        ops = ~is_sum
        binary = ARITY[codes] == 2
        edges = program.edge_of[:, kept]
        self.edge_row = np.full(tape.n_edges, -1, dtype=np.int64)
        stored = np.unique(edges[:, ops][edges[:, ops] >= 0])
        self.edge_row[stored] = np.arange(stored.size)
        self.n_partials = stored.size
        units = np.zeros((kept.size, 8), dtype=np.int64)
        units[:, 0] = np.where(is_sum, SUM, codes)
        units[:, 1] = self.slot_of_node[kept]
        units[:, 2] = self._slot(program.node_of[0, kept], program.const_of[0, kept])
        units[:, 3] = np.where(binary, self._slot(program.node_of[1, kept], program.const_of[1, kept]), 0)
        padded = np.append(self.edge_row, -1)  # a last row -1 for "no edge": a tape may have no edges at all
        rows = padded[np.where(edges >= 0, edges, tape.n_edges)]
        units[:, 4], units[:, 5] = rows[0], np.where(binary, rows[1], -1)
        if chains is None:
            return units, np.zeros((0, 3), dtype=np.int64), np.zeros(0)
        terms = self._terms(program, chains)
        chain_of = np.full(tape.n_nodes, -1, dtype=np.int64)
        chain_of[chains["members"][chains["last"]]] = np.arange(chains["starts"].size)
        chain = chain_of[kept[is_sum]]
        term_start = chains["term_start"]
        term_end = np.r_[term_start[1:], terms.shape[0]]
        units[is_sum, 2:6] = 0
        units[is_sum, 6], units[is_sum, 7] = term_start[chain], term_end[chain]
        if (units[:, 1:4] < 0).any() or (terms < 0).any():
            raise ReplayError(f"{tape.name}: a value the replay needs has no place (a bug in pathad; please report)")
        return units, terms, chains["sign"]

    def _terms(self, program, chains):
        """(slot a, slot b, product?) per term: a product folded in reads its two operands, another term itself."""
        node, product = chains["node"], chains["product"]
        terms = np.zeros((node.size, 3), dtype=np.int64)
        terms[:, 0] = self._slot(node, chains["const"])
        factor = node[product]
        terms[product, 0] = self._slot(program.node_of[0, factor], program.const_of[0, factor])
        terms[product, 1] = self._slot(program.node_of[1, factor], program.const_of[1, factor])
        terms[product, 2] = 1
        return terms

    def folds(self, node):
        """Whether ``node`` (a position, or None) was folded into a fused sum (then it has no value here)."""
        return node is not None and self.slot_of_node[node] < 0

    def backward(self, output, wrt):
        """(units on the way from the inputs ``wrt`` to ``output``, last first; its slot; the active slots)."""
        key = (output, wrt)
        if key not in self._back:
            active = self._program.active_nodes(output, wrt)
            units = np.flatnonzero(active[self.kept])[::-1].astype(np.int64)
            slots = np.zeros(self.n_slots, dtype=np.bool_)
            slots[self.slot_of_node[active & (self.slot_of_node >= 0)]] = True
            units = units.astype(self.program.units.dtype)
            self._back[key] = (units, int(self.slot_of_node[output]), slots)
        return self._back[key]


class _ChainBucket:
    """Chains of one level and similar length as a (chains, width) table of term indices."""

    def __init__(self, term_node, term_const, term_sign, members):
        self.term_node, self.term_const, self.term_sign = term_node, term_const, term_sign
        self.valid = members >= 0
        self.members = members[self.valid]

    def fill(self, values):
        terms = values[np.maximum(self.term_node, 0)]
        terms = np.where((self.term_node >= 0)[..., None], terms, self.term_const[..., None])
        sums = np.cumsum(self.term_sign[..., None] * terms, axis=1)
        values[self.members] = sums[:, 1:][self.valid]


def bucket(rows, starts, lengths, width, members, term_node, term_const, term_sign):
    """The table of one bucket: term slots per chain, padded with the constant 0."""
    term_start = starts[rows] + rows  # chain r's terms start after r earlier chains' extra term
    columns = np.arange(width)
    used = columns[None, :] < (lengths[rows] + 1)[:, None]
    slots = np.where(used, term_start[:, None] + columns[None, :], 0)
    node = np.where(used, term_node[slots], -1)
    const = np.where(used, term_const[slots], 0.0)
    sign = np.where(used, term_sign[slots], 1.0)
    member_slots = np.where(used[:, 1:], starts[rows][:, None] + columns[None, :-1], 0)
    member = np.where(used[:, 1:], members[member_slots], -1)
    return _ChainBucket(node, const, sign, member)


def chain_links(codes, node_of, alone):
    """Per add/sub node, the add/sub operand it extends (-1: none): one that is ``alone`` (feeds only it).

    Returns the links and, per node, whether the link runs through its second
    operand (only for add: a − s is not a partial sum extended).
    """
    addsub = (codes == _ADD) | (codes == _SUB)
    first, second = node_of[0], node_of[1]
    extends_first = addsub & (first >= 0) & addsub[first] & alone[first]
    extends_second = (codes == _ADD) & (second >= 0) & addsub[second] & alone[second] & ~extends_first
    return np.where(extends_first, first, np.where(extends_second, second, -1)), extends_second


def chain_terms(program, via_second, members, starts):
    """Each chain's terms: its first node's two operands, then each member's other operand, with signs.

    ``members`` are grouped by chain, each chain from its first (innermost)
    node on, chains starting at ``starts``; returns per term the operand node
    (-1 for a constant), the constant and the sign (+1, or −1 when subtracted).
    """
    codes = program.tape.codes
    via_second = via_second[members]
    other = np.where(via_second, 0, 1)  # the operand that is not the chain
    sign = np.where((codes[members] == _SUB) & ~via_second, -1.0, 1.0)
    node = program.node_of[other, members]
    const = program.const_of[other, members]
    total = members.size + starts.size
    slot = np.arange(members.size) + np.searchsorted(starts, np.arange(members.size), side="right")
    term_node, term_const, term_sign = np.full(total, -1), np.zeros(total), np.ones(total)
    term_node[slot], term_const[slot], term_sign[slot] = node, const, sign
    first = slot[starts] - 1  # the first node's first operand goes just before its second
    term_node[first], term_const[first] = program.node_of[0, members[starts]], program.const_of[0, members[starts]]
    return term_node, term_const, term_sign


def group_chains(link, members):
    """``members`` grouped by chain, each chain from its first (innermost) node on; where each chain starts in
    that order; and every node's chain head (its first node; itself when not linked)."""
    head, depth = _chain_heads(link)
    members = members[np.lexsort((depth[members], head[members]))]
    heads = head[members]
    return members, np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]]) if members.size else members, head


def _chain_heads(link):
    """For each node, the first node of its chain (itself if not linked), and its distance from it."""
    head = np.arange(link.size)
    linked = np.flatnonzero(link >= 0)
    head[linked] = link[linked]
    depth = (link >= 0).astype(np.int64)
    while linked.size:
        above = head[linked]
        depth[linked] += depth[above]
        head[linked] = head[above]
        linked = linked[head[head[linked]] != head[linked]]
    return head, depth


def split(items, *keys):
    """Group ``items`` by equal key tuples: yields (key tuple, items) in sorted key order."""
    if not items.size:
        return
    order = np.lexsort(keys[::-1])
    items = items[order]
    keys = [np.asarray(k)[order] for k in keys]
    change = np.zeros(items.size, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(change)
    for a, b in zip(starts, np.r_[starts[1:], items.size]):
        yield tuple(int(k[a]) for k in keys), items[a:b]
