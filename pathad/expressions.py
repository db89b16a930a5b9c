"""Formulas typed as text, such as ``"(x + 4*y) * ((x + y) * y)"``, turned safely into pathad functions.

The ``pathad`` command reads expressions from the command line.  They are parsed
with :mod:`ast` and checked against a whitelist: numbers, the variables, the
constants ``pi`` and ``e``, the operators ``+ - * / ** % //`` (and unary ``-``, ``+``)
and calls of the functions in :data:`FUNCTIONS`, each a primitive of
:data:`pathad.primitives.PRIMITIVES`.  Nothing else is accepted, and the text is
never given to ``eval``, ``exec`` or ``compile``.

A checked expression is kept as a flat list of steps in evaluation order (a
*Wengert list*): push a number, push a variable, apply a primitive to the top
operands.  Running the steps on traced numbers records the computation graph,
one node per applied primitive, exactly as running the same formula written as
Python code would.

Every problem raises :class:`ExpressionError` with a one-line message that says
what is wrong and where (the column, counted from 1).

Examples
--------
>>> from pathad.derivatives import gradient
>>> h = parse("(x + 4*y) * ((x + y) * y)")
>>> h.variables
('x', 'y')
>>> tr = h.trace({"x": 3, "y": 5}, name="h")
>>> tr.value, gradient(tr)
(920.0, {'x': 155.0, 'y': 459.0})
>>> parse("x.real")
Traceback (most recent call last):
...
pathad.errors.ExpressionError: attribute access (.real) is not allowed, at column 2
"""

import ast
import inspect
import io
import keyword
import math
import re
import tokenize
import unicodedata
import warnings
from dataclasses import dataclass

from .errors import ExpressionError, PathadError
from .primitives import BY_NAME, PRIMITIVES
from .tracing import apply as trace_apply
from .tracing import trace

__all__ = [
    "Expression",
    "parse",
    "parse_number",
    "parse_point",
    "FUNCTIONS",
    "CONSTANTS",
    "OPERATORS",
    "MAX_LENGTH",
]

#: Function names an expression may call -> the primitive each one applies (every function primitive
#: under its name and its aliases, from the primitive table).
FUNCTIONS = {alias: p.name for alias, p in BY_NAME.items()}

#: Named constants.
CONSTANTS = {"pi": math.pi, "e": math.e}

#: Python's operator nodes -> the primitive each one applies.
OPERATORS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.Pow: "pow",
    ast.Mod: "mod",
    ast.FloorDiv: "floor_divide",
    ast.USub: "neg",
}

#: The longest expression accepted, in characters.
MAX_LENGTH = 10_000

_ALLOWED = "numbers, variables, pi, e, + - * / ** % // and calls of " + ", ".join(FUNCTIONS)

_SPELLED = {  # operators Python has and pathad expressions do not, and how to say what was meant
    ast.BitXor: "^ (write powers as x**2)",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.Not: "not",
}

_DESCRIBED = {  # other syntax, by the node type Python parses it into
    ast.Compare: "comparisons are",
    ast.BoolOp: "and/or are",
    ast.IfExp: "conditional expressions (a if c else b) are",
    ast.Lambda: "lambda is",
    ast.Subscript: "indexing (x[...]) is",
    ast.Tuple: "tuples are",
    ast.List: "lists are",
    ast.Dict: "dicts are",
    ast.Set: "sets are",
    ast.JoinedStr: "f-strings are",
    ast.NamedExpr: "assignments (:=) are",
    ast.Starred: "starred arguments are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Slice: "slices are",
}


