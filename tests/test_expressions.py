"""pathad.expressions: formulas as text, checked against a whitelist and run on the primitive table."""

import ast
import cmath
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathad
from pathad.expressions import MAX_LENGTH, ExpressionError, parse, parse_number, parse_point

ROOT = Path(__file__).resolve().parent.parent


# --- a random formula, as text and as an independent complex-valued oracle ----------------------

LEAVES = ("x", "y", "z", "0.5", "2", "3.25", "pi")
UNARY = {  # text template -> the oracle on complex numbers (every one analytic and inside its domain)
    "-({})": lambda a: -a,
    "sin({})": cmath.sin,
    "cos({})": cmath.cos,
    "tanh({})": cmath.tanh,
    "sigmoid({})": lambda a: 1 / (1 + cmath.exp(-a)),
    "exp(sin({}))": lambda a: cmath.exp(cmath.sin(a)),
    "sqrt(1 + ({})**2)": lambda a: cmath.sqrt(1 + a * a),
    "ln(1 + ({}) ** 2)": lambda a: cmath.log(1 + a * a),
    "pow({}, 3)": lambda a: a**3,
}
BINARY = {
    "({}) + ({})": lambda a, b: a + b,
    "({}) - ({})": lambda a, b: a - b,
    "({}) * ({})": lambda a, b: a * b,
    "({}) / (2 + sin({}))": lambda a, b: a / (2 + cmath.sin(b)),
}


def formulas():
    """(text, oracle) pairs: oracle(values) evaluates the formula with cmath."""
    leaves = st.sampled_from(LEAVES).map(lambda leaf: (leaf, _leaf_oracle(leaf)))

    def extend(children):
        unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(_unary)
        binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(_binary)
        return unary | binary

    return st.recursive(leaves, extend, max_leaves=8)


def _leaf_oracle(leaf):
    if leaf in ("x", "y", "z"):
        return lambda values: values[leaf]
    number = math.pi if leaf == "pi" else float(leaf)
    return lambda values: complex(number)


def _unary(parts):
    template, (text, oracle) = parts
    rule = UNARY[template]
    return template.format(text), lambda values: rule(oracle(values))


def _binary(parts):
    template, (left, f), (right, g) = parts
    rule = BINARY[template]
    return template.format(left, right), lambda values: rule(f(values), g(values))


POINT = {"x": 0.7, "y": -1.3, "z": 2.1}


class TestParse:
    def test_the_running_example(self):
        h = parse("(x + 4*y) * ((x + y) * y)")
        assert h.variables == ("x", "y")
        tr = h.trace({"x": 3, "y": 5}, name="h")
        assert (tr.value, pathad.gradient(tr)) == (920.0, {"x": 155.0, "y": 459.0})

    def test_the_graph_is_the_one_python_code_would_record(self):
        def h(x, y):
            return (x + 4 * y) * ((x + y) * y)

        parsed = parse("(x + 4*y) * ((x + y) * y)").trace({"x": 3, "y": 5}, name="h")
        traced = pathad.trace(h, x=3.0, y=5.0)
        assert list(parsed.graph.nodes(data=True)) == list(traced.graph.nodes(data=True))
        assert list(parsed.graph.edges(keys=True, data=True)) == list(traced.graph.edges(keys=True, data=True))

    def test_steps_are_the_evaluation_order(self):
        assert parse("sin(x) * -y").steps == (
            ("variable", "x"),
            ("apply", "sin"),
            ("variable", "y"),
            ("apply", "neg"),
            ("apply", "mul"),
        )

    def test_variables_in_order_of_first_appearance(self):
        assert parse("b * a + b * c").variables == ("b", "a", "c")

    def test_constants_and_aliases(self):
        assert parse("pi").evaluate({}) == math.pi
        assert parse("e ** 2").evaluate({}) == math.e**2
        assert parse("ln(x)").steps == parse("log(x)").steps
        assert parse("+x").steps == (("variable", "x"),)

    def test_each_function_applies_its_primitive(self):
        for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"):
            tr = parse(f"{name}(x)").trace({"x": 0.5})
            assert tr.graph.nodes[tr.output]["op"] == name
        assert parse("pow(x, 2)").trace({"x": 3.0}).value == 9.0

    def test_constants_are_not_nodes(self):
        tr = parse("4*y").trace({"y": 5})
        assert tr.graph.number_of_nodes() == 2 and tr.graph.nodes[1]["consts"] == ((0, 4.0),)

    def test_leading_blanks_and_lines_inside_parentheses(self):
        assert parse("   x + 1").evaluate({"x": 1.0}) == 2.0
        assert parse("(x\n + 1)").evaluate({"x": 1.0}) == 2.0

    def test_a_long_flat_sum_is_fine(self):
        text = " + ".join(["x"] * 1000)
        assert parse(text).trace({"x": 1.0}).value == 1000.0

    @settings(max_examples=150, deadline=None)
    @given(formulas())
    def test_value_and_gradient_against_a_complex_step_oracle(self, formula):
        text, oracle = formula
        expression = parse(text)
        at = {name: POINT[name] for name in expression.variables}
        assert math.isclose(expression.evaluate(at), oracle(at).real, rel_tol=1e-12, abs_tol=1e-12)
        if not at:
            return
        grad = pathad.gradient(expression.trace(at))
        for name in at:
            shifted = dict(at, **{name: complex(at[name], 1e-30)})
            assert math.isclose(grad[name], oracle(shifted).imag / 1e-30, rel_tol=1e-9, abs_tol=1e-12), name


