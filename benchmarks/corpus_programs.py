"""The programs of the differentiation corpus (run by ``benchmarks/corpus.py``).

Each program is an ordinary Python function of named real inputs, written the
way a user would write it for plain floats or numpy arrays, registered with the
point(s) to differentiate it at.  Points keep clear of kinks and jumps, so that
a finite difference is a fair oracle (see ``corpus.py``).

Categories: ``scalar`` (operators and elementary functions), ``ufunc`` (numpy
ufuncs on scalars), ``control`` (loops and branches), ``functions`` (helpers,
closures, recursion, classes), ``arrays`` (numpy arrays in, out or in between).

A few programs deliberately call ``math.sin`` or ``float()`` on a traced value:
tracing cannot see through those, so pathad must refuse them loudly (an error),
never return a derivative that silently misses the term.

Examples
--------
>>> len(PROGRAMS) >= 120
True
>>> sorted({p.category for p in PROGRAMS})
['arrays', 'control', 'functions', 'scalar', 'ufunc']
"""

import functools
import math
from dataclasses import dataclass, field

import numpy as np

import pathad

__all__ = ["Program", "PROGRAMS", "CATEGORIES"]

#: The categories, in the order the corpus prints them.
CATEGORIES = ("scalar", "ufunc", "control", "functions", "arrays")


@dataclass(frozen=True)
class Program:
    """One corpus entry.

    Attributes
    ----------
    name : str
        Unique name (the function's name).
    func : callable
        The program, called with keyword inputs.
    points : tuple of dict
        The points to check it at: input name -> float or numpy float array.
    category : str
        One of :data:`CATEGORIES`.
    reference : callable or None
        A plain-float twin of ``func`` for the oracle, when ``func`` calls a
        pathad function the oracle must not rely on (``pathad.erf``).
    """

    name: str
    func: object
    points: tuple
    category: str
    reference: object = field(default=None)


PROGRAMS = []


def program(category, *points, reference=None):
    """Register the decorated function as a corpus program evaluated at ``points``."""

    def register(func):
        PROGRAMS.append(Program(func.__name__, func, tuple(points), category, reference))
        return func

    return register


# --- scalar: operators and elementary functions ------------------------------------------------------


@program("scalar", {"x": 1.3}, {"x": -0.8})
def poly_cubic(x):
    return 3 * x**3 - 2 * x**2 + x - 7


@program("scalar", {"x": 1.2, "y": -0.7})
def poly_two_vars(x, y):
    return x**2 * y + x * y**3 - 4


@program("scalar", {"x": 0.5})
def rational(x):
    return (x**2 + 1) / (x - 3)


@program("scalar", {"x": 0.9, "y": -1.4})
def rational_two_vars(x, y):
    return (x * y - 1) / (x * x + y * y + 1)


@program("scalar", {"x": 1.1}, {"x": -1.3})
def pow_integer(x):
    return x**5 - x**2


@program("scalar", {"x": 1.7})
def pow_negative_integer(x):
    return x**-3 + 2 * x**-1


@program("scalar", {"x": 2.3})
def pow_fractional(x):
    return x**0.5 + x**1.5 - x ** (1 / 3)


@program("scalar", {"x": -1.5})
def pow_float_exponent_negative_base(x):
    return x**2.0 + x**3.0


@program("scalar", {"x": 1.8, "y": 2.4})
def pow_traced_exponent(x, y):
    return x**y


@program("scalar", {"x": 1.5}, {"x": 0.6})
def pow_self(x):
    return x**x


@program("scalar", {"x": 0.7})
def pow_constant_base(x):
    return 2.0**x + 10 ** (x / 2)


@program("scalar", {"x": 1.4, "y": 0.3})
def builtin_pow(x, y):
    return pow(x, 3) + pow(2.5, y) + pow(x, y)


@program("scalar", {"x": 0.8})
def nested_exp_log(x):
    return np.log(1 + np.exp(np.sin(x)))


@program("scalar", {"x": 0.4, "y": 1.9})
def sin_cos_products(x, y):
    return np.sin(x) * np.cos(y) + np.cos(x * y)


@program("scalar", {"x": 0.6})
def tanh_chain(x):
    return pathad.tanh(pathad.tanh(pathad.tanh(2 * x)))


@program("scalar", {"x": 3.0, "y": -4.0})
def euclid_length(x, y):
    return pathad.sqrt(x * x + y * y)