@dataclass(frozen=True)
class Expression:
    """A checked formula: its text, its variables and its steps in evaluation order.

    Attributes
    ----------
    text : str
        The formula as typed.
    variables : tuple of str
        The variable names, in order of first appearance.
    steps : tuple
        ``("number", value)``, ``("variable", name)`` or ``("apply", primitive name)``:
        a stack program, each ``apply`` taking its operands off the top.

    Examples
    --------
    >>> parse("4*y + x").steps
    (('number', 4.0), ('variable', 'y'), ('apply', 'mul'), ('variable', 'x'), ('apply', 'add'))
    """

    text: str
    variables: tuple
    steps: tuple

    def evaluate(self, values, *, apply=trace_apply):
        """Run the steps with ``values`` (name -> number) for the variables.

        Parameters
        ----------
        values : mapping
            A value for every variable: floats, traced numbers, or whatever
            ``apply`` understands.
        apply : callable
            ``apply(primitive, *operands)``; by default :func:`pathad.tracing.apply`,
            which records traced operands and computes plain floats.
            :func:`pathad.dual.apply` evaluates on dual numbers.

        Raises
        ------
        ExpressionError
            If a variable has no value.
        pathad.DomainError
            If an operation is outside its domain (log of a negative, division by zero).

        Examples
        --------
        >>> parse("sqrt(3 * sin(x))").evaluate({"x": 2.0})
        1.6516332160855343
        """
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise ExpressionError(f"no value for {_names(missing)} (the expression uses {_names(self.variables)})")
        stack = []
        for kind, item in self.steps:
            if kind == "number":
                stack.append(item)
            elif kind == "variable":
                stack.append(values[item])
            else:
                primitive = PRIMITIVES[item]
                operands = stack[len(stack) - primitive.arity :]
                del stack[len(stack) - primitive.arity :]
                stack.append(apply(primitive, *operands))
        return stack[0]

    def function(self, name="f", variables=None):
        """A Python function of keyword arguments, one per variable, named ``name``.

        ``variables`` (default: the expression's own) sets the inputs and their
        order; it may name more variables than the expression uses.  The
        function can be given to :func:`pathad.trace`.

        Examples
        --------
        >>> f = parse("x * y").function("f")
        >>> f(x=2.0, y=3.0), str(inspect.signature(f))
        (6.0, '(*, x, y)')
        """
        names = _input_names(self, variables)

        def evaluate(**values):
            return self.evaluate(values)

        evaluate.__name__ = evaluate.__qualname__ = str(name)
        evaluate.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names]
        )
        return evaluate

    def trace(self, at, *, name="f"):
        """Trace the expression at the point ``at`` (name -> number); every name in ``at`` is an input.

        Examples
        --------
        >>> tr = parse("(x1 + x2) * ln(x1 + x2)").trace({"x1": 2, "x2": 5})
        >>> round(tr.value, 1), tr.name
        (13.6, 'f')
        """
        function = self.function(name, list(at))
        if not at:
            raise ExpressionError(f"{self.text!r} has no variables, so there is nothing to differentiate")
        return trace(function, **at)

    def __str__(self):
        return self.text


def parse(text):
    """Check ``text`` and turn it into an :class:`Expression`; every free name is a variable.

    Raises
    ------
    ExpressionError
        For a syntax error (with its column), a name starting with ``_``, a call
        of anything but a known function, attribute access, or any syntax
        beyond numbers, names, ``+ - * / **`` and function calls.

    Examples
    --------
    >>> parse("sigmoid(w*x + b)").variables
    ('w', 'x', 'b')
    >>> parse("2^x")
    Traceback (most recent call last):
    ...
    pathad.errors.ExpressionError: the operator ^ (write powers as x**2) is not allowed, at column 2
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression is text, got {type(text).__name__}")
    stripped = _checked_text(text)
    read = _read_tokens(stripped, len(text) - len(stripped))
    if isinstance(read, tuple):  # the whole formula is within the grammar: no syntax tree needed
        return Expression(text, *read)
    try:  # anything else: Python's parser and the checks below say what is wrong, and where
        tree, indent = _syntax_tree(text)
    except _TooDeep:  # a long formula with something wrong in it: say what the token reader found
        raise ExpressionError(read) from None
    return Expression(text, *_compile(tree, _Columns(text, indent)))


def parse_number(text):
    """The value of a constant expression (``"3"``, ``"-1.5"``, ``"pi/4"``, ``"2**-3"``), a finite float.

    Examples
    --------
    >>> parse_number("pi/4") == math.pi / 4, parse_number("-2")
    (True, -2.0)
    """
    expression = parse(text)
    if expression.variables:
        raise ExpressionError(f"{text.strip()!r} is not a number")
    return float(expression.evaluate({}))


def parse_point(items):
    """The point ``name=value ...`` of the command line's ``--at``, as {name: float}.

    Each item is ``name=value``, or several separated by commas (``x=3,y=5``).
    A value may be any constant expression (``x=pi/2``).

    Raises
    ------
    ExpressionError
        For an item without ``=``, a name that is not a variable name (or is
        a function or constant), a name given twice, or a value that is not a
        finite number.

    Examples
    --------
    >>> parse_point(["x=3", "y=5"])
    {'x': 3.0, 'y': 5.0}
    >>> parse_point(["x1=2,x2=pow(2, 3)"])
    {'x1': 2.0, 'x2': 8.0}
    """
    point = {}
    for item in items:
        for part in _ASSIGNMENTS.split(item):
            name, value = _assignment(part)
            if name in point:
                raise ExpressionError(f"{name} is given twice in --at")
            point[name] = value
    return point


_ASSIGNMENTS = re.compile(r",(?=\s*[^\W\d]\w*\s*=)")  # the commas before "name=", not those in pow(2, 3)


def _assignment(part):
    name, equals, value = part.partition("=")
    name = name.strip()
    if not equals or not name or not value.strip():
        raise ExpressionError(f"--at takes name=value items such as x=3, got {part!r}")
    if not name.isidentifier() or name.startswith("_"):
        raise ExpressionError(f"{name!r} in --at is not a variable name (letters, digits and _, not first)")
    if name in FUNCTIONS or name in CONSTANTS:
        kind = "function" if name in FUNCTIONS else "constant"
        raise ExpressionError(f"{name} is a {kind} of pathad expressions; give the variable another name")
    try:
        number = parse_number(value)
    except PathadError as exc:  # not a number, or a domain error such as 1/0
        raise ExpressionError(f"--at {name}={value.strip()}: {exc}") from None
    return name, number


# --- parsing --------------------------------------------------------------


def _checked_text(text):
    """``text`` without its leading blanks, refused if too long, empty or holding a NUL character."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression has {len(text):,} characters; at most {MAX_LENGTH:,} are accepted")
    stripped = text.lstrip()
    if not stripped:
        raise ExpressionError("the expression is empty")
    if "\0" in stripped:
        raise ExpressionError(f"the expression contains a NUL character, at column {text.index(chr(0)) + 1}")
    return stripped


