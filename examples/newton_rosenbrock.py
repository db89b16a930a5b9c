"""Newton's method against gradient descent on the Rosenbrock function, from (-1.2, 1) to its minimum (1, 1).

f(x, y) = (1 - x)² + 100 (y - x²)², a long curved valley: its Hessian at the
minimum, [[802, -400], [-400, 200]], has condition number about 2500, so
gradient descent creeps along the valley floor while Newton's step
x := x - H⁻¹ ∇f, which uses the curvature, lands near the bottom in a few
steps and then doubles its correct digits each time.

The gradient and the Hessian come from one compiled tape, replayed at each new
point (:meth:`pathad.compiled.CompiledTape.hessian`): a forward sweep of
tangents and a backward sweep in the DUAL semiring per colour class of the
Hessian's pattern (x and y meet here, so 2: one per input).  Both methods use
the same backtracking line search (Armijo: halve the step until f decreases by
at least 10⁻⁴ of what the gradient promises; gradient descent starts each
search from twice its last step), and both stop within 1e-10 of (1, 1).
"""

import numpy as np

import pathad

MINIMUM = np.array([1.0, 1.0])
TOLERANCE = 1e-10


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def line_search(tape, point, value, gradient, step, t=1.0):
    """(new point, t): the step scaled by t, t/2, t/4, ... until f decreases enough (Armijo's condition)."""
    slope = float(gradient @ step)
    while tape.evaluate(at=point + t * step) > value + 1e-4 * t * slope and t > 1e-20:
        t /= 2
    return point + t * step, t


def newton(tape, start):
    point, iterations = np.array(start), 0
    print(" it            x                   y             f(x, y)")
    while np.abs(point - MINIMUM).max() > TOLERANCE:
        H = tape.hessian(at=point)  # value, gradient and Hessian from the same sweeps
        print(f"{iterations:3d}  {point[0]: .15f}  {point[1]: .15f}  {H.value:.3e}")
        point, _ = line_search(tape, point, H.value, H.gradient, -np.linalg.solve(H.matrix, H.gradient))
        iterations += 1
    print(f"{iterations:3d}  {point[0]: .15f}  {point[1]: .15f}  {tape.evaluate(at=point):.3e}")
    return iterations


def gradient_descent(tape, start, limit=200_000):
    """Steepest descent; each line search starts from twice the last step taken (not from 1 every time)."""
    point, iterations, t = np.array(start), 0, 1.0
    replay = tape.replayer()
    while np.abs(point - MINIMUM).max() > TOLERANCE and iterations < limit:
        value, g = replay(point)
        point, t = line_search(tape, point, float(value), g, -g, min(1.0, 2 * t))
        iterations += 1
    return iterations, point


def main():
    tape = pathad.compile(pathad.trace(rosenbrock, -1.2, 1.0))
    H = tape.hessian(at=[1.0, 1.0])
    assert H.matrix.tolist() == [[802.0, -400.0], [-400.0, 200.0]] and H.hvps == 2
    print(f"Hessian at the minimum {H.matrix.tolist()}: {H.hvps} Hessian-vector products ({H.mode})")
    steps = newton(tape, [-1.2, 1.0])
    print(f"Newton: {steps} iterations to within {TOLERANCE:g} of (1, 1)")
    descent, point = gradient_descent(tape, [-1.2, 1.0])
    reached = np.abs(point - MINIMUM).max() <= TOLERANCE
    print(f"gradient descent: {descent} iterations{'' if reached else ' (stopped before reaching it)'}")
    assert steps < 30 and reached and descent > 100 * steps


if __name__ == "__main__":
    main()
