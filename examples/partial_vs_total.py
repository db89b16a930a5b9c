"""Partial or total?  A reader's question on the reverse-mode blog post.

t1 = 2, t2 = t1², t3 = t1² + t2².  Is dt3/dt2 the partial 2·t2 = 8 or, since
t2 = t1², the "total" 1 + 2·t2 = 9?  The graph answers: a derivative of t3 with
respect to a node sums the paths from that node to t3.  From t2 there is one
path, through t2², labeled 2·t2 = 8 and then 1 (into the sum).  From t1 there
are two: through t1² (2·t1 = 4, then 1) and through t2 (2·t1 · 2·t2 · 1 = 32),
so dt3/dt1 = 36.  Getting 9 needs another program, one where t1 is computed
from t2 (t1 = √t2): a different graph.
"""

import pathad


def t3(t1):
    t2 = (t1**2).named("t2")
    return t1**2 + t2**2


def t3_substituted(t2):
    t1 = pathad.sqrt(t2).named("t1")
    return t1**2 + t2**2


def main():
    tr = pathad.trace(t3, t1=2.0)
    from_t2, from_t1 = pathad.derivative(tr, "t2"), pathad.derivative(tr, "t1")
    print(pathad.explain(tr, "t2", symbolic=False))
    print(pathad.explain(tr, "t1", symbolic=False))
    assert (from_t2, from_t1) == (8.0, 36.0)
    assert pathad.count_paths(tr, "t2", "t3") == 1 and pathad.count_paths(tr, "t1", "t3") == 2

    other = pathad.trace(t3_substituted, t2=4.0)
    total = pathad.derivative(other, "t2")
    print(f"with t1 = √t2 instead: dt3/dt2 = {total:.12g} = 1 + 2·t2")
    assert abs(total - 9.0) < 1e-12


if __name__ == "__main__":
    main()