@program("scalar", {"x": 0.5}, {"x": 2.7})
def abs_shifted(x):
    return abs(x - 2) * x


@program("scalar", {"x": 1.0, "y": 0.3}, {"x": -0.4, "y": 0.9})
def builtin_min_max(x, y):
    return max(x, y) - min(x, 2 * y) + max(x * y, 0.1)


@program("scalar", {"x": 2.3})
def builtin_round(x):
    return x * round(x) + round(x, 1)


@program("scalar", {"x": 2.2})
def modulo_constant(x):
    return (x % 1.5) * x


@program("scalar", {"x": 2.1, "y": 0.8})
def modulo_traced(x, y):
    return x % y


@program("scalar", {"x": 1.9})
def floor_division(x):
    return (x // 0.7) * x


@program("scalar", {"x": 0.9})
def continued_division(x):
    return 1 / (1 + 1 / (1 + 1 / x))


@program("scalar", {"x": 0.8})
def gaussian(x):
    return np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


@program("scalar", {"x": -0.3})
def sigmoid_by_hand(x):
    return 1 / (1 + pathad.exp(-x))


@program("scalar", {"x": 0.4, "y": 1.2})
def sigmoid_relu(x, y):
    return pathad.sigmoid(x) * pathad.relu(y) + pathad.relu(-y)


@program("scalar", {"x": 2.0, "y": 0.5, "z": 3.0})
def log_of_product(x, y, z):
    return pathad.log(x * y * z) - pathad.log(x) * z


@program("scalar", {"x": 0.7})
def tan_over_x(x):
    return pathad.tan(x) / x


@program("scalar", {"x": 1.2, "y": -0.5})
def signs(x, y):
    return -(+x) * -y - (-x)


@program("scalar", {"x": 1.6})
def mixed_int_float(x):
    return (x + 1) * 2 - 3 / x + True * x


@program("scalar", {"x": 1.3, "y": 0.2})
def squared_ratio(x, y):
    return (x + y) ** 2 / (x - y) ** 2


@program("scalar", {"x": 0.9})
def lost_math_sin(x):
    return x * math.sin(x)


@program("scalar", {"x": 1.4})
def lost_float(x):
    return x * float(x)


@program("scalar", {"x": 0.3})
def lost_math_exp(x):
    return math.exp(x) + x


@program("scalar", {"x": 2.5})
def int_truncation(x):
    return x * int(x)  # int(x) is locally constant: the derivative int(x) is right


@program("scalar", {"x": 0.8, "y": 1.3})
def unused_input(x, y):
    return x * x  # the derivative in y is 0


@program("scalar", {"x": 0.8})
def identity(x):
    return x


@program("scalar", {"x": 0.8, "y": 1.3})
def cancelling(x, y):
    return (x + y) - x + 0 * y


@program("scalar", {"x": 2.3, "y": 0.7})
def builtin_divmod(x, y):
    q, r = divmod(x, y)
    return q * x + r


@program("scalar", {"x": 0.4})
def chained_comparison(x):
    return x * x if 0 < x < 1 else x


@program("scalar", {"x": 2.6})
def math_floor_ceil(x):
    return x * math.floor(x) + math.ceil(x)  # locally constant: the derivative floor(x) is right


@program("scalar", {"x": 0.6, "y": 1.7})
def lost_math_fsum(x, y):
    return math.fsum([x, y, x * y]) * x


@program("scalar", {"x": 1.2})
def lost_math_sqrt(x):
    return math.sqrt(x) + x * x


@program("scalar", {"x": 0.5, "y": -1.5})
def sum_min_max_of_lists(x, y):
    terms = [x, y, x * y, x - y]
    return sum(terms, 1.0) + max(terms) * min(terms) + max(t * t for t in terms)


@program("scalar", {"x": -0.6, "y": 0.9})
def sorted_by_key(x, y):
    return sorted([x, y, x + y], key=abs)[-1] * x


# --- ufunc: numpy's elementwise functions on scalars -------------------------------------------------


@program("ufunc", {"x": 0.3})
def np_arcsin(x):
    return np.arcsin(x) * x


@program("ufunc", {"x": 0.4})
def np_arccos(x):
    return np.arccos(x) + x


@program("ufunc", {"x": 1.7})
def np_arctan(x):
    return np.arctan(x * x)


@program("ufunc", {"x": -1.2, "y": 0.5}, {"x": 0.7, "y": -2.0})
def np_arctan2(x, y):
    return np.arctan2(y, x)


@program("ufunc", {"x": 0.9})
def np_sinh_cosh(x):
    return np.sinh(x) / np.cosh(x)


@program("ufunc", {"x": -1.1})
def np_arcsinh(x):
    return np.arcsinh(x)


@program("ufunc", {"x": 1.6})
def np_arccosh(x):
    return np.arccosh(x) * x


@program("ufunc", {"x": 0.35})
def np_arctanh(x):
    return np.arctanh(x)


@program("ufunc", {"x": 3.3})
def np_log2(x):
    return np.log2(x) * x


@program("ufunc", {"x": 0.07})
def np_log10(x):
    return np.log10(x)


@program("ufunc", {"x": 0.2})
def np_log1p(x):
    return np.log1p(x) / x


@program("ufunc", {"x": 1.4})
def np_exp2(x):
    return np.exp2(x)


@program("ufunc", {"x": 1e-3}, {"x": 1.5})
def np_expm1(x):
    return np.expm1(x)


@program("ufunc", {"x": 3.0, "y": -4.0})
def np_hypot(x, y):
    return np.hypot(x, y)


@program("ufunc", {"x": 1.0, "y": 2.5})
def np_logaddexp(x, y):
    return np.logaddexp(x, y)


@program("ufunc", {"x": -0.5, "y": 0.8})
def np_logaddexp2(x, y):
    return np.logaddexp2(x, y)


@program("ufunc", {"x": -1.7})
def np_square(x):
    return np.square(x) + x


@program("ufunc", {"x": 0.6})
def np_reciprocal(x):
    return np.reciprocal(x)


@program("ufunc", {"x": -2.5}, {"x": 0.4})
def np_cbrt(x):
    return np.cbrt(x)


@program("ufunc", {"x": -1.3})
def np_fabs(x):
    return np.fabs(x) * x


@program("ufunc", {"x": 30.0})
def np_deg2rad(x):
    return np.sin(np.deg2rad(x))


@program("ufunc", {"x": 0.5})
def np_rad2deg(x):
    return np.rad2deg(x) ** 2


@program("ufunc", {"x": 1.2})
def np_degrees(x):
    return np.degrees(x) + x


@program("ufunc", {"x": 45.0})
def np_radians(x):
    return np.cos(np.radians(x))


@program("ufunc", {"x": 1.0, "y": 0.4})
def np_maximum(x, y):
    return np.maximum(x, y) * y


@program("ufunc", {"x": 1.0, "y": 0.4})
def np_minimum(x, y):
    return np.minimum(x, y) * x


@program("ufunc", {"x": -0.2, "y": 0.6})
def np_fmax_fmin(x, y):
    return np.fmax(x, y) - 2 * np.fmin(x, y)


@program("ufunc", {"x": -0.7}, {"x": 1.1})
def np_sign(x):
    return np.sign(x) * x**2


@program("ufunc", {"x": 2.4})
def np_floor(x):
    return np.floor(x) * x


@program("ufunc", {"x": 2.4})
def np_ceil(x):
    return np.ceil(x) + x**2


@program("ufunc", {"x": -1.6})
def np_trunc(x):
    return np.trunc(x) * x


@program("ufunc", {"x": 2.3})
def np_rint(x):
    return np.rint(x) * x


@program("ufunc", {"x": 2.1})
def np_mod_constant(x):
    return np.mod(x, 0.8)


@program("ufunc", {"x": 2.1, "y": 0.8})
def np_mod_traced(x, y):
    return np.mod(x, y)


@program("ufunc", {"x": -2.3, "y": 0.9})
def np_remainder(x, y):
    return np.remainder(x, y)


@program("ufunc", {"x": -2.2, "y": 0.8})
def np_fmod(x, y):
    return np.fmod(x, y) + np.fmod(x, 0.7)


@program("ufunc", {"x": 1.9})
def np_floor_divide(x):
    return np.floor_divide(x, 0.6) * x


@program("ufunc", {"x": 1.5, "y": -2.0})
def np_copysign(x, y):
    return np.copysign(x, y) * y


@program("ufunc", {"x": 0.8}, {"x": -0.8})
def np_heaviside(x):
    return np.heaviside(x, 0.5) * x + x


@program("ufunc", {"x": 0.6}, reference=lambda x: math.erf(x) * x)
def pathad_erf(x):
    return pathad.erf(x) * x


@program("ufunc", {"x": -1.2}, {"x": 3.0}, reference=lambda x: math.log1p(math.exp(x)))
def pathad_softplus(x):
    return pathad.softplus(x)


@program("ufunc", {"x": 1.3, "y": 0.7})
def np_power(x, y):
    return np.power(x, y) + np.power(x, 2)


@program("ufunc", {"x": 0.8, "y": -1.5})
def np_arithmetic(x, y):
    return np.true_divide(np.add(x, 1), np.multiply(y, x)) - np.subtract(y, np.negative(x)) + np.absolute(y)


@program("ufunc", {"x": 0.9})
def np_known_functions(x):
    return np.exp(np.sin(x)) + np.log(np.cos(x)) * np.sqrt(x) - np.tan(x) * np.tanh(x)


@program("ufunc", {"x": 1.1})
def numpy_scalar_operands(x):
    return np.float64(2.5) * x + x / np.float64(4.0) - np.int64(3) ** x  # (a float32 would make numpy round)


@program("ufunc", {"x": 0.7}, {"x": 1.6})
def np_clip_scalar(x):
    return np.clip(x, 0.0, 1.0) * x


@program("ufunc", {"x": 2.3})
def np_modf(x):
    fraction, whole = np.modf(x)
    return fraction * whole + fraction * x


@program("ufunc", {"x": 1.4, "y": 0.6})
def np_float_power(x, y):
    return np.float_power(x, y) + np.float_power(x, 3)


@program("ufunc", {"x": -0.6})
def np_positive_conjugate(x):
    return np.positive(x) * np.conjugate(x) + x.conjugate() + x.real * x


@program("ufunc", {"x": -1.2, "y": -0.5})
def np_arctan2_third_quadrant(x, y):
    return np.arctan2(y, x) * x


@program("ufunc", {"x": 2.3, "y": 0.7})
def np_divmod(x, y):
    q, r = np.divmod(x, y)
    return q * x + r * y


@program("ufunc", {"x": 0.45})
def np_where_scalar(x):
    return np.where(x > 0, x, -x) * x


@program("ufunc", {"x": 1.234})
def np_round(x):
    return np.round(x, 1) * x + np.around(x)


@program("ufunc", {"x": 0.3, "y": 0.6})
def lost_np_array_float_dtype(x, y):
    return np.sum(np.array([x, y], dtype=float) * x)


@program("ufunc", {"x": -1.7})
def sqrt_of_square(x):
    return np.sqrt(x * x) + np.log(np.abs(x))


# --- control: loops and branches ---------------------------------------------------------------------


@program("control", {"x": 2.0}, {"x": 10.0})
def newton_sqrt(x):
    y = x
    while abs(y * y - x) > 1e-12 * x:
        y = (y + x / y) / 2
    return y


@program("control", {"a": 5.0})
def newton_cube_root(a):
    y = a
    for _ in range(40):
        y = y - (y**3 - a) / (3 * y**2)
    return y


@program("control", {"M": 1.2, "e": 0.3})
def kepler_equation(M, e):
    E = M
    while True:
        step = (E - e * np.sin(E) - M) / (1 - e * np.cos(E))
        E = E - step
        if abs(step) < 1e-14:
            return E


@program("control", {"a": 0.8})
def fixed_point_cos(a):
    y = 0.5
    for _ in range(200):
        y = a * np.cos(y)
    return y


@program("control", {"x": 0.7})
def taylor_exp(x):
    total, term = 1.0, 1.0
    for k in range(1, 25):
        term = term * x / k
        total = total + term
    return total


@program("control", {"x": 0.45})
def running_product(x):
    p = 1
    for k in range(1, 11):
        p *= 1 + x / k
    return p


@program("control", {"x": -2.0}, {"x": 0.5}, {"x": 3.0})
def if_elif_piecewise(x):
    if x < -1:
        return -x - 0.5
    elif x < 1:
        return x * x / 2
    else:
        return x - 0.5


@program("control", {"r": 2.9, "x0": 0.2})
def logistic_map_stable(r, x0):
    x = x0
    for _ in range(30):
        x = r * x * (1 - x)
    return x


@program("control", {"r": 3.7, "x0": 0.3})
def logistic_map_chaotic(r, x0):
    x = x0
    for _ in range(6):
        x = r * x * (1 - x)
    return x


@program("control", {"x": 0.8, "a": -1.5})
def horner(x, a):
    coefficients = [2.0, a, 0.5, -3.0, a * a]  # highest power first
    result = 0
    for c in coefficients:
        result = result * x + c
    return result


@program("control", {"x": 1.3})
def continued_fraction(x):
    value = 10.0
    for k in range(9, 0, -1):
        value = k + x / value
    return value


@program("control", {"t": 0.3}, {"t": 1.4})
def smoothstep(t):
    if t < 0:
        t = 0 * t
    elif t > 1:
        t = 0 * t + 1
    return 3 * t**2 - 2 * t**3


@program("control", {"x": -1.2}, {"x": 0.4}, {"x": 2.5})
def early_return(x):
    if x < 0:
        return -x * x
    if x < 1:
        return np.sin(x)
    y = x * x
    return y - np.log(y)


@program("control", {"x": 37.0})
def halve_until_small(x):
    y = x
    while y > 2:
        y = y / 2
    return y * y


@program("control", {"a": 1.7})
def gradient_descent(a):
    w = 0.0
    for _ in range(50):
        w = w - 0.1 * 2 * (w - a) * (1 + 0.1 * w * w) - 0.1 * 0.2 * w * (w - a) ** 2
    return w


@program("control", {"k": 0.7, "y0": 2.0})
def euler_decay(k, y0):
    y, dt = y0, 0.01
    for _ in range(100):
        y = y + dt * (-k * y)
    return y


@program("control", {"theta": 0.6, "g": 9.81})
def rk4_pendulum(theta, g):
    omega, dt = 0.0, 0.05

    def f(th, om):
        return om, -g * np.sin(th)

    for _ in range(20):
        k1 = f(theta, omega)
        k2 = f(theta + dt / 2 * k1[0], omega + dt / 2 * k1[1])
        k3 = f(theta + dt / 2 * k2[0], omega + dt / 2 * k2[1])
        k4 = f(theta + dt * k3[0], omega + dt * k3[1])
        theta = theta + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        omega = omega + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return theta


@program("control", {"a": 1.3})
def trapezoid_integral(a):
    n = 50
    total = 0.5 * (np.exp(0.0 * a) + np.exp(-a))
    for i in range(1, n):
        t = i / n
        total = total + np.exp(-a * t * t)
    return total / n


@program("control", {"x": 0.9})
def running_max(x):
    m = x
    for c in (0.5, 1.7, -2.0, 1.2):
        m = max(m, c * x)
    return m


@program("control", {"x": 0.37})
def bounce(x):
    y = x
    for _ in range(8):
        if y > 1:
            y = 1 / y
        else:
            y = 2.1 * y
    return y


@program("control", {"x": 1.15})
def sum_generator_expression(x):
    return sum(x**k / k for k in range(1, 8))


@program("control", {"x": 0.35})
def accumulate_until(x):
    total = 0
    for k in range(1, 100):
        total = total + x * k
        if total > 5:
            break
    return total * x


@program("control", {"x": 0.3, "y": 0.8})
def double_loop(x, y):
    total = 0
    for i in range(4):
        for j in range(3):
            total = total + np.sin(i * x + j * y) / (1 + i + j)
    return total


@program("control", {"x": 0.6, "y": 1.1})
def fibonacci_like(x, y):
    a, b = 1.0, y
    for _ in range(10):
        a, b = b, a + x * b
    return b


@program("control", {"x": 0.4})
def chebyshev(x):
    t_prev, t = 1, x
    for _ in range(7):
        t_prev, t = t, 2 * x * t - t_prev
    return t


@program("control", {"x": 1.05})
def power_by_squaring(x):
    n, result, base = 13, 1, x
    while n:
        if n % 2:
            result = result * base
        base = base * base
        n //= 2
    return result


@program("control", {"x": 0.25})
def while_with_elif(x):
    y, steps = x, 0
    while steps < 12:
        if y < 0.5:
            y = y * 1.8
        elif y < 1.0:
            y = y + 0.1 * y * y
        else:
            return y * steps
        steps += 1
    return y


# --- functions: helpers, closures, recursion, classes ------------------------------------------------


def _square(t):
    return t * t


@program("functions", {"x": 0.7})
def helper_composition(x):
    return _square(_square(x) + 1)


def _make_affine(a, b):
    return lambda t: a * t + b


@program("functions", {"x": 1.3})
def closure_constants(x):
    f = _make_affine(2.0, -1.0)
    return f(f(x)) * x


@program("functions", {"x": 0.5, "y": -1.2})
def closure_over_traced(x, y):
    g = _make_affine(y, x)
    return g(g(x)) + g(y)


def _rpow(t, n):
    return 1 if n == 0 else t * _rpow(t, n - 1)


@program("functions", {"x": 1.1})
def recursive_power(x):
    return _rpow(x, 7)


def _fast_pow(t, n):
    if n == 0:
        return 1
    half = _fast_pow(t, n // 2)
    return half * half * (t if n % 2 else 1)


@program("functions", {"x": 0.9})
def recursive_fast_power(x):
    return _fast_pow(x, 11) + _fast_pow(x, 4)


def _halving_sum(t, n):
    return t if n == 0 else t + _halving_sum(t / 2, n - 1)


@program("functions", {"x": 1.7})
def recursive_series(x):
    return _halving_sum(np.sin(x), 12)


class _Polynomial:
    """Coefficients in increasing powers, evaluated by Horner's scheme."""

    def __init__(self, coefficients):
        self.coefficients = list(coefficients)

    def __call__(self, t):
        result = 0
        for c in reversed(self.coefficients):
            result = result * t + c
        return result

    def derivative(self):
        return _Polynomial([k * c for k, c in enumerate(self.coefficients)][1:])


@program("functions", {"x": 0.6, "a": 1.5})
def polynomial_class(x, a):
    p = _Polynomial([1.0, a, 2.0, -a * a])
    return p(x) + p.derivative()(x)


class _Vec2:
    """A small 2-vector with operators."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return _Vec2(self.x + other.x, self.y + other.y)

    def __mul__(self, k):
        return _Vec2(k * self.x, k * self.y)

    __rmul__ = __mul__

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    def norm(self):
        return self.dot(self) ** 0.5


@program("functions", {"a": 0.8, "b": -0.3})
def vector_class(a, b):
    v, w = _Vec2(a, 1.0), _Vec2(b, a * b)
    return (2 * v + w * a).norm() + v.dot(w)


class _Accumulator:
    """Keeps a running mean and mean square."""

    def __init__(self):
        self.n, self.total, self.squares = 0, 0.0, 0.0

    def add(self, value):
        self.n += 1
        self.total = self.total + value
        self.squares = self.squares + value * value

    def variance(self):
        mean = self.total / self.n
        return self.squares / self.n - mean * mean


@program("functions", {"x": 0.9, "y": 2.1})
def stateful_accumulator(x, y):
    acc = _Accumulator()
    for value in (x, y, x * y, 1.0, x - y):
        acc.add(value)
    return acc.variance()


@program("functions", {"x": 1.2})
def reduce_lambda(x):
    return functools.reduce(lambda acc, c: acc * x + c, [1.0, -2.0, 0.5, 3.0], 0.0)


@program("functions", {"x": 0.8})
def map_and_sum(x):
    return sum(map(lambda c: np.sin(c * x), [1, 2, 3]))


def _doubled(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return 2 * func(*args, **kwargs)

    return wrapper


@program("functions", {"x": 0.3, "y": 0.9})
@_doubled
def decorated(x, y):
    return np.exp(x * y) - y


def _terms(t, n):
    term = t
    for k in range(1, n + 1):
        yield term / (2 * k - 1)
        term = -term * t * t


@program("functions", {"x": 0.4})
def generator_arctan_series(x):
    return sum(_terms(x, 15))


@program("functions", {"x": 1.4})
def default_argument(x, scale=2.5, shift=-1.0):
    return scale * x**2 + shift * x


@program("functions", {"a": 0.7, "b": 1.9})
def keyword_arguments(**inputs):
    return inputs["a"] * inputs["b"] ** 2 - inputs["a"] / inputs["b"]


@dataclass
class _Spring:
    k: object
    x0: object

    def energy(self, x):
        return 0.5 * self.k * (x - self.x0) ** 2


@program("functions", {"k": 3.0, "x": 1.4})
def dataclass_spring(k, x):
    return _Spring(k, 0.5).energy(x) + _Spring(2 * k, x / 2).energy(1.0)


def _even_step(t, n):
    return t if n == 0 else _odd_step(t * 1.1, n - 1)


def _odd_step(t, n):
    return t if n == 0 else _even_step(t - 0.1 * t * t, n - 1)


@program("functions", {"x": 0.6})
def mutual_recursion(x):
    return _even_step(x, 9)


@program("functions", {"x": 0.2, "y": 1.3, "z": 0.7})
def sorted_median(x, y, z):
    return sorted([x, y, z])[1] * 2 + sorted([x, y, z])[0]


# --- arrays: numpy arrays in, out and in between -----------------------------------------------------


@program("arrays", {"v": np.array([0.5, -1.2, 2.0])})
def array_sum_squares(v):
    return np.sum(v**2)


@program("arrays", {"v": np.array([0.5, -1.2, 2.0, 0.9])})
def array_prod(v):
    return np.prod(v)


@program("arrays", {"v": np.array([0.5, -1.2, 2.0])})
def array_max_min(v):
    return np.max(v) * np.min(v)


@program("arrays", {"v": np.array([0.5, -1.2, 2.0, 0.3])})
def array_mean(v):
    return np.mean(v) ** 2


@program("arrays", {"v": np.array([0.5, -1.2, 2.0, 0.3])})
def array_var(v):
    return np.var(v)


@program("arrays", {"v": np.array([0.5, -1.2, 2.0, 0.3])})
def array_std(v):
    return np.std(v)


@program("arrays", {"v": np.array([0.5, -1.2, 2.0, -0.3])})
def array_where_leaky_relu(v):
    return np.sum(np.where(v > 0, v, 0.1 * v) ** 2)


@program("arrays", {"v": np.array([0.5, -1.7, 2.0, -0.3])})
def array_clip(v):
    return np.sum(np.clip(v, -1.0, 1.0) * v)


@program("arrays", {"v": np.array([0.5, -1.2, 2.0]), "w": np.array([1.5, 0.2, -0.7])})
def array_dot(v, w):
    return np.dot(v, w) + v @ v


@program("arrays", {"x": np.array([0.3, -0.8, 1.1]), "W": np.eye(3) + 0.1})
def array_quadratic_form(x, W):
    return x @ W @ x


@program("arrays", {"v": np.array([0.5, -1.2, 2.0])})
def array_softmax(v):
    e = np.exp(v - np.max(v))
    return e / np.sum(e)


@program("arrays", {"v": np.array([0.5, -1.2, 2.0])})
def array_logsumexp(v):
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m)))


@program("arrays", {"W": np.array([[0.2, -0.4, 0.1], [0.7, 0.3, -0.5]]), "b": np.array([0.1, -0.2]),
                    "v": np.array([1.0, 0.5, -1.5])})  # fmt: skip
def array_mlp_layer(W, b, v):
    return np.sum(np.tanh(W @ v + b) ** 2)


@program("arrays", {"v": np.array([3.0, -4.0, 1.0])})
def array_norms(v):
    return np.linalg.norm(v) + np.sqrt(v @ v) + np.sum(np.abs(v))


@program("arrays", {"v": np.array([0.4, 1.3, -0.6])})
def array_elementwise_output(v):
    return np.exp(v) * v


@program("arrays", {"x": 0.7, "y": 1.8})
def jacobian_array_output(x, y):
    return np.array([x * y, x + y, np.sin(x) * y])


@program("arrays", {"x": 0.7, "y": 1.8})
def jacobian_tuple_output(x, y):
    return x * y, x / y, np.exp(x - y)


@program("arrays", {"x": 0.7, "y": 1.8})
def jacobian_dict_output(x, y):
    return {"area": x * y, "perimeter": 2 * (x + y), "diagonal": np.sqrt(x * x + y * y)}


@program("arrays", {"x": 0.7, "y": -1.1})
def object_array_filled(x, y):
    h = np.zeros(3, dtype=object)
    h[0] = x
    h[1] = x * y
    h[2] = np.cos(y)
    return np.sum(h * h)


@program("arrays", {"x": 0.7, "y": -1.1, "z": 0.4})
def array_from_scalars(x, y, z):
    v = np.array([x, y, z])
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
    return v @ A @ v + np.dot(A[0], v)


@program("arrays", {"x": 1.3})
def array_linspace_scale(x):
    t = np.linspace(0.0, 1.0, 7)
    return np.sum(np.sin(x * t)) / 7


@program("arrays", {"v": np.array([0.5, -1.2, 2.0, 0.3])})
def array_cumsum(v):
    return np.cumsum(v)[-1] * np.cumsum(v)[1]


@program("arrays", {"c": np.array([1.0, -2.0, 0.5]), "x": 0.8})
def array_polyval(c, x):
    return np.polyval(c, x)


@program("arrays", {"x": 0.4, "y": -0.9, "z": 1.6})
def array_mean_of_scalars(x, y, z):
    v = np.array([x, y, z])
    return np.mean(v**2) + np.max(v) - np.min(v)


@program("arrays", {"p": np.array([0.2, 0.5, 0.3]), "q": np.array([0.3, 0.3, 0.4])})
def array_kl_divergence(p, q):
    return np.sum(p * np.log(p / q))


@program("arrays", {"x": 0.7, "y": 1.8})
def jacobian_with_input_output(x, y):
    return x, x * y, y  # outputs that are the inputs themselves


@program("arrays", {"x": 0.7, "y": 1.8})
def jacobian_repeated_output(x, y):
    p = x * y
    return [p, p, p + x]


@program("arrays", {"x": 0.3, "y": -0.4, "z": 0.9})
def numpy_on_lists(x, y, z):
    return np.sum([x, y, z]) * np.prod([x, z]) + np.mean([x * x, y, z]) + np.dot([x, y], [z, x])


@program("arrays", {"x": 0.002})
def wide_fan_out(x):
    return np.sum(np.sin(np.arange(1, 401) * x))


@program("arrays", {"x": 0.7, "y": -1.1})
def object_array_matrix(x, y):
    A = np.array([[x, y], [y * y, 1.0]], dtype=object)
    B = A @ A
    return B[0, 0] + B[1, 0] * B[0, 1] + np.trace(A)


@program("arrays", {"x": 0.5, "y": -1.2, "z": 2.0})
def scalars_var_std(x, y, z):
    v = np.array([x, y, z])
    return np.var(v) + np.std(v) * x


@program("arrays", {"x": 0.5, "y": -1.2, "z": 2.0})
def scalars_softmax(x, y, z):
    v = np.array([x, y, z])
    e = np.exp(v - np.max(v))
    return list(e / np.sum(e))


@program("arrays", {"x": 0.5, "y": -1.2, "z": 2.0})
def scalars_logsumexp_cross_entropy(x, y, z):
    v = np.array([x, y, z])
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m))) - v[1]


@program("arrays", {"x": 1.0, "y": 0.5, "z": -1.5})
def scalars_mlp_layer(x, y, z):
    W = np.array([[0.2, -0.4, 0.1], [0.7, 0.3, -0.5]])
    b = np.array([0.1, -0.2])
    h = np.tanh(W @ np.array([x, y, z]) + b)
    return np.dot(h, np.array([1.5, -0.7])) + np.sum(h * h)


@program("arrays", {"x": 3.0, "y": -4.0, "z": 1.0})
def scalars_norms(x, y, z):
    v = np.array([x, y, z])
    return np.linalg.norm(v) + np.sum(np.abs(v)) + np.max(np.abs(v))


@program("arrays", {"x": 0.5, "y": -1.7, "z": 0.3})
def scalars_where_clip(x, y, z):
    v = np.array([x, y, z], dtype=object)
    return np.sum(np.where(v > 0, v, 0.1 * v)) + np.sum(np.clip(v, -1.0, 0.4) * v)


@program("arrays", {"x": 0.5, "y": -1.2, "z": 2.0})
def scalars_cumsum_diff(x, y, z):
    v = np.array([x, y, z])
    return np.sum(np.cumsum(v) * np.array([1.0, 2.0, 3.0])) + np.sum(np.diff(v) ** 2)


@program("arrays", {"x": 0.8})
def constant_polyval(x):
    return np.polyval([1.0, -2.0, 0.5, 3.0], x)


@program("arrays", {"x": 0.6, "y": 1.4})
def scalars_prod_and_inplace(x, y):
    h = np.zeros(3, dtype=object)
    h[0] = x
    h[1] = y
    h[2] = 1.0
    h[1] += x * y
    h *= 2
    return np.prod(h) + h[1]


@program("arrays", {"x": 0.7, "y": -0.2})
def rotation_jacobian(x, y):
    c, s = np.cos(x), np.sin(x)
    R = np.array([[c, -s], [s, c]])
    return tuple(R @ np.array([1.0 + y, y * y]))


_NAMES = [p.name for p in PROGRAMS]
assert len(set(_NAMES)) == len(_NAMES), "program names must be unique"
