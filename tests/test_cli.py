"""The pathad command: trace, explain, train, figures, tour; errors are one line, exit status 2, no traceback."""

import contextlib
import io
import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathad
import pathad.io
from pathad import nn
from pathad.cli import main
from pathad.compiled import numba_available

H = "(x + 4*y) * ((x + y) * y)"
ROOT = Path(__file__).resolve().parent.parent


def run(*argv):
    """(exit status, stdout, stderr) of ``pathad argv``, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv), out=out)
    return status, out.getvalue(), err.getvalue()


def one_line_error(argv, fragment):
    status, out, err = run(*argv)
    assert status == 2, (argv, out, err)
    assert err.count("\n") == 1 and "error: " in err and "Traceback" not in err, err
    assert fragment in err, err
    return err


class TestTrace:
    def test_value_and_every_partial_by_both_sweeps(self):
        status, out, err = run("trace", H, "--at", "x=3", "y=5")
        assert (status, err) == (0, "")
        assert "value: 920" in out
        rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("∂f/∂")}
        assert rows == {"∂f/∂x": ["155", "155"], "∂f/∂y": ["459", "459"]}
        assert "forward: 2 sweeps" in out and "backward: 1 sweep" in out

    def test_wrt_and_mode(self):
        status, out, _ = run("trace", H, "--at", "x=3,y=5", "--wrt", "y", "--mode", "forward", "--name", "h")
        assert status == 0
        assert re.search(r"^∂h/∂y\s+459$", out, re.M) and "∂h/∂x" not in out and "backward" not in out

    def test_json(self):
        status, out, _ = run("trace", H, "--at", "x=3", "y=5", "--json")
        report = json.loads(out)
        assert status == 0
        assert report["value"] == 920.0 and report["at"] == {"x": 3.0, "y": 5.0}
        assert report["forward"] == report["backward"] == {"x": 155.0, "y": 459.0}
        assert report["graph"] == {"nodes": 7, "edges": 9} and report["semiring"] == "real"

    @pytest.mark.parametrize(
        ("semiring", "expected"),
        [
            ("counting", {"x": 2, "y": 3}),
            ("boolean", {"x": True, "y": True}),
            ("min-plus", {"x": 2.0, "y": 2.0}),
            ("max-plus", {"x": 3.0, "y": 3.0}),
            (
                "max_times",
                {
                    "x": {"product": 115.0, "path": ["x", "v4", "v5", "f"]},
                    "y": {"product": 184.0, "path": ["y", "v5", "f"]},
                },
            ),
        ],
    )
    def test_other_path_problems(self, semiring, expected):
        status, out, _ = run("trace", H, "--at", "x=3", "y=5", "--semiring", semiring, "--json")
        report = json.loads(out)
        assert status == 0 and report["forward"] == report["backward"] == expected

    def test_other_path_problems_as_text(self):
        _, out, _ = run("trace", H, "--at", "x=3", "y=5", "--semiring", "max-times", "--mode", "backward")
        assert "184 along y → v5 → f" in out and "semiring max-times:" in out
        _, out, _ = run("trace", "2*x", "--at", "x=3", "y=5", "--semiring", "boolean")
        assert re.search(r"^y → f\s+no\s+no$", out, re.M)
        _, out, _ = run("trace", "2*x", "--at", "x=3", "y=5", "--semiring", "min-plus", "--wrt", "y")
        assert re.search(r"^y → f\s+no path\s+no path$", out, re.M)

    def test_the_formula_is_an_input(self):
        _, out, _ = run("trace", "x", "--at", "x=2", "--semiring", "max-times", "--json")
        assert json.loads(out)["backward"] == {"x": {"product": 1.0, "path": ["x"]}}
        _, out, _ = run("trace", "x", "--at", "x=2", "--json")
        assert json.loads(out)["forward"] == {"x": 1.0}

    def test_symbolic(self):
        status, out, _ = run("trace", H, "--at", "x=3", "y=5", "--symbolic", "--wrt", "x")
        assert status == 0 and "∂f/∂x = 2*x*y + 5*y**2" in out

    def test_draw_and_save(self, tmp_path):
        picture, graph, graphml = tmp_path / "h.svg", tmp_path / "h.json", tmp_path / "h.graphml"
        status, out, _ = run("trace", H, "--at", "x=3", "y=5", "--draw", str(picture), "--save", str(graph))
        assert status == 0 and f"wrote {picture}" in out and f"wrote {graph}" in out
        svg = picture.read_text()
        assert "920" in svg and "155" in svg and "459" in svg  # values and the backward sweep's partials
        assert pathad.gradient(pathad.io.load(graph)) == {"x": 155.0, "y": 459.0}
        assert run("trace", H, "--at", "x=3", "y=5", "--save", str(graphml), "--json")[0] == 0
        assert "<graphml" in graphml.read_text()

    def test_a_negative_value_and_constants(self):
        status, out, _ = run("trace", "sin(x) * 2", "--at", "x=-pi/2", "--json")
        assert status == 0 and json.loads(out)["value"] == -2.0


class TestExplain:
    def test_the_sum_over_paths(self):
        status, out, _ = run("explain", H, "--at", "x=3", "y=5", "--wrt", "x")
        assert status == 0
        assert out == "∂f/∂x = 1·y·(x+y) + 1·y·(x+4·y) = 40 + 115 = 155\n"

    def test_numbers(self):
        _, out, _ = run("explain", H, "--at", "x=3", "y=5", "--numbers")
        assert out.splitlines() == [
            "∂f/∂x = 1·40 + 1·5·23 = 40 + 115 = 155",
            "∂f/∂y = 4·1·40 + 1·5·23 + 8·23 = 160 + 115 + 184 = 459",
        ]

    def test_too_many_paths(self):
        logistic = "x"
        for _ in range(6):
            logistic = f"4*({logistic})*(1-({logistic}))"
        one_line_error(["explain", logistic, "--at", "x=0.3", "--limit", "10"], "more than --limit 10")


ERRORS = [
    (["trace", "x +", "--at", "x=1"], "syntax error at column 4"),
    (["trace", "x*y", "--at", "x=1"], "no value for the variable y: add y=... to --at"),
    (["trace", "foo(x)", "--at", "x=1"], "unknown function 'foo'"),
    (["trace", "__import__('os').system('echo hacked')", "--at", "x=1"], "only the functions"),
    (["trace", "x.__class__", "--at", "x=1"], "attribute access"),
    (["trace", "_secret", "--at", "x=1"], "unknown name '_secret'"),
    (["trace", "open('/etc/passwd')", "--at", "x=1"], "unknown function 'open'"),
    (["trace", "log(x)", "--at", "x=-2"], "log at node v1 with operand x = -2.0: no real value"),
    (["trace", "1/(x-3)", "--at", "x=3"], "div at node v2"),
    (["trace", "sqrt(x)", "--at", "x=0"], "the derivative in operand 0 does not exist"),
    (["trace", "exp(1000*x)", "--at", "x=1"], "exp"),
    (["trace", "x", "--at", "x"], "--at takes name=value items"),
    (["trace", "x", "--at", "x=abc"], "--at x=abc: 'abc' is not a number"),
    (["trace", "x", "--at", "x=1", "x=2"], "x is given twice"),
    (["trace", "x", "--at", "x=1/0"], "--at x=1/0"),
    (["trace", "x"], "the following arguments are required: --at"),
    (["trace", "x", "--at", "x=1", "--wrt", "z"], "--wrt z: not a variable given with --at (x)"),
    (["trace", "x", "--at", "x=1", "--semiring", "tropical"], "unknown semiring 'tropical'"),
    (["trace", "x", "--at", "x=1", "--semiring", "symbolic"], "use --symbolic"),
    (["trace", "x", "--at", "x=1", "--mode", "sideways"], "invalid choice: 'sideways'"),
    (["trace", "x", "--at", "x=1", "--name", "x"], "--name 'x'"),
    (["trace", "x", "--at", "x=1", "--draw", "h.txt"], "the file's suffix gives the format"),
    (["trace", "x", "--at", "x=1", "--draw", "/no/such/dir/h.svg"], "the directory '/no/such/dir' does not exist"),
    (["trace", "x", "--at", "x=1", "--save", "/no/such/dir/h.json"], "does not exist"),
    (["trace", "**".join(["x"] * 201), "--at", "x=1", "--symbolic"], "formulas are written for at most 200"),
    (["explain", "x*y", "--at", "x=1"], "no value for the variable y"),
    (["explain", "x", "--at", "x=1", "--wrt", "y"], "--wrt y"),
    (["explain", "x", "--at", "x=1", "--limit", "0"], "must be a positive whole number"),
    (["train", "--dataset", "mnist", "--epochs", "3"], "invalid choice: 'mnist'"),
    (["train", "--dataset", "xor", "--epochs", "-3"], "argument --epochs"),
    (["train", "--dataset", "xor", "--epochs", "0"], "must be a positive whole number, got '0'"),
    (["train", "--dataset", "xor", "--epochs", "ten"], "must be a whole number, got 'ten'"),
    (["train", "--dataset", "xor"], "the following arguments are required: --epochs"),
    (["train", "--dataset", "xor", "--epochs", "3", "--seed", "-1"], "must not be negative"),
    (["train", "--dataset", "xor", "--epochs", "3", "--learning-rate", "0"], "must be a positive number"),
    (["train", "--dataset", "xor", "--epochs", "3", "--learning-rate", "nan"], "must be a positive number"),
    (["train", "--dataset", "xor", "--epochs", "3", "--batch-size", "0"], "argument --batch-size"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["trace", "-x*y", "--at", "x=1", "y=2"], 'needs a space in front (" -x*y")'),
    (["explain", "--at", "x=1", "y=2", "x*y"], 'the formula goes first (pathad explain "x*y" --at x=3 y=5)'),
]


@pytest.mark.parametrize(("argv", "fragment"), ERRORS)
def test_errors_are_one_line_with_status_2(argv, fragment):
    one_line_error(argv, fragment)


def test_no_traceback_from_the_console_script(tmp_path):
    """The real command, in a fresh interpreter: a user error prints one line and nothing else."""
    result = subprocess.run(
        [sys.executable, "-m", "pathad", "trace", "log(x) + (", "--at", "x=1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "pathad trace: error: syntax error at column 10: '(' was never closed\n"


@pytest.mark.parametrize("command", ["trace", "explain", "animate", "tour", "figures", "train"])
def test_help_has_examples(command):
    status, out, _ = run(command, "--help")
    heading, examples = re.split(r"^(examples?:)$", out, flags=re.M)[-2:]
    assert status == 0 and heading in ("example:", "examples:")
    assert f"  pathad {command}" in examples


def test_top_level_help_lists_every_command():
    status, out, _ = run("--help")
    assert status == 0
    for command in ("trace", "explain", "animate", "tour", "figures", "train"):
        assert f"pathad {command}" in out


def test_tour_is_the_default():
    status, out, _ = run()
    assert status == 0 and "value: 920" in out and "∂h/∂x = 155" in out


class TestTrain:
    def test_a_tiny_run_ends_with_the_test_accuracy(self):
        status, out, err = run("train", "--dataset", "xor", "--epochs", "3", "--seed", "0", "--no-progress")
        assert status == 0, err
        assert re.fullmatch(r"test accuracy: [01]\.\d\d", out.splitlines()[-1])

    def test_every_backend_trains_to_the_same_weights_up_to_rounding(self):
        results = {}
        for backend in ("numpy", "numba") if numba_available() else ("numpy",):
            status, out, err = run("train", "--dataset", "xor", "--epochs", "5", "--no-progress", "--backend", backend)
            assert status == 0, err
            results[backend] = nn.fit_dataset("xor", epochs=5, seed=0, progress=False, backend=backend).theta
        if "numba" in results:
            np.testing.assert_allclose(results["numba"], results["numpy"], rtol=1e-12, atol=1e-15)

    def test_an_unknown_backend_is_refused(self):
        status, _, err = run("train", "--dataset", "xor", "--epochs", "3", "--backend", "cuda")
        assert status == 2 and "invalid choice: 'cuda'" in err

    def test_the_arguments_reach_fit_dataset(self, monkeypatch):
        seen = {}

        class Result:
            test_accuracy = 0.875

            def summary(self):
                return "summary"

        def fit_dataset(name, **kwargs):
            seen.update(kwargs, name=name)
            return Result()

        monkeypatch.setattr(nn, "fit_dataset", fit_dataset)
        argv = ["train", "--dataset", "iris", "--epochs", "7", "--seed", "3", "--batch-size", "4"]
        status, out, _ = run(*argv, "--learning-rate", "0.5", "--no-progress", "--curve", "c.png")
        assert status == 0 and out == "summary\ntest accuracy: 0.88\n"
        assert seen == dict(
            name="iris",
            epochs=7,
            seed=3,
            batch_size=4,
            learning_rate=0.5,
            progress=False,
            curve="c.png",
            backend="auto",
        )

    def test_a_curve_into_a_missing_directory(self):
        one_line_error(
            ["train", "--dataset", "xor", "--epochs", "3", "--curve", "/no/such/dir/c.png"], "does not exist"
        )


def test_the_readmes_command_lines_and_output(tmp_path, monkeypatch):
    """The README's five command lines run, and the first prints what the README shows."""
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "pathad trace" in b)
    lines = [line.split("  #")[0] for line in block.strip().splitlines()]
    assert len(lines) == 5
    monkeypatch.chdir(tmp_path)
    outputs = []
    for line in lines:
        argv = shlex.split(line)
        assert argv[0] == "pathad"
        status, out, err = run(*argv[1:], *(["--no-progress"] if argv[1] == "train" else []))
        assert status == 0, (line, err)
        outputs.append(out)
    shown = re.search(r"The first prints\n\n```text\n(.*?)```", readme, re.S).group(1)
    assert outputs[0] == shown
    assert (tmp_path / "h.svg").exists() and outputs[-1].splitlines()[-1] == "test accuracy: 1.00"


