"""The reverse sweep of f(x) = exp(exp(x) + exp(x)²) + sin(exp(x) + exp(x)²), from the steepest-descent post.

The post names the steps u1 = x, u2 = exp(u1), u3 = u2², u4 = u2 + u3,
u5 = sin(u4), u6 = exp(u4), u7 = u5 + u6 = f and works backwards from u7:
du7/du6 = du7/du5 = 1, du7/du4 = exp(u4) + cos(u4), du7/du3 = du7/du4,
du7/du2 = du7/du4 + 2u2·du7/du3, du7/du1 = exp(u1)·du7/du2.  One backward sweep
of pathad computes exactly these adjoints, one per node.
"""

import math

import pathad


def f(x):
    u2 = pathad.exp(x).named("u2")
    u3 = (u2**2).named("u3")
    u4 = (u2 + u3).named("u4")
    u5 = pathad.sin(u4).named("u5")
    u6 = pathad.exp(u4).named("u6")
    return (u5 + u6).named("u7")


def by_hand(x):
    """The post's adjoints, du7/du_k, written out."""
    u2 = math.exp(x)
    u4 = u2 + u2**2
    d4 = math.exp(u4) + math.cos(u4)
    d2 = d4 + 2 * u2 * d4
    return {"u7": 1.0, "u6": 1.0, "u5": 1.0, "u4": d4, "u3": d4, "u2": d2, "x": math.exp(x) * d2}


def main():
    x = 0.3
    tr = pathad.trace(f, x)
    adjoint = pathad.solve(tr, "u7", direction="backward")  # one sweep: du7/du for every node u
    expected = by_hand(x)
    for name, value in expected.items():
        mine = adjoint[tr.node(name)]
        print(f"du7/d{name:<2} = {mine:.12f}")
        assert math.isclose(mine, value, rel_tol=1e-14), (name, mine, value)
    assert math.isclose(pathad.derivative(tr, "x", mode="forward"), expected["x"], rel_tol=1e-14)
    print(f"f'({x}) = {adjoint[tr.node('x')]:.12f}, by one backward sweep (and one forward sweep)")


if __name__ == "__main__":
    main()
