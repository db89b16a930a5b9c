"""f(x) = √(3·sin x) at x = 2 by the graph and by dual numbers, from the steepest-descent post.

The post evaluates f on the dual number 2 + ε and gets f(2) = 1.6516332160855343,
f'(2) = −0.3779412091869595; by hand, f'(x) = 3cos x / (2√(3 sin x)).  A dual
number is forward mode without a graph: it carries one path value along.
pathad.dual uses the same table of partials as the tracer, so all three agree
(the forward ones to the last bit or so: the post divides by 2√y where pathad
multiplies by the edge label 1/(2√y)).
"""

import math

import pathad
from pathad import dual


def f(x):
    return pathad.sqrt(3 * pathad.sin(x))


def f_dual(x):
    return dual.sqrt(3 * dual.sin(x))


def main():
    by_hand = 3 * math.cos(2.0) / (2 * math.sqrt(3 * math.sin(2.0)))
    tr = pathad.trace(f, 2.0)
    backward, forward = pathad.derivative(tr, "x"), pathad.derivative(tr, "x", mode="forward")
    d = f_dual(dual.Dual.variable(2.0))
    print(f"by hand:           f'(2) = {by_hand!r}")
    print(f"graph, backward:   f(2) = {tr.value!r}, f'(2) = {backward!r}")
    print(f"graph, forward:    f'(2) = {forward!r}")
    print(f"dual number 2 + ε: {d!r}")
    assert tr.value == d.value == 1.6516332160855343
    assert backward == by_hand == -0.3779412091869595
    for value in (forward, d.derivative):
        assert abs(value - -0.3779412091869595) <= 2 * math.ulp(0.3779412091869595)


if __name__ == "__main__":
    main()