class _TooDeep(ExpressionError):
    """Python's parser gave up (its syntax tree of a long formula nests one level per operation)."""


def _syntax_tree(text):
    """Python's parse of ``text`` as an expression, and the number of leading blanks cut off."""
    stripped = _checked_text(text)
    try:
        with warnings.catch_warnings():  # "1x" warns "invalid decimal literal" before it fails: the error says it
            warnings.simplefilter("ignore", SyntaxWarning)
            return ast.parse(stripped, mode="eval"), len(text) - len(stripped)
    except SyntaxError as exc:
        raise ExpressionError(_syntax_message(exc, stripped, len(text) - len(stripped))) from None
    except (RecursionError, MemoryError):
        raise _TooDeep("the expression nests too deeply for Python's parser") from None


# --- reading the tokens: the formulas of the grammar, however long, without recursion -----------------------------

_BINARY = {"+": (10, "add"), "-": (10, "sub"), "*": (20, "mul"), "/": (20, "div"), "%": (20, "mod")}
_BINARY.update({"//": (20, "floor_divide"), "**": (40, "pow")})  # ** binds tightest and groups to the right
_UNARY = 30  # -x and +x bind tighter than * and looser than **: -x**2 is -(x**2), 2**-x is 2**(-x)
_SKIPPED = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER})


