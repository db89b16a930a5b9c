"""Arrays in, arrays out: array inputs and outputs, shaped gradients and Jacobians, replay in the traced shapes.

Every derivative is checked against central differences of the same function run on plain float arrays (or
against a formula), so a wrong shape, a transposed block or a lost element fails.
"""

import os
import tempfile

import numpy as np
import pytest

import pathad
from pathad.compiled import numba_available
from pathad.errors import UnknownNodeError

NUMBA = pytest.mark.skipif(not numba_available(), reason="numba is not installed (pip install pathad[fast])")
BACKENDS = pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=NUMBA)])

RNG = np.random.default_rng(7)
W0 = RNG.normal(size=(3, 3))
V0 = RNG.normal(size=3)


def central(f, args, name, h=1e-6):
    """∂f/∂args[name] by central differences on floats: shape f-shape + arg-shape."""
    base = np.asarray(args[name], dtype=np.float64)
    out_shape = np.shape(f(**args))
    result = np.zeros(out_shape + base.shape)
    for index in np.ndindex(*base.shape):
        up, down = base.copy(), base.copy()
        up[index] += h
        down[index] -= h
        diff = (np.asarray(f(**{**args, name: up})) - np.asarray(f(**{**args, name: down}))) / (2 * h)
        result[(Ellipsis, *index)] = diff
    return result


def softmax(v):
    e = np.exp(v - np.max(v))  # the shift changes no derivative: softmax is shift-invariant
    return e / np.sum(e)


def layer(W, b, x):
    return np.tanh(W @ x + b)


def mlp_loss(W, b, x):
    return np.sum(layer(W, b, x) ** 2) / 2


SCALAR_PROGRAMS = {
    "sum": lambda v: np.sum(v * v),
    "prod": lambda v: np.prod(v),
    "mean": lambda v: np.mean(v * v),
    "var": lambda v: np.var(v),
    "std": lambda v: np.std(v),
    "max": lambda v: np.max(v),
    "norm": lambda v: np.linalg.norm(v),
    "norm1": lambda v: np.linalg.norm(v, 1),
    "quadratic": lambda v: v @ (W0 @ v),
}


# --- tracing ------------------------------------------------------------------------


def test_array_inputs_become_object_arrays_of_named_input_nodes():
    seen = {}

    def f(v, W):
        seen["v"], seen["W"] = v, W
        return W @ v

    tr = pathad.trace(f, v=np.ones(3), W=np.eye(3))
    assert seen["v"].dtype == object and seen["v"].shape == (3,) and seen["W"].shape == (3, 3)
    assert list(tr.inputs)[:4] == ["v[0]", "v[1]", "v[2]", "W[0,0]"]
    assert tr.inputs["W[1,2]"] == 3 + 5
    assert tr.arguments["v"].tolist() == [0, 1, 2] and tr.arguments["W"].shape == (3, 3)
    assert [tr.label(n) for n in tr.outputs] == ["f[0]", "f[1]", "f[2]"]
    assert isinstance(tr.value, np.ndarray) and tr.value.dtype == np.float64 and tr.value.tolist() == [1.0] * 3
    assert repr(tr).startswith("<Trace f(v, W) = array([1., 1., 1.]):")


def test_positional_arrays_integers_and_zero_d_arrays():
    tr = pathad.trace(lambda v, s: v * s, np.arange(3), np.array(2.0))
    assert list(tr.inputs) == ["v[0]", "v[1]", "v[2]", "s"]
    assert tr.arguments["s"] == 3  # a 0-d array is a number input
    assert tr.value.tolist() == [0.0, 2.0, 4.0]
    grad = pathad.gradient(tr, of="<lambda>[2]")
    assert grad["v"].tolist() == [0.0, 0.0, 2.0] and grad["s"] == 2.0


def test_matrix_outputs_are_labeled_in_numpy_index_style():
    tr = pathad.trace(lambda W: W * 2.0, np.ones((2, 3)))
    assert [tr.label(n) for n in tr.outputs] == [f"<lambda>[{i},{j}]" for i in range(2) for j in range(3)]
    assert tr.value.shape == (2, 3)


@pytest.mark.parametrize(
    "bad, element, error",
    [
        (np.array([True, False]), "v[0]", TypeError),
        (np.array([1.0, 2.0 + 1j]), "v[0]", TypeError),
        (np.array([1.0, 2.0, np.nan]), "v[2]", ValueError),
        (np.array([[1.0, np.inf]]), "v[0,1]", ValueError),
        (np.array([1.0, "a"], dtype=object), "v[1]", TypeError),
    ],
)
def test_bad_elements_are_refused_naming_the_element(bad, element, error):
    with pytest.raises(error, match=rf"{element.replace('[', '.').replace(']', '.')}"):
        pathad.trace(lambda v: np.sum(v), bad)


