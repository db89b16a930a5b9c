"""The sigmoid neuron t1..t8 of "Developing an intuition for backpropagation".

t1 = w·x, t2 = t1 + b, t3 = −t2, t4 = exp(t3), t5 = t4 + 1, t6 = 1/t5 (so t6 = σ(w·x + b)),
t7 = t6 − target, t8 = t7²; at w = 2, b = 0, x = 1, target = 10 the post gets
∂t8/∂w = −1.9149156216104704.  The post's small autograd *assigns* each gradient
(self.grad = ...) where it must *add* the contributions of every use: that goes
unnoticed in this chain, where every value is used once, and breaks as soon as a
value is used twice, e.g. t8 = t7·t7.  Here a derivative is a sum over paths,
so every use of a value is an edge and every edge counts.
"""

import math

import pathad


def neuron(w, b, x, target):
    return squared(t7(w, b, x, target)).named("t8")


def neuron_used_twice(w, b, x, target):
    t = t7(w, b, x, target)
    return (t * t).named("t8")


def squared(t):
    return t**2


def t7(w, b, x, target):
    t1 = (w * x).named("t1")
    t2 = (t1 + b).named("t2")
    t3 = (-1 * t2).named("t3")
    t4 = pathad.exp(t3).named("t4")
    t5 = (t4 + 1).named("t5")
    t6 = (t5**-1).named("t6")
    return (t6 - target).named("t7")


def main():
    point = dict(w=2.0, b=0.0, x=1.0, target=10.0)
    tr = pathad.trace(neuron, **point)
    grad = pathad.solve(tr, "t8", direction="backward")  # one backward sweep: ∂t8/∂node for every node
    for name in ("t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "w", "b", "x"):
        print(f"∂t8/∂{name:<2} = {grad[tr.node(name)]!r}")
    assert grad[tr.node("w")] == -1.9149156216104704
    assert grad[tr.node("t7")] == -18.238405844044234
    assert grad[tr.node("t4")] == 14.149418952798422
    assert grad[tr.node("t3")] == 1.9149156216104704
    # the edge t3 -> t4 carries ∂exp(t3)/∂t3 = exp(t3) (not exp(t3)·t3)
    assert tr.graph.edges[tr.node("t3"), tr.node("t4"), 0]["partial"] == math.exp(-2.0)

    twice = pathad.trace(neuron_used_twice, **point)  # t7 used twice: two edges t7 -> t8
    paths = list(pathad.paths(twice, "w", "t8"))
    terms = [p.product for p in paths]
    print(f"with t8 = t7·t7 there are {len(paths)} paths from w: {terms[0]!r} + {terms[1]!r} = {sum(terms)!r}")
    assert len(paths) == 2 and math.isclose(sum(terms), -1.9149156216104704, rel_tol=1e-15)
    assert math.isclose(pathad.derivative(twice, "w"), -1.9149156216104704, rel_tol=1e-15)
    print("assigning instead of adding would keep one path and report half of it:", repr(terms[0]))


if __name__ == "__main__":
    main()
