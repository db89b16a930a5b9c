"""CompiledTape.hvp and .hessian at new points, batched: against the trace's (itself checked against sympy) and
central differences of the tape's own replayed gradient."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_jacobian_methods import programs
from test_second import scalar_program

import pathad
from pathad import BranchError, DomainError, compile, trace
from pathad.compiled import numba_available

BACKENDS = ["numpy", *(["numba"] if numba_available() else [])]


def quietly(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


@settings(max_examples=25, deadline=None)
@given(programs(max_inputs=4, max_outputs=3, max_ops=25), st.integers(0, 2**32 - 1), st.sampled_from(BACKENDS))
def test_the_tapes_hessian_is_the_traces_at_new_points(case, seed, backend):
    program, point, outputs = case
    f = scalar_program(program, outputs)
    tape = compile(quietly(trace, f, np.array(point)), backend=backend)
    rng = np.random.default_rng(seed)
    points = np.array(point) + rng.uniform(-0.05, 0.05, size=(3, len(point)))
    try:
        H = tape.hessian(at=points.T)
    except (BranchError, DomainError):
        return  # the perturbed point left the program's branch or domain: said, not answered
    for b, p in enumerate(points):
        tr = quietly(trace, f, p)
        expected = quietly(pathad.hessian, tr)
        scale = max(1.0, float(np.abs(expected.matrix).max()))
        np.testing.assert_allclose(H.matrix[b], expected.matrix, rtol=1e-12, atol=1e-12 * scale)
        np.testing.assert_allclose(H.gradient[b], quietly(pathad.gradient, tr)["x"], rtol=1e-12, atol=1e-12 * scale)
        v = rng.normal(size=len(point))
        np.testing.assert_allclose(tape.hvp(v, at=p), quietly(pathad.hvp, tr, v)["x"], rtol=1e-11, atol=1e-11 * scale)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_hvp_is_the_central_difference_of_the_replayed_gradient(backend):
    def f(x, y, z):
        return pathad.sin(x * y) * pathad.exp(z / 3) + x**3 * pathad.tanh(y - z)

    tape = compile(trace(f, 0.5, 0.4, 0.3), backend=backend)
    at = np.array([[0.7, -0.2], [0.3, 0.9], [0.1, 0.5]])
    v = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]])
    found = tape.hvp(v, at=at)
    eps = 1e-6
    for b in range(2):
        plus = tape.gradient(at=at[:, b] + eps * v[b])
        minus = tape.gradient(at=at[:, b] - eps * v[b])
        expected = np.array([(plus[k] - minus[k]) / (2 * eps) for k in ("x", "y", "z")])
        np.testing.assert_allclose(found[b], expected, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_banded_hessian_takes_three_directions(backend):
    def extended_rosenbrock(x):
        return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))

    x = np.linspace(-1, 1, 200)
    tape = compile(trace(extended_rosenbrock, x), backend=backend)
    H = tape.hessian(x)
    assert (H.mode, H.hvps) == ("colored", 3)
    np.testing.assert_allclose(H.matrix, pathad.hessian(trace(extended_rosenbrock, x)).matrix, rtol=1e-14, atol=0)
    assert (tape.hessian_sparsity() == pathad.hessian_sparsity(trace(extended_rosenbrock, x))).all()
    batch = tape.hessian(np.array([x, x[::-1]]))
    assert batch.matrix.shape == (2, 200, 200) and batch.gradient.shape == (2, 200)
    np.testing.assert_array_equal(batch.matrix[0], H.matrix)


def test_newtons_method_on_the_tape_reaches_the_minimum():
    tape = compile(trace(lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2, 0.0, 0.0))
    point = np.array([-1.2, 1.0])
    for _ in range(20):
        H = tape.hessian(at=point)
        point = point - np.linalg.solve(H.matrix, H.gradient)
    assert np.abs(point - 1.0).max() < 1e-12


def test_branches_and_domains_are_said():
    def f(x, y):
        return x * x * y if x > 0 else pathad.sin(x) * y

    tape = compile(trace(f, 1.0, 2.0))
    with pytest.raises(BranchError):
        tape.hessian(at=np.array([[1.0, -1.0], [2.0, 2.0]]))
    H = tape.hessian(at=np.array([[1.0, -1.0], [2.0, 2.0]]), retrace=f)
    np.testing.assert_allclose(H.matrix[1], pathad.hessian(trace(f, -1.0, 2.0)).matrix, rtol=1e-15)
    tape = compile(trace(lambda x: x**1.5, 1.0))
    with pytest.raises(DomainError, match=r"pow at node .* x = 0\.0, 1\.5: its second derivative"):
        tape.hessian(at=[0.0])


def test_bad_directions_are_refused():
    tape = compile(trace(lambda x, y: x * y, 1.0, 2.0))
    with pytest.raises(ValueError, match=r"v needs shape \(2,\)"):
        tape.hvp([1.0], at=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        tape.hvp([np.nan, 1.0], at=[1.0, 2.0])
    with pytest.raises(ValueError, match="'colored'"):
        tape.hessian(at=[1.0, 2.0], mode="sparse")


def _corpus():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "corpus.py"
    spec = importlib.util.spec_from_file_location("corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("corpus", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
def test_the_fused_kernel_gives_the_traces_hessian_across_the_corpus(monkeypatch):
    from pathad.compiled import hessians

    answered = []
    fused = hessians._fused
    monkeypatch.setattr(hessians, "_fused", lambda *a: answered.append(fused(*a) is not None) or fused(*a))
    compared, rng = 0, np.random.default_rng(14)
    for prog in _corpus().PROGRAMS:
        for point in prog.points[:2]:
            try:
                tr = quietly(trace, prog.func, **point)
                if len(tr.outputs) != 1 or not tr.inputs:
                    continue
                tape = compile(tr, backend="numba")
                moved = {k: np.asarray(v, dtype=float) * (1 + rng.uniform(-1e-3, 1e-3, np.shape(v))) for k, v in
                         point.items()}  # fmt: skip
                expected = quietly(pathad.hessian, quietly(trace, prog.func, **moved))
                found = quietly(tape.hessian, **moved)
            except (BranchError, DomainError, TypeError, NotImplementedError, pathad.PathadError):
                continue  # refused or another branch, said (the trace's own tests cover those)
            scale = max(1.0, float(np.abs(expected.matrix).max()))
            np.testing.assert_allclose(found.matrix, expected.matrix, rtol=1e-10, atol=1e-10 * scale,
                                       err_msg=f"{prog.name} at {moved}")  # fmt: skip
            compared += 1
    assert compared >= 100
    assert sum(answered) >= 0.9 * len(answered)  # the kernel answers on its own, not by falling back


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_partial_that_overflows_is_named_on_every_backend(backend):
    tape = compile(trace(lambda x, y: pathad.log(x) * y, 1.0, 2.0), backend=backend)
    with pytest.raises(DomainError, match=r"log at node .*: its second derivative in its operands is -inf"):
        tape.hessian(1e-160, 2.0)  # log(x) and 1/x are finite, -1/x² is not
    tape = compile(trace(lambda x: pathad.sin(1e200 * x), 1.0), backend=backend)
    with pytest.raises(DomainError, match="Hessian-vector product of .* is not a finite number"):
        tape.hessian(0.5)  # every value, partial and second partial finite; their product 1e400 is not


@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
def test_the_fused_kernel_answers_alone_on_branches_fixed_inputs_and_directions_per_point(monkeypatch):
    from pathad.compiled import hessians

    def f(x, y, z):
        s = x * y + x * x - 2.0 / z  # one fused sum, with a square and a constant first operand
        if s > 0:
            return pathad.exp(s) + y**z + pathad.arctan2(x, z)
        return s * s

    tape = compile(trace(f, 0.7, 0.9, 1.3), backend="numba")
    monkeypatch.setattr(hessians, "_general", lambda *a: pytest.fail("the general way was taken"))
    at = np.array([[0.7, 0.8], [0.9, 1.1], [1.3, 1.2]])
    H = tape.hessian(at=at)
    for b in range(2):
        expected = pathad.hessian(trace(f, *at[:, b]))
        np.testing.assert_allclose(H.matrix[b], expected.matrix, rtol=1e-13)
        assert H.gradient[b].tolist() == pytest.approx(list(pathad.gradient(trace(f, *at[:, b])).values()))
    shared = tape.hessian(at=at[1:], fixed=[0.7])
    np.testing.assert_allclose(shared.matrix[0], H.matrix[0], rtol=1e-15)
    v = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0]])
    found = tape.hvp(v, at=at)
    np.testing.assert_allclose(found, np.einsum("bij,bj->bi", H.matrix, v), rtol=1e-13)


@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
def test_a_large_batch_taken_in_chunks_of_lanes_agrees_with_its_points_one_at_a_time():
    from pathad.compiled.numba_backend import LANES, LANES_FROM

    def f(x, y, z):
        return pathad.log(x * x + y**4 + 1.0) * pathad.tanh(z - x) + x * y * z

    tape = compile(trace(f, 0.5, -0.3, 0.8), backend="numba")
    rng = np.random.default_rng(7)
    batch = LANES + LANES_FROM // 2 + 1  # two calls of the lanes kernel, of nearly even size
    at = rng.uniform(-1.0, 1.0, (3, batch))
    v = rng.normal(size=(batch, 3))
    H, products = tape.hessian(at=at), tape.hvp(v, at=at)
    for b in range(batch):
        one = tape.hessian(at=at[:, b])  # the point-by-point kernel
        np.testing.assert_allclose(H.matrix[b], one.matrix, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(H.gradient[b], one.gradient, rtol=1e-15)
        np.testing.assert_allclose(products[b], one.matrix @ v[b], rtol=1e-12, atol=1e-14)
    expected = pathad.hessian(trace(f, *at[:, -1])).matrix
    np.testing.assert_allclose(H.matrix[-1], expected, rtol=1e-12, atol=1e-14)