def test_a_list_input_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"np\.array"):
        pathad.trace(lambda v: v[0], [1.0, 2.0])


def test_value_rebuilds_tuples_and_dicts_of_arrays():
    tr = pathad.trace(lambda v: (v * 2.0, {"s": np.sum(v), "m": np.outer(v, v)}), np.array([1.0, 2.0]))
    first, rest = tr.value
    assert first.tolist() == [2.0, 4.0] and rest["s"] == 3.0 and rest["m"].tolist() == [[1, 2], [2, 4]]
    assert len(tr.outputs) == 2 + 1 + 4
    assert tr.label(tr.outputs[2]) == "<lambda>[1]['s']" and tr.label(tr.outputs[3]) == "<lambda>[1]['m'][0,0]"


def test_comparisons_with_arrays_are_elementwise_and_recorded():
    def f(x):
        mask = x < np.zeros(4)
        assert mask.tolist() == [False] * 4
        return x * 2.0

    tr = pathad.trace(f, 1.5)
    assert len(tr.tape.guards) == 4 and all(g.op == "<" and not g.outcome for g in tr.tape.guards)
    with pytest.raises(pathad.BranchError):
        pathad.compile(tr).evaluate(x=-1.0)


# --- gradients ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCALAR_PROGRAMS))
@pytest.mark.parametrize("mode", ["backward", "forward"])
def test_gradients_of_reductions_against_central_differences(name, mode):
    f = SCALAR_PROGRAMS[name]
    tr = pathad.trace(f, V0)
    grad = pathad.gradient(tr, mode=mode)
    assert set(grad) == {"v"} and grad["v"].shape == (3,)
    np.testing.assert_allclose(grad["v"], central(f, {"v": V0}, "v"), rtol=1e-6, atol=1e-8)


def test_gradient_of_a_tiny_mlp_layer_against_central_differences():
    b, x = RNG.normal(size=3), RNG.normal(size=3)
    tr = pathad.trace(mlp_loss, W0, b, x)
    grad = pathad.gradient(tr)
    assert grad["W"].shape == (3, 3) and grad["b"].shape == (3,)
    for name in ("W", "b", "x"):
        np.testing.assert_allclose(grad[name], central(mlp_loss, {"W": W0, "b": b, "x": x}, name), rtol=1e-6)
    # the formula: with y = tanh(Wx + b), ∂L/∂W = ((1 - y²) y) xᵀ
    y = np.tanh(W0 @ x + b)
    np.testing.assert_allclose(grad["W"], np.outer((1 - y**2) * y, x), rtol=1e-12)


def test_gradient_wrt_flat_names_argument_names_and_mixtures():
    tr = pathad.trace(lambda v, c: c * (v @ v), V0, 2.0)
    full = pathad.gradient(tr)
    assert set(full) == {"v", "c"}
    np.testing.assert_allclose(full["v"], 4.0 * V0)
    assert full["c"] == pytest.approx(V0 @ V0)
    assert pathad.gradient(tr, wrt="v[1]") == {"v[1]": pytest.approx(4.0 * V0[1])}
    some = pathad.gradient(tr, wrt=["c", "v", "v[0]"])
    assert list(some) == ["c", "v", "v[0]"] and some["v"].shape == (3,)
    assert pathad.derivative(tr, "v[2]") == pytest.approx(4.0 * V0[2])
    np.testing.assert_allclose(pathad.derivative(tr, "v", mode="forward"), 4.0 * V0)


def test_naming_an_array_argument_where_one_node_is_needed_says_how():
    tr = pathad.trace(lambda v: np.sum(v), np.ones(3))
    with pytest.raises(UnknownNodeError, match=r"'v' is an array input of shape \(3,\).*'v\[0\]'"):
        pathad.derivatives_from(tr, "v")


# --- Jacobians ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "forward", "backward"])
def test_jacobian_of_a_matrix_times_vector_is_the_matrix(mode):
    tr = pathad.trace(lambda v: W0 @ v, V0)
    J = pathad.jacobian(tr, mode=mode)
    assert J.matrix.shape == (3, 3) and J.wrt == ("v[0]", "v[1]", "v[2]")
    np.testing.assert_allclose(J.array, W0, rtol=1e-15)
    np.testing.assert_allclose(J.blocks["v"], W0, rtol=1e-15)