ERRORS = [
    ("x +", "syntax error at column 4"),
    ("x y", "syntax error at column 3"),
    ("é + (", "syntax error at column 5: '(' was never closed"),
    ("  sin(x", "syntax error at column 6"),
    ("(x\n+ y.z)", "attribute access (.z) is not allowed, at line 2, column 4"),
    ("x.real", "attribute access (.real) is not allowed, at column 2"),
    ("x.__class__.__bases__", "attribute access (.__bases__) is not allowed"),
    ("foo(x)", "unknown function 'foo' at column 1"),
    ("x + eval('1')", "unknown function 'eval' at column 5"),
    ("__import__('os').system('ls')", "only the functions"),
    ("(lambda: 1)()", "only the functions"),
    ("sin.x", "attribute access (.x)"),
    ("sin", "sin is a function: call it"),
    ("__builtins__", "unknown name '__builtins__' at column 1"),
    ("_x + 1", "unknown name '_x'"),
    ("sin(x, y)", "sin takes one argument, got 2"),
    ("pow(x)", "pow takes 2 arguments, got 1"),
    ("sin(x=1)", "sin takes no keyword arguments, at column 7"),
    ("sin(*x)", "starred arguments are not allowed, at column 5"),
    ("2^x", "the operator ^ (write powers as x**2) is not allowed, at column 2"),
    ("x & 2", "the operator & is not allowed, at column 3"),
    ("x << 2", "the operator << is not allowed"),
    ("~x", "the operator ~ is not allowed"),
    ("x < 1", "comparisons are not allowed"),
    ("x and y", "and/or are not allowed"),
    ("x if y else 1", "conditional expressions"),
    ("x[0]", "indexing"),
    ("[x]", "lists are not allowed"),
    ("f'{x}'", "f-strings are not allowed"),
    ("(y := 2)", "assignments (:=) are not allowed"),
    ("[i for i in x]", "comprehensions are not allowed"),
    ("'text'", "text in quotes is not a number"),
    ("3j", "3j is not a number"),
    ("True + x", "True is not a number"),
    ("1e999", "the number 1e999 is too large"),
    ("9" * 400, "is too large"),
    ("", "the expression is empty"),
    ("   ", "the expression is empty"),
    ("x\0", "NUL character, at column 2"),
    ("(" * 300 + "x", "syntax error"),
    ("-" * 20000 + "x", f"at most {MAX_LENGTH:,}"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_refused_with_a_message_saying_where(text, message):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("error", [RecursionError, MemoryError])
def test_when_pythons_parser_gives_up(monkeypatch, error):
    def give_up(*args, **kwargs):
        raise error

    monkeypatch.setattr(ast, "parse", give_up)
    assert parse("x + x").steps == (("variable", "x"), ("variable", "x"), ("apply", "add"))  # no syntax tree needed
    with pytest.raises(ExpressionError) as info:  # the token reader says where it stopped
        parse("x + x < 1")
    monkeypatch.undo()
    assert str(info.value).startswith("'<' is not allowed at column 7")


def test_expression_error_is_a_pathad_error_and_a_value_error():
    with pytest.raises(pathad.PathadError):
        parse("x.y")
    with pytest.raises(ValueError):
        parse("x.y")


class TestEvaluate:
    def test_missing_variable(self):
        with pytest.raises(ExpressionError, match="no value for y"):
            parse("x * y").evaluate({"x": 1.0})

    def test_domain_errors_name_the_operation(self):
        with pytest.raises(pathad.DomainError, match="log"):
            parse("log(x)").trace({"x": -2.0})
        with pytest.raises(pathad.DomainError, match="div"):
            parse("1 / (x - 3)").trace({"x": 3.0})
        with pytest.raises(pathad.DomainError, match="div"):
            parse("1/0").evaluate({})

    def test_floats_in_floats_out(self):
        assert parse("sqrt(3 * sin(x))").evaluate({"x": 2.0}) == 1.6516332160855343

    def test_trace_refuses_a_formula_without_variables(self):
        with pytest.raises(ExpressionError, match="no variables"):
            parse("2 + 3").trace({})
        with pytest.raises(ExpressionError, match="no value for x"):
            parse("x + 3").trace({})

    def test_extra_inputs_have_derivative_zero(self):
        tr = parse("2 * x").trace({"x": 1.0, "y": 7.0})
        assert pathad.gradient(tr) == {"x": 2.0, "y": 0.0}

    def test_function_has_the_variables_as_keyword_parameters(self):
        f = parse("x * y").function("g", ["y", "x", "z"])
        assert f.__name__ == "g" and f(x=2.0, y=3.0, z=0.0) == 6.0
        with pytest.raises(ExpressionError, match="no value for x"):
            parse("x * y").function("g", ["y"])


class TestParsePoint:
    def test_items_and_commas(self):
        assert parse_point(["x=3", "y=5"]) == {"x": 3.0, "y": 5.0}
        assert parse_point(["x1=2,x2=5", " z = -1.5 "]) == {"x1": 2.0, "x2": 5.0, "z": -1.5}

    def test_values_are_constant_expressions(self):
        assert parse_point(["x=pi/2", "y=2**-3"]) == {"x": math.pi / 2, "y": 0.125}
        assert parse_number("-(1e-3)") == -0.001

    @pytest.mark.parametrize(
        ("items", "message"),
        [
            (["x"], "name=value items such as x=3, got 'x'"),
            (["=3"], "got '=3'"),
            (["x="], "got 'x='"),
            (["x=1,"], "--at x=1,: tuples are not allowed"),
            (["x=1,,y=2"], "tuples are not allowed"),
            (["1x=2"], "'1x' in --at is not a variable name"),
            (["_x=2"], "'_x' in --at is not a variable name"),
            (["x=1", "x=2"], "x is given twice"),
            (["sin=1"], "sin is a function"),
            (["pi=3"], "pi is a constant"),
            (["x=abc"], "--at x=abc: 'abc' is not a number"),
            (["x=inf"], "'inf' is not a number"),
            (["x=nan"], "'nan' is not a number"),
            (["x=1e999"], "too large"),
            (["x=1/0"], "--at x=1/0: div"),
            (["x=log(-1)"], "log"),
            (["x=(1"], "syntax error"),
            (["x=__import__('os')"], "unknown function '__import__'"),
        ],
    )
    def test_malformed(self, items, message):
        with pytest.raises(ExpressionError) as info:
            parse_point(items)
        assert message in str(info.value)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="xy0123456789.+-*/()% ^,=_:[]'\"abcdefgilnoprstqwz\n\\@!<>&|~;λé\t", max_size=40))
