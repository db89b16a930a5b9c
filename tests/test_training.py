"""pathad.training and pathad.nn.fit_dataset: descent, reproducibility, engines, real data sets, bad input."""

import re
import warnings

import numpy as np
import pytest

from pathad.datasets import DataError, Dataset, iris, xor
from pathad.nn import MLP, SETUPS, Circuit, SoftmaxCrossEntropy, SquaredError, fit_dataset
from pathad.training import (
    DivergenceError,
    Epoch,
    Progress,
    Replay,
    Retrace,
    descend,
    fit,
    gradient_engine,
    plot_history,
    replay_available,
    write_figure,
)

needs_replay = pytest.mark.skipif(not replay_available(), reason="pathad.compiled is not available")

# --- descend: the update rule and the loop ------------------------------------------------------------


def quadratic_step(target):
    """Cost ½(θ − target)², the same for every sample; records the rows it was given."""
    seen = []

    def step(theta, rows):
        seen.append(rows.tolist())
        return 0.5 * float(np.sum((theta - target) ** 2)), theta - target

    return step, seen


def test_one_step_moves_against_the_gradient_and_lowers_the_cost():
    step, _ = quadratic_step(np.array([3.0]))
    theta = np.array([1.0])
    before = step(theta, np.array([0]))[0]
    descend(step, theta, 1, epochs=1, learning_rate=0.1)
    assert theta.tolist() == [1.0 + 0.1 * 2.0]  # w := w − η·∂Cost/∂w with ∂Cost/∂w = −2
    assert step(theta, np.array([0]))[0] < before
    # The lecture's w := w + η·∂Cost/∂w would have climbed: θ = 0.8, cost 2.42 > 2.
    assert 0.5 * (1.0 - 0.1 * 2.0 - 3.0) ** 2 > before


def test_descend_converges_and_records_each_epoch():
    step, _ = quadratic_step(np.array([3.0, -1.0]))
    theta = np.zeros(2)
    history = descend(step, theta, 5, epochs=20, learning_rate=0.3, batch_size=2)
    assert np.allclose(theta, [3.0, -1.0], atol=1e-10)
    assert [r.epoch for r in history] == list(range(1, 21))
    assert history[-1].loss < history[0].loss


@pytest.mark.parametrize("batch_size, batches", [(1, 7), (3, 3), (7, 1), (10, 1)])
def test_each_epoch_visits_every_sample_once_in_batches(batch_size, batches):
    step, seen = quadratic_step(np.zeros(1))
    descend(step, np.zeros(1), 7, epochs=2, learning_rate=0.1, batch_size=batch_size)
    for epoch in (seen[:batches], seen[batches:]):
        assert len(epoch) == batches
        assert sorted(sum(epoch, [])) == list(range(7))
        assert all(len(rows) <= batch_size for rows in epoch)


def test_shuffling_is_seeded():
    orders = {}
    for seed in (0, 0, 1):
        step, seen = quadratic_step(np.zeros(1))
        descend(step, np.zeros(1), 10, epochs=2, learning_rate=0.1, seed=seed)
        orders.setdefault(seed, []).append(seen)
    assert orders[0][0] == orders[0][1]
    assert orders[0][0] != orders[1][0]
    assert orders[0][0][:10] != orders[0][0][10:]  # a new order every epoch