def test_figures_still_work(tmp_path):
    status, out, _ = run("figures", "--out", str(tmp_path), "--only", "fig2a", "--format", "svg")
    assert status == 0 and (tmp_path / "fig2a.svg").exists() and "wrote" in out


EXPRESSION_TEXT = st.text(alphabet="xy012.+-*/()^ ,=_[]'abcdeilnoqrstwgp\\@<>|~λ", max_size=30)
AT_ITEMS = st.lists(
    st.one_of(
        st.sampled_from(["x=1", "y=-2.5", "x=0", "y=pi", "x=1,y=2", "z=3", "x", "=", "x=", "sin=1"]),
        st.text(alphabet="xyz=,.0123-e", max_size=6),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["trace", "explain"]), EXPRESSION_TEXT, AT_ITEMS, st.sampled_from([[], ["--json"], ["--numbers"]])
)
def test_no_input_makes_a_traceback(command, text, at, extra):
    if command == "trace" and extra == ["--numbers"]:
        extra = ["--semiring", "counting"]
    if command == "explain" and extra == ["--json"]:
        extra = []
    status, out, err = run(command, text, "--at", *at, *extra)
    assert status in (0, 2)
    if status == 2:
        assert err.count("\n") == 1 and "error:" in err
    else:
        assert err == "" and out


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20), st.text(max_size=8))
def test_no_unicode_input_makes_a_traceback(text, value):
    status, _, err = run("trace", text, "--at", f"x={value}", "y=1")
    assert status in (0, 2)
    assert status == 0 or err.count("\n") == 1