def test_any_text_parses_or_is_refused_with_an_expression_error(text):
    try:
        expression = parse(text)
    except ExpressionError as exc:
        assert "\n" not in str(exc)
        return
    try:
        expression.evaluate({name: 0.5 for name in expression.variables})
    except pathad.DomainError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_unicode_text_parses_or_is_refused(text):
    try:
        parse(text)
    except ExpressionError:
        pass


def test_the_text_is_never_run_as_python():
    """No eval, exec or compile in the modules that read user text."""
    for module in ("expressions.py", "cli.py"):
        tree = ast.parse((ROOT / "pathad" / module).read_text())
        calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
        called = {func.id for func in calls if isinstance(func, ast.Name)}
        assert not called & {"eval", "exec", "compile", "__import__"}, module


# --- issue 17: long flat formulas are read without recursion ------------------------------------------


@pytest.mark.parametrize("operator", ["+", "-", "*", "/", "**"])
def test_a_long_flat_formula_is_accepted(operator):
    """ast.parse gives up on 3,000 terms ("nests too deeply"); the formula is flat, and is read."""
    text = operator.join(["x"] * 3000)
    expression = parse(text)
    assert expression.variables == ("x",)
    primitive = pathad.expressions.OPERATORS[type(ast.parse(f"x {operator} x", mode="eval").body.op)]
    assert expression.steps.count(("variable", "x")) == 3000
    assert expression.steps.count(("apply", primitive)) == 2999 and expression.steps[-1] == ("apply", primitive)