def _read_tokens(stripped, indent):
    """(variables, steps) of a formula read token by token (operator precedence, by Dijkstra's shunting yard).

    Python's syntax tree of ``x + x + ... + x`` nests one level per ``+``, and its
    parser gives up after a few thousand; this reader keeps explicit stacks, so a
    flat sum of any length is read in one pass, and gives the same steps as the
    syntax tree would.  At anything outside the grammar (or a name, number or
    call the checks would refuse) it stops and returns a message saying where
    (a string): :func:`parse` then asks Python's parser, which says what is wrong.

    >>> _read_tokens("-x**2 + 3*y", 0)
    (('x', 'y'), (('variable', 'x'), ('number', 2.0), ('apply', 'pow'), ('apply', 'neg'), ('number', 3.0), \
('variable', 'y'), ('apply', 'mul'), ('apply', 'add')))
    >>> _read_tokens("x < 1", 0).split(";")[0]
    "'<' is not allowed at column 3"
    """
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(stripped).readline) if t.type not in _SKIPPED]
    except (tokenize.TokenError, SyntaxError) as exc:  # an unclosed bracket, a stray indent, ...
        return f"syntax error: {exc.args[0]}"
    while tokens and tokens[-1].type in (tokenize.NEWLINE, tokenize.DEDENT):
        tokens.pop()
    variables, steps = {}, []
    stack = []  # pending: [kind, precedence, primitive or None, token]; kind binary, unary, paren or call
    operand = True  # an operand comes next (else an operator, a closing bracket or a comma)
    skip = None  # the "(" of a call, read with its name
    for i, token in enumerate(tokens):
        if i == skip:
            continue
        kind, text = token.type, token.string
        if kind == tokenize.NAME:
            text = unicodedata.normalize("NFKC", text)  # as Python reads names
        following = tokens[i + 1].string if i + 1 < len(tokens) else None
        if operand and kind == tokenize.NUMBER and (number := _token_number(text)) is not None:
            steps.append(("number", number))
            operand = False
        elif operand and kind == tokenize.NAME and following == "(" and text in FUNCTIONS:
            stack.append(["call", 0, FUNCTIONS[text], token, 1])  # the last entry counts the arguments
            skip = i + 1
        elif operand and kind == tokenize.NAME and _is_variable(text) and following != "(":
            if text in CONSTANTS:
                steps.append(("number", CONSTANTS[text]))
            else:
                variables.setdefault(text, None)
                steps.append(("variable", text))
            operand = False
        elif operand and text == "(":
            stack.append(["paren", 0, None, token])
        elif operand and text in ("-", "+"):
            stack.append(["unary", _UNARY, "neg" if text == "-" else None, token])
        elif not operand and kind == tokenize.OP and text in _BINARY:
            precedence, name = _BINARY[text]
            while stack and stack[-1][0] in ("binary", "unary") and (
                stack[-1][1] > precedence or (stack[-1][1] == precedence and text != "**")
            ):
                _emit(stack.pop(), steps)
            stack.append(["binary", precedence, name, token])
            operand = True
        elif not operand and text in (")", ","):
            while stack and stack[-1][0] in ("binary", "unary"):
                _emit(stack.pop(), steps)
            if not stack or (text == "," and stack[-1][0] != "call"):
                return _unread(token, indent)
            if text == ",":
                stack[-1][4] += 1
                operand = True
                continue
            opened = stack.pop()
            if opened[0] == "call":
                if opened[4] != PRIMITIVES[opened[2]].arity:
                    return _unread(opened[3], indent)
                steps.append(("apply", opened[2]))
        else:
            return _unread(token, indent)
    while stack and stack[-1][0] in ("binary", "unary"):
        _emit(stack.pop(), steps)
    if operand:
        return "syntax error: the expression ends where an operand should follow"
    if stack:
        return _unread(stack[-1][3], indent)
    return tuple(variables), tuple(steps)


def _emit(operation, steps):
    if operation[2] is not None:  # unary plus applies nothing
        steps.append(("apply", operation[2]))


def _token_number(text):
    """The value of a NUMBER token as a finite float; None for 3j, 1e999 and the like (the checks say why)."""
    low = text.lower()
    try:
        if low.startswith(("0x", "0o", "0b")):
            value = float(int(text, 0))
        elif "j" in low:
            return None
        elif "." in low or "e" in low:
            value = float(text)
        else:
            value = float(int(text))
    except (ValueError, OverflowError):  # too many digits, or past the largest float
        return None
    return value if math.isfinite(value) else None


def _is_variable(name):
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_") and name not in FUNCTIONS


def _unread(token, indent, end=False):
    """Where the token reader stopped, in words."""
    if end or token.type == tokenize.NEWLINE:
        return "syntax error: the expression ends where an operand should follow"
    line, column = token.start
    where = f"at line {line}, column {column + 1}" if line > 1 else f"at column {column + 1 + indent}"
    if token.string in ("(",):
        return f"syntax error {where}: '(' is never closed"
    return f"{_shorten(token.string)!r} is not allowed {where}; an expression may use {_ALLOWED}"


def _syntax_message(exc, stripped, indent):
    reason = exc.msg.replace(" (<unknown>, line 1)", "")
    lines = stripped.split("\n")
    line = min(max(exc.lineno or 1, 1), len(lines))
    offset = exc.offset if exc.offset and 0 < exc.offset <= len(lines[line - 1]) + 1 else len(lines[line - 1]) + 1
    where = f"line {line}, column {offset}" if len(lines) > 1 else f"column {offset + indent}"
    return f"syntax error at {where}: {reason}"


