"""many_sines: y = x, then six times y = sin(x + y); its derivative, from the steepest-descent post.

The post writes the derivative out by hand:
f'(x) = (((((2cos(u1) + 1)cos(u2) + 1)cos(u3) + 1)cos(u4) + 1)cos(u5) + 1)cos(u6),
u_k being the k-th sine's argument (u1 = 2x).  Here the graph has only 7 paths
from x to the result, but each cos label holds the whole computation before
it: the swell of the symbolic form is in the labels.  The numpy ufunc np.sin
records a node like pathad.sin does.
"""

import math

import numpy as np

import pathad


def many_sines(x):
    y = x
    for _ in range(6):
        y = np.sin(x + y)
    return y


def nested_form(x):
    """The post's hand-derived derivative."""
    arguments, y = [], x
    for _ in range(6):
        arguments.append(x + y)
        y = math.sin(x + y)
    total = 2 * math.cos(arguments[0])
    for u in arguments[1:]:
        total = (total + 1) * math.cos(u)
    return total


def main():
    for x in (0.3, 0.7, 2.0):
        tr = pathad.trace(many_sines, x)
        backward, forward = pathad.derivative(tr, "x"), pathad.derivative(tr, "x", mode="forward")
        print(f"x = {x}: f = {tr.value:.15f}, f' = {backward:.15f}, the post's nested form: {nested_form(x):.15f}")
        assert tr.value == many_sines(x)
        assert math.isclose(backward, nested_form(x), rel_tol=1e-13, abs_tol=1e-15)
        assert math.isclose(forward, backward, rel_tol=1e-13, abs_tol=1e-15)
    paths = pathad.count_paths(tr, "x", "many_sines")
    print(f"{tr.graph.number_of_nodes()} nodes, {paths} paths from x to the result")
    assert (tr.graph.number_of_nodes(), paths) == (13, 7)


if __name__ == "__main__":
    main()