def test_a_long_flat_sum_traces_to_its_value_and_gradient():
    tr = parse("+".join(["x"] * 3000)).trace({"x": 1.0})
    assert tr.value == 3000.0 and pathad.gradient(tr) == {"x": 3000.0}


def test_an_error_in_a_long_formula_says_where_not_too_deep():
    text = "+".join(["x"] * 3000) + " < 1"
    with pytest.raises(ExpressionError, match=r"'<' is not allowed at column 6001"):
        parse(text)
    with pytest.raises(ExpressionError, match=r"syntax error"):
        parse("+".join(["x"] * 3000) + "+")


def test_the_text_is_never_run(monkeypatch):
    import builtins

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, lambda *a, **k: pytest.fail("ran the text"))
    value = parse("+".join(["x"] * 3000)).evaluate({"x": 2.0})
    monkeypatch.undo()
    assert value == 6000.0


def syntax_tree_steps(text):
    """The steps by Python's syntax tree (the checks' path), for texts Python's parser can take."""
    from pathad.expressions import _Columns, _compile, _syntax_tree

    tree, indent = _syntax_tree(text)
    return _compile(tree, _Columns(text, indent))


TEXTS = st.text(alphabet="xy0123.e+-*/%()", min_size=1, max_size=25) | formulas().map(lambda f: f[0])


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_the_token_reader_agrees_with_the_syntax_tree(text):
    from pathad.expressions import _read_tokens

    read = _read_tokens(text.lstrip(), len(text) - len(text.lstrip()))
    try:
        expected = syntax_tree_steps(text)
    except ExpressionError:
        assert not isinstance(read, tuple), (text, read)  # what the checks refuse, the reader does not take
        return
    assert read == expected, text  # and what they take, both read alike


def test_a_number_run_into_a_keyword_is_one_error_and_no_python_warning():
    """Python's parser warns "invalid decimal literal" for 1or 2 (and parses it): pathad says one thing only."""
    import warnings

    for text in ("1or 2", "2and 3", "1if x else 2"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # ("error" would turn the warning into the SyntaxError it explains)
            with pytest.raises(ExpressionError):
                parse(text)
        assert not caught, (text, [str(w.message) for w in caught])