def test_evaluate_and_progress_are_called_per_epoch():
    step, _ = quadratic_step(np.zeros(1))
    calls = []

    class Recorder:
        def update(self, record):
            calls.append(record)

    history = descend(
        step, np.ones(1), 2, epochs=3, learning_rate=0.1, evaluate=lambda t: (0.5, 0.25), progress=Recorder()
    )
    assert calls == history
    assert [(r.train_accuracy, r.test_accuracy) for r in history] == [(0.5, 0.25)] * 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"learning_rate": -0.1}, "learning_rate must be a positive finite number, got -0.1"),
        ({"learning_rate": float("nan")}, "learning_rate must be a positive finite number, got nan"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, message):
    step, _ = quadratic_step(np.zeros(1))
    settings = {"epochs": 1, "learning_rate": 0.1, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        descend(step, np.zeros(1), 3, **settings)


# --- divergence: a clear stop, not a wall of NaN ----------------------------------------------------


def test_growing_loss_stops_naming_the_epoch():
    def step(theta, rows):  # cost θ², η = 2: θ → −3θ, the cost grows ninefold per step
        return float(theta[0] ** 2), 2 * theta

    # Levels: the mean of the losses before, up to 10 of them; 9^11 > 100 × (9^10 − 1)/80 first at step 12.
    message = r"training diverged in epoch 12, step 1: the loss 3.14e\+10 is more than 100 × its starting level"
    with pytest.raises(DivergenceError, match=message) as info:
        descend(step, np.array([1.0]), 1, epochs=20, learning_rate=2.0)
    assert (info.value.epoch, info.value.step) == (12, 1)
    assert "learning_rate = 2 is too large, try a tenth of it" in str(info.value)


def test_healthy_noisy_losses_do_not_stop_training():
    losses = iter([1.0, 0.01, 50.0, 0.5] * 10)  # per-sample losses vary, none 100× the level before

    def step(theta, rows):
        return next(losses), np.zeros(1)

    assert len(descend(step, np.zeros(1), 4, epochs=10, learning_rate=0.1)) == 10


def test_overflowing_weights_stop_at_the_step():
    def step(theta, rows):
        return 1.0, np.array([-1e308])

    with pytest.raises(DivergenceError, match=r"epoch 1, step 1: the weights overflowed \(entry 0 is inf\)") as info:
        descend(step, np.array([1e308]), 3, epochs=2, learning_rate=10.0)
    assert (info.value.epoch, info.value.step) == (1, 1)


def test_nan_loss_stops_at_the_step():
    def step(theta, rows):
        return float("nan"), np.zeros(1)

    with pytest.raises(DivergenceError, match=r"epoch 1, step 1: the loss became nan"):
        descend(step, np.zeros(1), 2, epochs=1, learning_rate=0.1)


@pytest.mark.parametrize("engine", ["retrace", pytest.param("replay", marks=needs_replay)])
def test_too_large_a_learning_rate_on_iris_stops_with_the_epoch(engine):
    train = iris().standardized()
    circuit = Circuit(MLP([4, 8, 3], "relu", output="linear"), SoftmaxCrossEntropy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning about overflow or NaN on the way
        with pytest.raises(DivergenceError, match=r"training diverged in epoch \d+") as info:
            fit(circuit, train.subset(range(0, 150, 5)), epochs=30, learning_rate=1e4, engine=engine)
    assert "learning_rate = 10000 is too large" in str(info.value)
    assert info.value.epoch == 1


# --- fit: data that does not fit ----------------------------------------------------------------------


def test_features_that_do_not_fit_the_net_are_named():
    circuit = Circuit(MLP([3, 2]), SoftmaxCrossEntropy())
    with pytest.raises(DataError, match=re.escape("iris has 4 features per sample but MLP(3-2, ")):
        fit(circuit, iris(), epochs=1, learning_rate=0.1)


def test_labels_beyond_the_outputs_are_named():
    circuit = Circuit(MLP([4, 2], output="linear"), SoftmaxCrossEntropy())
    with pytest.raises(DataError, match=r"class labels must lie in 0..1, got 0..2"):
        fit(circuit, iris(), epochs=1, learning_rate=0.1)


def test_nan_in_the_data_is_refused_before_training():
    X = iris().X.copy()
    X[7, 2] = np.inf
    with pytest.raises(DataError, match=re.escape("X[7, 2] = inf (row 7)")):
        Dataset("iris-bad", X, iris().y, iris().classes, iris().features)


# --- fit: engines, reproducibility, the result --------------------------------------------------------


def small_problem():
    data = iris().standardized().subset(range(0, 150, 10))
    return Circuit(MLP([4, 5, 3], "tanh", output="linear"), SoftmaxCrossEntropy()), data


def test_training_is_reproducible():
    circuit, data = small_problem()
    a = fit(circuit, data, epochs=3, learning_rate=0.1, seed=5, engine="retrace")
    b = fit(circuit, data, epochs=3, learning_rate=0.1, seed=5, engine="retrace")
    c = fit(circuit, data, epochs=3, learning_rate=0.1, seed=6, engine="retrace")
    assert np.array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, c.theta)


def test_fit_does_not_modify_the_given_start():
    circuit, data = small_problem()
    start = circuit.init(1)
    kept = start.copy()
    result = fit(circuit, data, epochs=1, learning_rate=0.1, theta=start, engine="retrace")
    assert np.array_equal(start, kept) and not np.array_equal(result.theta, kept)


def test_minibatch_step_is_the_mean_of_per_sample_gradients():
    circuit, data = small_problem()
    X, V = data.X[:4], circuit.targets(data.y[:4])
    engine, theta = Retrace(circuit), circuit.init(2)
    loss, grad = engine(theta, X, V)
    singles = [engine(theta, X[i : i + 1], V[i : i + 1]) for i in range(4)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-14)
    assert np.allclose(grad, np.mean([s[1] for s in singles], axis=0), rtol=1e-13, atol=1e-16)


REPLAYED = [
    ("tanh", "linear", SoftmaxCrossEntropy),  # the iris setup
    ("sigmoid", "linear", SoftmaxCrossEntropy),  # the digits setup
    ("sigmoid", "sigmoid", SquaredError),  # the lecture's circuit, XOR
    ("relu", "linear", SquaredError),  # the benchmark's circuit
    ("relu", "relu", SquaredError),
]


@needs_replay
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("hidden, output, cost", REPLAYED, ids=lambda v: getattr(v, "__name__", v))
def test_replay_gives_the_retrace_gradients(hidden, output, cost, batch):
    rng = np.random.default_rng(batch)
    circuit = Circuit(MLP([4, 5, 3], hidden, output=output), cost())
    X, V = rng.normal(size=(batch, 4)), np.eye(3)[rng.integers(0, 3, batch)]
    theta = rng.normal(0.0, 1.0, len(circuit.parameters()))
    replay = gradient_engine(circuit, "replay", rng.normal(size=4), [0.0, 1.0, 0.0])  # traced at another sample
    assert isinstance(replay, Replay)
    loss, grad = replay(theta, X, V)
    expected_loss, expected = Retrace(circuit)(theta, X, V)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert np.allclose(grad, expected, rtol=1e-10, atol=1e-13)


def test_engine_choice():
    circuit, data = small_problem()
    assert gradient_engine(circuit, "retrace").name == "retrace"
    expected = "replay" if replay_available() else "retrace"
    assert gradient_engine(circuit, "auto", data.X[0], circuit.targets(data.y[:1])[0]).name == expected
    with pytest.raises(ValueError, match="engine must be one of auto, replay, retrace; got 'jit'"):
        gradient_engine(circuit, "jit")


def test_result_summary_and_accessors():
    circuit, data = small_problem()
    result = fit(circuit, data, data, epochs=2, learning_rate=0.1, engine="retrace")
    text = result.summary()
    assert "MLP(4-5-3, tanh hidden, linear output)" in text
    assert "2 epochs, per-sample, learning rate 0.1, seed 0, gradients by retrace" in text
    assert re.search(r"test accuracy \d+\.\d% \(\d+/15\)", text)
    assert set(result.weights) == set(circuit.parameters())
    assert result.predict(data.X).shape == (15,)
    assert result.test_accuracy == pytest.approx(np.mean(result.predict(data.X) == data.y))


# --- progress bar and curve -----------------------------------------------------------------------


def test_progress_bar_goes_to_stderr(capsys):
    circuit, data = small_problem()
    fit(circuit, data, epochs=2, learning_rate=0.1, engine="retrace", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2/2" in captured.err and "loss" in captured.err


def test_progress_without_tqdm_prints_lines(monkeypatch, capsys):
    without_tqdm(monkeypatch)
    with Progress(2, "demo") as bar:
        bar.update(Epoch(1, 0.25, 0.5, None))
    assert capsys.readouterr().err == "demo epoch 1/2: loss 0.2500, train 50.0%\n"


def test_curve_is_written_atomically_as_png(tmp_path):
    circuit, data = small_problem()
    path = tmp_path / "curves" / "iris.png"
    fit(circuit, data, data, epochs=3, learning_rate=0.1, engine="retrace", curve=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["iris.png"]  # no temporary file left behind


def test_plot_history_draws_loss_and_both_accuracies():
    fig = plot_history([Epoch(1, 1.0, 0.5, 0.4), Epoch(2, 0.5, 0.9, 0.8)], "demo")
    loss_axes, accuracy_axes = fig.axes
    assert loss_axes.lines[0].get_ydata().tolist() == [1.0, 0.5]
    assert [line.get_label().split(":")[0] for line in accuracy_axes.lines] == ["training set", "test set"]
    assert accuracy_axes.lines[1].get_ydata().tolist() == [40.0, 80.0]


def test_write_figure_replaces_an_existing_file(tmp_path):
    path = tmp_path / "c.svg"
    path.write_text("old")
    write_figure(plot_history([Epoch(1, 1.0)], "demo"), path)
    assert path.read_text().lstrip().startswith("<?xml")


# --- the data sets: XOR, iris, digits -----------------------------------------------------------------


def test_xor_is_learned_by_the_lecture_shaped_circuit():
    result = fit_dataset("xor", epochs=300, seed=0, progress=False)
    assert result.test_accuracy == 1.0
    assert repr(result.circuit.net) == "MLP(2-3-1, sigmoid hidden, sigmoid output)"
    assert isinstance(result.circuit.cost, SquaredError)


def test_iris_reaches_90_percent_test_accuracy():
    """The CLI's `pathad train --dataset iris --epochs 60 --seed 0`, by the fastest available engine."""
    result = fit_dataset("iris", epochs=60, seed=0, progress=False)
    assert result.test_accuracy >= 0.9
    assert result.sizes == (120, 30)


@needs_replay
def test_digits_reach_90_percent_test_accuracy():
    pytest.importorskip("sklearn")
    result = fit_dataset("digits", epochs=10, seed=0, progress=False)
    assert repr(result.circuit.net) == "MLP(64-16-10, sigmoid hidden, linear output)"
    assert result.sizes == (1500, 297)
    assert result.test_accuracy >= 0.9


def test_unknown_data_set():
    with pytest.raises(ValueError, match="no data set 'mnist'; the data sets are xor, iris, digits"):
        fit_dataset("mnist", epochs=1, seed=0)


def test_setups_fit_their_data():
    for name in ("xor", "iris"):
        setup = SETUPS[name]
        train, test = setup.split({"xor": xor, "iris": iris}[name]())
        assert train.X.shape[1] == setup.sizes[0]
        assert len(train.classes) in (setup.sizes[-1], 2)


# --- issue 17: no flood of progress lines, no curve refused after the training ---------------------------


def without_tqdm(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)


@pytest.mark.parametrize("epochs", [1, 7, 20, 21, 1000, 123_457])
def test_progress_without_tqdm_prints_a_bounded_number_of_lines(monkeypatch, capsys, epochs):
    without_tqdm(monkeypatch)
    with Progress(epochs, "demo") as bar:
        for epoch in range(1, epochs + 1):
            bar.update(Epoch(epoch, 0.25))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) <= Progress.LINES + 1 and len(lines) == min(epochs, len(lines))
    assert lines[0].startswith("demo epoch 1/") and lines[-1].startswith(f"demo epoch {epochs}/{epochs}:")


def test_a_failed_run_leaves_no_progress_bar_behind(capsys):
    pytest.importorskip("tqdm")
    with pytest.raises(RuntimeError), Progress(3, "demo") as bar:
        bar.update(Epoch(1, 0.25))
        raise RuntimeError("diverged")
    assert "\n" not in capsys.readouterr().err  # the error message that follows is the only line


def test_a_curve_without_matplotlib_is_refused_before_training(monkeypatch, tmp_path):
    import sys

    from pathad.errors import MissingDependencyError

    circuit, data = small_problem()
    steps = []
    monkeypatch.setattr("pathad.training.descend", lambda *a, **k: steps.append(1))
    for module in ("matplotlib", "matplotlib.backend_bases", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match="needs matplotlib"):
        fit(circuit, data, epochs=3, learning_rate=0.1, engine="retrace", curve=tmp_path / "c.png")
    assert steps == [] and not (tmp_path / "c.png").exists()


def test_a_curve_in_a_format_matplotlib_lacks_is_refused_before_training(monkeypatch, tmp_path):
    circuit, data = small_problem()
    monkeypatch.setattr("pathad.training.descend", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ValueError, match=r"cannot write \.xyz"):
        fit(circuit, data, epochs=3, learning_rate=0.1, engine="retrace", curve=tmp_path / "c.xyz")
