"""f(x1, x2) = (x1 + x2)·ln(x1 + x2) at (2, 5): f = 13.6, ∂f/∂x1 = ∂f/∂x2 = 2.95.

From the slides "Beyond Backpropagation": forward mode needs one sweep per input
(two here), reverse mode one sweep for the whole gradient.  Exactly, f = 7 ln 7
and both partials are ln 7 + 1.
"""

import math

import pathad


def f(x1, x2):
    s = x1 + x2
    return s * pathad.log(s)


def main():
    tr = pathad.trace(f, x1=2.0, x2=5.0)
    print(f"f(2, 5) = {tr.value:.4f} ≈ {tr.value:.1f}")
    assert round(tr.value, 1) == 13.6
    assert math.isclose(tr.value, 7 * math.log(7), rel_tol=1e-15)
    for mode in ("forward", "backward"):
        grad = pathad.gradient(tr, mode=mode)
        sweeps = len(grad) if mode == "forward" else 1
        shown = ", ".join(f"∂f/∂{name} = {value:.4f}" for name, value in grad.items())
        print(f"{mode:>8}: {shown}  ({sweeps} sweep{'s' if sweeps > 1 else ''})")
        assert [round(value, 2) for value in grad.values()] == [2.95, 2.95]
        assert all(math.isclose(value, math.log(7) + 1, rel_tol=1e-15) for value in grad.values())
    cost = pathad.jacobian_cost(tr)
    print(f"work: forward {cost['forward'].times} ⊗, backward {cost['backward'].times} ⊗")
    assert cost["forward"].times > cost["backward"].times


if __name__ == "__main__":
    main()