def test_jacobian_blocks_are_output_shape_plus_input_shape():
    def f(W, v):
        return W @ v

    tr = pathad.trace(f, W0, V0)
    blocks = pathad.jacobian(tr).blocks
    assert blocks["W"].shape == (3, 3, 3) and blocks["v"].shape == (3, 3)
    np.testing.assert_allclose(blocks["W"], central(f, {"W": W0, "v": V0}, "W"), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(blocks["v"], W0)
    with pytest.raises(ValueError, match=r"Jacobian\.blocks"):
        pathad.jacobian(tr).array  # noqa: B018 - two arguments: no single array


def test_jacobian_of_softmax_against_the_formula():
    tr = pathad.trace(softmax, V0)
    s = tr.value
    np.testing.assert_allclose(s, np.exp(V0) / np.exp(V0).sum(), rtol=1e-14)
    np.testing.assert_allclose(pathad.jacobian(tr).array, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)


def test_jacobian_of_tuples_and_dicts_of_arrays():
    def f(v, s):
        return {"scaled": s * v, "pair": (np.sum(v * v), np.outer(v, v))}

    tr = pathad.trace(f, V0[:2], 3.0)
    J = pathad.jacobian(tr)
    assert J.matrix.shape == (2 + 1 + 4, 3)
    np.testing.assert_allclose(J.blocks["scaled"]["v"], 3.0 * np.eye(2))
    np.testing.assert_allclose(J.blocks["scaled"]["s"], V0[:2])
    np.testing.assert_allclose(J.blocks["pair"][0]["v"], 2 * V0[:2])
    assert J.blocks["pair"][0]["s"] == 0.0
    outer = J.blocks["pair"][1]["v"]
    assert outer.shape == (2, 2, 2)
    np.testing.assert_allclose(outer, central(lambda v: np.outer(v, v), {"v": V0[:2]}, "v"), rtol=1e-6, atol=1e-9)


def test_jacobian_with_wrt_an_array_argument_and_explicit_of():
    tr = pathad.trace(lambda W, v: W @ v, W0, V0)
    J = pathad.jacobian(tr, wrt=["v"], of=["<lambda>[0]", "<lambda>[2]"])
    assert J.wrt == ("v[0]", "v[1]", "v[2]")
    np.testing.assert_allclose(J.matrix, W0[[0, 2]])
    np.testing.assert_allclose(J.blocks["<lambda>[2]"]["v"], W0[2])


def test_scalar_traces_keep_their_flat_jacobian():
    J = pathad.jacobian(pathad.trace(lambda x, y: (x * y, x + y), 2.0, 3.0))
    assert J.matrix.tolist() == [[3.0, 2.0], [1.0, 1.0]]
    assert J.blocks == ({"x": 3.0, "y": 2.0}, {"x": 1.0, "y": 1.0})


# --- saving -----------------------------------------------------------------------------------


def test_save_and_load_keep_arguments_and_the_result_shape():
    tr = pathad.trace(lambda W, v: (W @ v, {"n": v @ v}), W0, V0)
    path = os.path.join(tempfile.mkdtemp(), "arrays.json")
    copy = pathad.load(pathad.save(tr, path))
    assert copy.arguments["W"].tolist() == tr.arguments["W"].tolist()
    np.testing.assert_allclose(copy.value[0], tr.value[0])
    assert copy.value[1]["n"] == tr.value[1]["n"]
    np.testing.assert_allclose(pathad.gradient(copy, of="<lambda>[1]['n']")["v"], 2 * V0)
    np.testing.assert_allclose(pathad.compile(copy, backend="numpy").evaluate(v=np.ones(3))[0], W0 @ np.ones(3))


# --- replay ------------------------------------------------------------------------------------


@BACKENDS
def test_replay_of_a_matrix_program_at_other_points_matches_tracing(backend):
    tape = pathad.compile(pathad.trace(mlp_loss, W0, np.zeros(3), V0), backend=backend)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        W, b, x = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
        fresh = pathad.trace(mlp_loss, W, b, x)
        value, grad = tape.value_and_gradient(W, b, x)
        assert value == pytest.approx(fresh.value, rel=1e-12)
        expected = pathad.gradient(fresh)
        assert set(grad) == {"W", "b", "x"}
        for name in ("W", "b", "x"):
            assert grad[name].shape == expected[name].shape
            np.testing.assert_allclose(grad[name], expected[name], rtol=1e-10, atol=1e-14)
        assert tape.evaluate(W=W, b=b, x=x) == pytest.approx(fresh.value, rel=1e-12)


@BACKENDS
def test_replay_of_array_outputs_in_batches(backend):
    tape = pathad.compile(pathad.trace(lambda W, v: (W @ v, np.sum(v)), W0, V0), backend=backend)
    batch = RNG.normal(size=(5, 3))
    matrices, total = tape.evaluate(v=batch)  # W as traced
    assert matrices.shape == (5, 3) and total.shape == (5,)
    np.testing.assert_allclose(matrices, batch @ W0.T, rtol=1e-13)
    np.testing.assert_allclose(total, batch.sum(axis=1), rtol=1e-13)
    Ws = RNG.normal(size=(5, 3, 3))
    both, _ = tape.evaluate(Ws, batch)
    np.testing.assert_allclose(both, np.einsum("bij,bj->bi", Ws, batch), rtol=1e-13)
    one, _ = tape.evaluate(Ws[2], batch[2])
    assert one.shape == (3,)
    np.testing.assert_allclose(one, Ws[2] @ batch[2], rtol=1e-13)


@BACKENDS
def test_replayed_gradients_of_a_batch_have_the_batch_axis_first(backend):
    tape = pathad.compile(pathad.trace(lambda W, v, c: c * np.sum(np.tanh(W @ v)), W0, V0, 1.0), backend=backend)
    Ws, vs, cs = RNG.normal(size=(4, 3, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    values, grads = tape.value_and_gradient(W=Ws, v=vs, c=cs)
    assert values.shape == (4,) and grads["W"].shape == (4, 3, 3) and grads["v"].shape == (4, 3)
    assert grads["c"].shape == (4,)
    for k in range(4):
        expected = pathad.gradient(pathad.trace(lambda W, v, c: c * np.sum(np.tanh(W @ v)), Ws[k], vs[k], cs[k]))
        for name in ("W", "v", "c"):
            np.testing.assert_allclose(grads[name][k], expected[name], rtol=1e-10, atol=1e-14)
    only = tape.gradient(W=Ws, v=vs, c=cs, wrt="v")
    assert list(only) == ["v"]
    np.testing.assert_allclose(only["v"], grads["v"])
    flat = tape.gradient(W=Ws, v=vs, c=cs, wrt=["v[1]", "c"])
    np.testing.assert_allclose(flat["v[1]"], grads["v"][:, 1])


@BACKENDS
def test_replay_with_one_array_holding_all_inputs_keeps_its_flat_meaning(backend):
    tr = pathad.trace(lambda W, v: np.sum(W @ v), W0, V0)
    tape = pathad.compile(tr, backend=backend)
    flat = np.concatenate([W0.ravel(), V0])
    assert tape.evaluate(at=flat) == pytest.approx(tr.value, rel=1e-13)
    grad = tape.gradient(at=np.stack([flat, 2 * flat], axis=1))
    assert grad["W"].shape == (2, 3, 3) and grad.array.shape == (12, 2)
    np.testing.assert_allclose(grad["v"][1], 2 * W0.sum(axis=0), rtol=1e-13)


@BACKENDS
def test_a_shape_that_fits_neither_names_the_input_and_the_shapes(backend):
    tape = pathad.compile(pathad.trace(lambda W, v: np.sum(W @ v), W0, V0), backend=backend)
    with pytest.raises(ValueError, match=r"input 'W' was traced with shape \(3, 3\).*\(B, 3, 3\).*got shape \(3,\)"):
        tape.evaluate(W=np.ones(3))
    with pytest.raises(ValueError, match=r"batch size.*W: 2, v: 3"):
        tape.evaluate(W=np.ones((2, 3, 3)), v=np.ones((3, 3)))
    with pytest.raises(TypeError, match=r"'u' is not an input"):
        tape.evaluate(u=1.0)


@BACKENDS
def test_retrace_rebuilds_array_arguments(backend):
    def f(v):
        return np.sum(v * v) if v[0] > 0 else np.sum(v)

    tape = pathad.compile(pathad.trace(f, np.array([1.0, 2.0])), backend=backend)
    points = np.array([[1.0, 2.0], [-1.0, 2.0]])
    with pytest.raises(pathad.BranchError):
        tape.evaluate(v=points)
    np.testing.assert_allclose(tape.evaluate(v=points, retrace=f), [5.0, 1.0])
    np.testing.assert_allclose(tape.gradient(v=points, retrace=f)["v"], [[2.0, 4.0], [1.0, 1.0]])