class _Columns:
    """Turns an ast node's position (a UTF-8 byte offset in the stripped text) into a column of the text."""

    def __init__(self, text, indent):
        self.lines = text[indent:].split("\n")
        self.indent = indent

    def __call__(self, node):
        return self._at(node.lineno, node.col_offset)

    def source(self, node):
        """The text of ``node`` as typed."""
        return ast.get_source_segment("\n".join(self.lines), node) or "?"

    def after(self, node):
        """The position just after ``node`` (where ``.attr`` of ``node.attr`` starts)."""
        return self._at(node.end_lineno, node.end_col_offset)

    def operator(self, node):
        """Where a binary operator is: the first character after its left operand that is not blank or ``)``."""
        if node.left.end_lineno != node.right.lineno:
            return self(node)
        line = self.lines[node.left.end_lineno - 1].encode("utf-8")
        offset = node.left.end_col_offset
        while offset < node.right.col_offset and line[offset : offset + 1] in (b" ", b"\t", b")"):
            offset += 1
        return self._at(node.left.end_lineno, offset)

    def _at(self, lineno, byte_offset):
        line = self.lines[lineno - 1] if lineno <= len(self.lines) else ""
        column = len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")) + 1
        if len(self.lines) > 1:
            return f"at line {lineno}, column {column}"
        return f"at column {column + self.indent}"


def _compile(tree, where):
    """(variables, steps) of a checked syntax tree: an iterative post-order walk."""
    variables, steps = {}, []
    stack = [(tree.body, False)]
    while stack:
        node, operands_done = stack.pop()
        if operands_done:
            steps.append(("apply", _primitive(node)))
            continue
        kind, payload = _check(node, where)
        if kind == "number":
            steps.append(("number", payload))
        elif kind == "variable":
            variables.setdefault(payload, None)
            steps.append(("variable", payload))
        elif kind == "same":  # unary plus: the operand itself
            stack.append((payload, False))
        else:  # an operation: its operands first, left to right, then the operation itself
            stack.append((node, True))
            stack.extend((operand, False) for operand in reversed(payload))
    return tuple(variables), tuple(steps)


def _primitive(node):
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id]
    return OPERATORS[type(node.op)]


def _check(node, where):
    """What an allowed node is: ("number", value), ("variable", name), ("same", operand) or
    ("operation", operands); raise for anything else."""
    if isinstance(node, ast.Constant):
        return "number", _number(node, where)
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return "number", CONSTANTS[node.id]
    if isinstance(node, ast.Name):
        return "variable", _variable(node, where)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return "same", node.operand
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        _operator(node, where)
        return "operation", (node.left, node.right) if isinstance(node, ast.BinOp) else (node.operand,)
    if isinstance(node, ast.Call):
        return "operation", _call(node, where)
    raise ExpressionError(_not_allowed(node, where))


def _number(node, where):
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        shown = repr(value) if not isinstance(value, str) else "text in quotes"
        raise ExpressionError(f"{shown} is not a number, {where(node)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ExpressionError(f"the number {_shorten(where.source(node))} is too large, {where(node)}")
    return number


def _variable(node, where):
    name = node.id
    if name in FUNCTIONS:
        raise ExpressionError(f"{name} is a function: call it, as in {name}(x), {where(node)}")
    if name.startswith("_"):
        raise ExpressionError(f"unknown name {name!r} {where(node)}: names may not start with _")
    return name


def _operator(node, where):
    if type(node.op) not in OPERATORS:
        spelled = _SPELLED.get(type(node.op), type(node.op).__name__)
        place = where.operator(node) if isinstance(node, ast.BinOp) else where(node)
        raise ExpressionError(f"the operator {spelled} is not allowed, {place}")


def _call(node, where):
    func = node.func
    if not isinstance(func, ast.Name):
        raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} may be called, {where(node)}")
    if func.id not in FUNCTIONS:
        known = ", ".join(FUNCTIONS)
        raise ExpressionError(f"unknown function {_shorten(func.id)!r} {where(node)}; the functions are {known}")
    if node.keywords:
        raise ExpressionError(f"{func.id} takes no keyword arguments, {where(node.keywords[0].value)}")
    arity = PRIMITIVES[FUNCTIONS[func.id]].arity
    if len(node.args) != arity:
        wanted = "one argument" if arity == 1 else f"{arity} arguments"
        raise ExpressionError(f"{func.id} takes {wanted}, got {len(node.args)}, {where(node)}")
    return tuple(node.args)


def _not_allowed(node, where):
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{_shorten(node.attr)}) is not allowed, {where.after(node.value)}"
    what = _DESCRIBED.get(type(node), f"{type(node).__name__} is")
    return f"{what} not allowed, {where(node)}; an expression may use {_ALLOWED}"


def _shorten(text, width=30):
    return text if len(text) <= width else text[: width - 3] + "..."


def _names(names):
    return ", ".join(names)


def _input_names(expression, variables):
    if variables is None:
        return list(expression.variables)
    names = list(variables)
    missing = [n for n in expression.variables if n not in names]
    if missing:
        raise ExpressionError(f"no value for {_names(missing)}: the variables given are {_names(names)}")
    return names