def any_formula():
    """Well-formed formulas over every function and operator, with no care for their domains."""
    leaves = st.sampled_from(["x", "y", "0", "1", "-2", "0.5", "pi", "1e308"])
    functions = ["sin", "cos", "tan", "exp", "log", "ln", "sqrt", "tanh", "sigmoid", "relu", "abs"]

    def extend(inner):
        unary = st.builds("{}({})".format, st.sampled_from(functions), inner)
        binary = st.builds("({}) {} ({})".format, inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner)
        return unary | binary | st.builds("pow({}, {})".format, inner, inner) | inner.map("-{}".format)

    return st.recursive(leaves, extend, max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(
    any_formula(),
    st.sampled_from(["0", "1", "-1", "0.5", "-0.5", "1e-300", "700"]),
    st.sampled_from(["0", "2", "-3"]),
    st.sampled_from([[], ["--semiring", "max-times"], ["--mode", "forward"], ["--json"]]),
)
def test_no_formula_at_any_point_makes_a_traceback(formula, x, y, extra):
    status, out, err = run("trace", f" {formula}", "--at", f"x={x}", f"y={y}", *extra)
    assert status in (0, 2)
    assert (status == 0 and err == "" and out) or (status == 2 and err.count("\n") == 1), err


# --- issue 17: a library people trust on first contact ------------------------------------------------


def graph_counts(out):
    return re.search(r"^graph: (\d+) nodes, (\d+) edges", out, re.M).groups()


def test_tour_and_trace_count_the_same_graph():
    """The tour counted the folded graph (6, 8), trace the traced one (7, 9), and neither said which."""
    _, tour_out, _ = run("tour")
    _, trace_out, _ = run("trace", H, "--at", "x=3", "y=5")
    assert graph_counts(tour_out) == graph_counts(trace_out) == ("7", "9")


def test_a_drawing_says_it_shows_the_folded_graph(tmp_path):
    picture = tmp_path / "h.svg"
    status, out, _ = run("trace", H, "--at", "x=3", "y=5", "--draw", str(picture))
    assert status == 0 and graph_counts(out) == ("7", "9")
    assert f"wrote {picture} (drawn folded: 6 nodes, 8 edges" in out
    _, out, _ = run("trace", "x*y", "--at", "x=3", "y=5", "--draw", str(picture))
    assert f"wrote {picture}\n" in out  # nothing to fold: nothing to say


def test_answers_that_agree_to_rounding_look_the_same():
    """√(3 sin x) at 2: forward -0.37794120918695956, backward -0.3779412091869595 (one bit apart)."""
    status, out, _ = run("trace", "sqrt(3 * sin(x))", "--at", "x=2")
    assert status == 0
    row = next(line.split()[1:] for line in out.splitlines() if line.startswith("∂f/∂x"))
    assert row == ["-0.37794120918696", "-0.37794120918696"]
    assert "agree to rounding" in out and "--json has every digit" in out
    _, out, _ = run("trace", "sqrt(3 * sin(x))", "--at", "x=2", "--json")
    report = json.loads(out)
    assert report["forward"]["x"] != report["backward"]["x"]  # JSON keeps every digit
    _, out, _ = run("trace", H, "--at", "x=3", "y=5")
    assert "rounding" not in out  # equal answers need no note


def test_answers_beyond_rounding_are_shown_apart_with_a_note():
    from pathad.cli import _difference_note, _shown_row

    assert _shown_row([1.0000000001, 1.0]) == ["1.0000000001", "1"]
    note = _difference_note("∂f/∂x", ["forward", "backward"], [1.0000000001, 1.0])
    assert note and "differ beyond rounding" in note[0] and "1.0000000001" in note[0]
    # straddling a rounding boundary at 15 digits: fewer digits, so that they still look alike
    a = 0.1234567890123455
    b = math.nextafter(a, 0.0)
    assert len(set(_shown_row([a, b]))) == 1


def test_train_help_names_the_networks_that_are_built():
    status, out, _ = run("train", "--help")
    text = " ".join(out.split())
    assert status == 0 and "sigmoid network" not in text
    for name, setup in nn.SETUPS.items():
        assert f"{name} ({'-'.join(map(str, setup.sizes))}, {setup.activation} hidden units" in text
    assert "iris (4-8-3, tanh hidden units, softmax)" in text


def test_explain_limit_names_the_command_line_flag():
    logistic = "x"
    for _ in range(3):
        logistic = f"4*({logistic})*(1-({logistic}))"
    err = one_line_error(["explain", logistic, "--at", "x=0.3", "--limit", "3"], "more than --limit 3")
    assert "limit=" not in err and "--limit 8" in err


def test_a_curve_without_matplotlib_is_refused_before_training(monkeypatch):
    trained = []
    monkeypatch.setattr(nn, "fit_dataset", lambda *a, **k: trained.append(1))
    for module in ("matplotlib", "matplotlib.backend_bases", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, module, None)  # import matplotlib raises ImportError
    one_line_error(["train", "--dataset", "xor", "--epochs", "3", "--curve", "c.png"], "needs matplotlib")
    assert trained == []


def test_a_curve_in_an_unknown_format_is_refused_before_training(monkeypatch):
    trained = []
    monkeypatch.setattr(nn, "fit_dataset", lambda *a, **k: trained.append(1))
    one_line_error(["train", "--dataset", "xor", "--epochs", "3", "--curve", "c.xyz"], "cannot write .xyz")
    assert trained == []


@pytest.mark.parametrize("rate", ["1e6", "1e300", "1e308"])
def test_a_huge_learning_rate_is_a_divergence(rate):
    err = one_line_error(["train", "--dataset", "iris", "--epochs", "2", "--learning-rate", rate], "diverged")
    assert "too large" in err


def test_an_overflowing_learning_rate_is_not_called_non_positive():
    argv = ["train", "--dataset", "xor", "--epochs", "3", "--learning-rate", "1e400"]
    one_line_error(argv, "must be a finite number")


def test_absurd_epochs_are_refused_with_the_estimated_time():
    err = one_line_error(["train", "--dataset", "xor", "--epochs", str(10**12), "--no-progress"], "would take about")
    assert "years" in err and "epochs" in err


def test_version(capsys):
    from importlib.metadata import version

    status, out, _ = run("--version")
    assert status == 0 and out == f"pathad {version('pathad')}\n"


def test_python_dash_m_pathad_is_the_pathad_command(tmp_path):
    for argv in (["--version"], ["tour"], ["trace", "x*y", "--at", "x=3", "y=5"]):
        result = subprocess.run(
            [sys.executable, "-m", "pathad", *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout == run(*argv)[1]


def test_a_long_flat_sum_is_traced_not_refused():
    status, out, err = run("trace", "+".join(["x"] * 3000), "--at", "x=1")
    assert (status, err) == (0, "")
    assert "value: 3000" in out and re.search(r"^∂f/∂x\s+3000\s+3000$", out, re.M)


class TestSecondDerivatives:
    ROSENBROCK = "(1 - x)**2 + 100*(y - x*x)**2"

    def test_the_hessian_and_the_newton_step(self):
        status, out, _ = run("trace", self.ROSENBROCK, "--at", "x=-1.2,y=1", "--hessian")
        assert status == 0
        # by hand: f_xx = 2 - 400y + 1200x² = 1330, f_xy = -400x = 480, f_yy = 200
        assert "Hessian of f (2 Hessian-vector products, dense):" in out
        assert out.splitlines()[-3:-1] == ["x  1330   480", "y   480   200"]
        assert "Newton step -H⁻¹∇f: x 0.0247191011235956, y 0.380674157303371" in out

    def test_newtons_method_reaches_the_minimum_in_seven_steps(self):
        status, out, _ = run("trace", self.ROSENBROCK, "--at", "x=-1.2,y=1", "--newton", "30", "--json")
        assert status == 0
        newton = json.loads(out)["newton"]
        last = newton["iterations"][-1]
        assert (len(newton["iterations"]), last["point"], last["value"]) == (8, {"x": 1.0, "y": 1.0}, 0.0)
        assert newton["stopped"].startswith("converged")

    def test_a_singular_hessian_is_said(self):
        status, out, _ = run("trace", "x + y", "--at", "x=1,y=2", "--hessian", "--newton", "3")
        assert status == 0 and "the Hessian is singular: no Newton step" in out
        assert "stopped: the Hessian is singular at step 0" in out

    def test_newton_needs_a_positive_count(self):
        one_line_error(["trace", "x*x", "--at", "x=1", "--newton", "0"], "--newton")


# --- pathad trace --source: the sweep's program as Python (issue 16, item 2) ---------------------------------------


def _program_of(text, name):
    """The function ``name`` of a printed program, compiled as it is printed."""
    namespace = {}
    exec(compile(text, "<printed program>", "exec"), namespace)
    return namespace[name]


def test_source_backward_prints_the_adjoint_program_of_h():
    status, out, err = run("trace", H, "--at", "x=3,y=5", "--source", "backward")
    assert status == 0 and err == ""
    assert "def f_adjoint(x, y):" in out and "    d_y += d_t2 * 4.0  # ∂t2/∂y = 4.0" in out
    assert _program_of(out, "f_adjoint")(3.0, 5.0) == (920.0, (155.0, 459.0))


def test_source_forward_prints_one_tangent_program_per_input():
    status, out, _ = run("trace", "sin(x) * exp(y)", "--at", "x=1", "y=2", "--source", "forward")
    assert status == 0 and out.count("def f_tangent(x, y):") == 2
    assert "∂/∂x, node by node" in out and "∂/∂y, node by node" in out
    status, out, _ = run("trace", "sin(x) * exp(y)", "--at", "x=1", "y=2", "--source", "forward", "--wrt", "y",
                         "--name", "g")  # fmt: skip
    value, (derivative,) = _program_of(out, "g_tangent")(1.0, 2.0)
    assert status == 0 and derivative == pytest.approx(math.sin(1.0) * math.exp(2.0), rel=1e-15)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--source", "sideways"], "invalid choice: 'sideways'"),
        (["--source", "backward", "--json"], "--source prints the program alone; leave out --json"),
        (["--source", "forward", "--mode", "forward"], "leave out --mode"),
        (["--source", "forward", "--wrt", "z"], "--wrt z: not a variable"),
        (["--source", "backward", "--semiring", "counting", "--hessian"], "leave out --hessian and --semiring"),
    ],
)
def test_source_errors_are_one_line(extra, fragment):
    one_line_error(["trace", H, "--at", "x=3,y=5", *extra], fragment)


def test_source_of_a_formula_outside_its_domain_is_a_one_line_error():
    one_line_error(["trace", "log(x)", "--at", "x=-1", "--source", "backward"], "log")
