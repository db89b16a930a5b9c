"""Statement doubling on a function's own source: ``forward_source(f, wrt="x")``.

The lecture's forward-mode transformation (CS701 notes, §2, Examples 2.1-2.2)
rewrites a program G into a program G′ that computes G's derivative: every
float variable ``v`` gets a companion ``v′`` (here ``d_v``), every statement
``v = exp`` is preceded by ``v′ = exp′``, and ``return v`` becomes
``return v′``.  :func:`forward_source` does that to a Python function's own
source, read with :mod:`ast`, and returns readable source text and the function
compiled from it.

The derivative of each operator and call comes from the primitive table
(:data:`pathad.primitives.PRIMITIVES`): its partial rules, read back as
expressions (:func:`pathad.compiled.kernel_source.formula`), with the operand
expressions put in for ``a``, ``b``, the call itself for the result ``r`` and
the table's float namespace :data:`pathad.primitives.FLOAT` (imported as ``m``)
for ``m``; the chain rule sums ∂op/∂a · da + ∂op/∂b · db over the operands that
depend on ``wrt``, written as a person would (no ``1 *``, no zero terms,
``d_a * b + a * d_b`` for a product).

Examples
--------
>>> from pathad import sin
>>> def prod(x, k):
...     ans = 1.0
...     for i in range(1, k + 1):
...         ans = ans * sin(x)
...     return ans
>>> d = forward_source(prod, wrt="x")
>>> print(d.source)  # doctest: +NORMALIZE_WHITESPACE
from pathad.primitives import FLOAT as m
<BLANKLINE>
<BLANKLINE>
def d_prod(x, k, d_x=1.0):
    \"""The derivative of prod along d_x (by default d prod/dx), by statement doubling.\"""
    d_ans = 0.0
    ans = 1.0
    for i in range(1, k + 1):
        d_ans = d_ans * sin(x) + ans * (m.cos(x) * d_x)
        ans = ans * sin(x)
    return d_ans
>>> import math
>>> math.isclose(d(0.5, 3), 3 * math.sin(0.5) ** 2 * math.cos(0.5))
True
"""

import ast
import builtins
import copy
import inspect
import itertools
import linecache
import math
import textwrap
import types

import numpy as np

from .compiled.kernel_source import formula
from .errors import ExpressionError
from .expressions import OPERATORS
from .primitives import BY_NAME, FLOAT, PRIMITIVES

__all__ = ["forward_source", "ForwardSource"]

#: Python's binary operators -> the primitives they are (the formula language's, pathad.expressions).
_OPERATORS = {op: name for op, name in OPERATORS.items() if issubclass(op, ast.operator)}

#: Constructs outside the subset, wherever they appear, with how messages name them.
_REFUSED = {
    ast.Lambda: "a lambda",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield from'",
    ast.Await: "'await'",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.Starred: "a starred expression",
    ast.Global: "a 'global' statement",
    ast.Nonlocal: "a 'nonlocal' statement",
    ast.With: "a 'with' statement",
    ast.AsyncWith: "an 'async with' statement",
    ast.Try: "a 'try' statement",
    ast.ClassDef: "a class definition",
    ast.FunctionDef: "a nested function definition",
    ast.AsyncFunctionDef: "a nested function definition",
    ast.AsyncFor: "an 'async for' loop",
    ast.Import: "an import",
    ast.ImportFrom: "an import",
    ast.Delete: "a 'del' statement",
}
for _name in ("TryStar", "Match"):  # Python 3.11 and 3.10
    if hasattr(ast, _name):
        _REFUSED[getattr(ast, _name)] = {"TryStar": "a 'try' statement", "Match": "a 'match' statement"}[_name]

_SUBSET = (
    "forward_source transforms assignments and augmented assignments of float expressions, if/elif/else, "
    "for over range(...) and lists, while, return, and calls of the primitive table's functions "
    "(pathad's, numpy's, math's) and of Python functions it can transform"
)

_FLOAT_HEADER = "from pathad.primitives import FLOAT as {}"


class ForwardSource:
    """The derivative program :func:`forward_source` writes: its source text and the function compiled from it.

    Calling it calls :attr:`function`.  Its ``repr`` is the source.

    Attributes
    ----------
    source : str
        The generated module: the import of the float namespace ``m`` (when a
        partial needs it) and one ``d_<name>`` function per transformed
        function, the top one first.
    function : callable
        ``d_<name>(*parameters, d_<wrt>=1.0)``: the derivative of the original
        function along ``d_<wrt>`` (by default ∂f/∂wrt), at the same
        arguments; only the derivative, as the lecture's Prod′ returns ans′.
    name : str
        The top function's name, ``d_<name>``.
    wrt : str
        The parameter differentiated.
    original : callable
        The function transformed.
    functions : dict
        Every generated function by name: the top one and the derivative
        versions of the functions it calls (``d_f(i, x, d_x)``, their
        derivative along their own ``d_`` parameters).

    Examples
    --------
    >>> def square(x):
    ...     return x * x
    >>> d = forward_source(square)
    >>> d(3.0), d.name, sorted(d.functions)
    (6.0, 'd_square', ['d_square'])
    """

    def __init__(self, source, function, name, wrt, original, functions):
        self.source, self.function, self.name, self.wrt = source, function, name, wrt
        self.original, self.functions = original, functions

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __repr__(self):
        return self.source.rstrip("\n")

    __str__ = __repr__

    def _repr_markdown_(self):
        return f"```python\n{self.source}```"


def forward_source(f, wrt=None):
    """The statement-doubling transformation of ``f``'s source: a program for ∂f/∂wrt, as text and compiled.

    For every float variable ``v`` (one assigned from an expression that
    depends on ``wrt``: an activity analysis over the function, flow
    insensitive, so loops are covered), the generated function has ``d_v``,
    and each statement ``v = exp`` (or ``v op= exp``) is preceded by
    ``d_v = exp′``; ``return exp`` becomes ``return exp′``.  Branches and loops
    are kept and taken on the values, as tracing takes them.  Variables that
    never depend on ``wrt`` (loop counters over ``range``, constants, the other
    parameters) are left alone, and a ``d_v`` nothing reads is not written.

    The supported subset: assignments (also to tuples of names from a tuple of
    expressions) and augmented assignments, ``if``/``elif``/``else``, ``for``
    over ``range(...)``, over lists and over list displays, ``while``,
    ``return``, ``break``/``continue``/``pass``/``assert``, and expressions of
    numbers, names, the operators ``+ - * / ** % //``, conditional
    expressions, list displays and subscripts, and calls of

    - the functions of the primitive table, spelled as pathad's
      (``pathad.tanh``, ``sin`` imported from pathad), numpy's ufuncs
      (``np.exp``), math's (``math.sin``, ``math.atan2``) or Python's
      (``abs``, ``max``/``min`` of two, ``pow``, ``round``);
    - ``float`` (the identity), ``sum`` (linear) and ``len`` (an integer);
    - other Python functions, which are transformed too, recursively: the call
      ``g(u)`` keeps its value and gets the derivative ``d_g(u, d_u)``, the
      derivative of ``g`` along ``d_u`` (one ``d_g`` per set of parameters that
      depend on ``wrt``).  A call whose arguments do not depend on ``wrt`` is a
      constant, whatever it calls.

    Parameters
    ----------
    f : function
        A Python function defined with ``def`` whose source :mod:`inspect` can
        read.  It is not run; its source is parsed, and only the text
        generated from that parse is compiled.  Names it reads (globals,
        closure variables, the functions it calls) are looked up where ``f``
        looks them up, when the generated function runs.
    wrt : str, optional
        The parameter to differentiate by, a scalar; the others are constants.
        Default: the first parameter.

    Returns
    -------
    ForwardSource
        ``.source`` (the text), ``.function`` (``d_f(*args, d_wrt=1.0)``
        returning only the derivative, as the lecture's Prod′ returns ans′),
        callable itself.

    Raises
    ------
    pathad.ExpressionError
        For anything outside the subset; the message names the function, the
        file and line and the construct (a ``with`` statement, a lambda, an
        assignment to an attribute, a call of something that is neither in the
        table nor a Python function, ``int(x)`` or ``range(x)`` of a value
        that depends on ``wrt``, ...).
    TypeError
        If ``f`` is not a Python function.

    Examples
    --------
    >>> import math
    >>> def h(x, y):
    ...     a = x + 4 * y
    ...     b = (x + y) * y
    ...     return a * b
    >>> dh = forward_source(h, wrt="y")
    >>> print(dh.source)  # doctest: +NORMALIZE_WHITESPACE
    def d_h(x, y, d_y=1.0):
        \"""The derivative of h along d_y (by default d h/dy), by statement doubling.\"""
        d_a = 4 * d_y
        a = x + 4 * y
        d_b = d_y * y + (x + y) * d_y
        b = (x + y) * y
        return d_a * b + a * d_b
    >>> dh(3.0, 5.0), forward_source(h)(3.0, 5.0)
    (459.0, 155.0)
    >>> def g(x):
    ...     with open("f") as file:
    ...         return x
    >>> forward_source(g)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pathad.errors.ExpressionError: g (<doctest ...>, line 2): a 'with' statement is outside the subset; ...
    """
    if not isinstance(f, types.FunctionType):
        raise TypeError(f"forward_source needs a Python function defined with def, got {type(f).__name__} {f!r}")
    program = _Program()
    parameters = _Spec.parameter_names(f)
    if wrt is None:
        if not parameters:
            raise ExpressionError(f"{f.__name__} has no parameters to differentiate by")
        wrt = parameters[0]
    if wrt not in parameters:
        raise ExpressionError(f"{f.__name__} has no parameter {wrt!r} (its parameters: {', '.join(parameters)})")
    top = program.request(f, (wrt,), top=True)
    program.build()
    return program.result(top, wrt)


# --- the program: every function transformed, their names, the text, the compiling -------------


class _Program:
    """The specializations (function, parameters that vary) to generate, and the generated module."""

    def __init__(self):
        self.specs = {}  # (function, active parameters) -> _Spec, in the order they were asked for
        self.pending = []
        self.counter = itertools.count()

    def request(self, fn, active, top=False):
        key = (fn, tuple(active))
        spec = self.specs.get(key)
        if spec is None:
            spec = self.specs[key] = _Spec(self, fn, tuple(active), top)
            self.pending.append(spec)
        return spec

    def build(self):
        while self.pending:
            self.pending.pop(0).generate()
        self._name()

    def _name(self):
        specs = list(self.specs.values())
        taken = set()
        for spec in specs:
            taken |= spec.identifiers | set(spec.dnames.values())
        self.m = _fresh("m", taken)
        taken.add(self.m)
        for spec in specs:
            base = f"d_{spec.fn.__name__}"
            if spec.top or base not in taken:
                spec.name = _fresh(base, taken)
            else:
                spec.name = _fresh(f"{base}_{'_'.join(spec.active_params)}", taken)
            taken.add(spec.name)
        for spec in specs:
            for node in ast.walk(spec.tree):
                if isinstance(node, ast.Name) and node.id == _M:
                    node.id = self.m
            for node, callee in spec.callee_refs:
                node.id = callee.name
            for keyword, callee, parameter in spec.keyword_refs:
                keyword.arg = callee.dnames[parameter]
            spec.tree.name = spec.name

    def result(self, top, wrt):
        specs = list(self.specs.values())
        texts = [_layout(ast.unparse(spec.tree)) for spec in specs]
        uses_m = any(isinstance(n, ast.Name) and n.id == self.m for s in specs for n in ast.walk(s.tree))
        parts = [_FLOAT_HEADER.format(self.m)] if uses_m else []
        source = "\n\n\n".join(parts + texts) + "\n"
        filename = f"<pathad.forward_source {top.name} #{next(_SOURCES)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec")  # the text generated above, nothing the user wrote verbatim
        namespaces = {}
        for spec in specs:
            namespace = _Namespace(spec.fn)
            exec(code, namespace)  # each function in a namespace that looks names up where its original does
            namespaces[spec.name] = namespace
        functions = {name: namespace[name] for name, namespace in namespaces.items()}
        for namespace in namespaces.values():
            namespace.update(functions)
        return ForwardSource(source, functions[top.name], top.name, wrt, top.fn, functions)


_SOURCES = itertools.count(1)
_M = "\0m"  # the float namespace's name until the names are chosen


class _Namespace(dict):
    """The globals of a generated function: its own names, then the original's closure, globals and builtins."""

    def __init__(self, fn):
        super().__init__()
        self._cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        self._globals = fn.__globals__
        self[_M] = FLOAT

    def __missing__(self, key):
        cell = self._cells.get(key)
        if cell is not None:
            try:
                return cell.cell_contents
            except ValueError:
                pass
        return self._globals[key]  # a KeyError here sends Python on to the builtins


def _fresh(base, taken):
    name = base
    while name in taken:
        name += "_"
    return name


# --- one function, transformed -----------------------------------------------------------------


class _Spec:
    """The derivative version of one function for one set of parameters that depend on ``wrt``."""

    def __init__(self, program, fn, active_params, top):
        self.program, self.fn, self.active_params, self.top = program, fn, active_params, top
        self.name = None
        self.callee_refs = []
        self.keyword_refs = []
        self.dnames = {}
        self._read()

    @staticmethod
    def parameter_names(fn):
        code = fn.__code__
        return list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])

    def _read(self):
        fn = self.fn
        self.label = fn.__qualname__ if "<locals>" not in fn.__qualname__ else fn.__name__
        if fn.__name__ == "<lambda>":
            raise ExpressionError(f"{self.label} is a lambda: forward_source needs a function defined with def")
        try:
            lines, start = inspect.getsourcelines(fn)
            self.file = inspect.getsourcefile(fn) or fn.__code__.co_filename
        except (OSError, TypeError):
            raise ExpressionError(
                f"the source of {self.label} is not available, so forward_source cannot read it "
                f"(define it in a file, a notebook cell or a doctest)"
            ) from None
        self.start = start
        try:
            module = ast.parse(textwrap.dedent("".join(lines)))
        except SyntaxError:
            module = None
        if module is None or not module.body or not isinstance(module.body[0], ast.FunctionDef):
            raise ExpressionError(f"{self.label} ({self.file}, line {start}): its source is not one def statement")
        self.tree = module.body[0]
        self.original = copy.deepcopy(self.tree)

    def error(self, node, what, reason=None):
        line = self.start + getattr(node, "lineno", 1) - 1
        where = f"{self.label} ({self.file}, line {line})"
        return ExpressionError(f"{where}: {what}; {reason or _SUBSET}")

    # ----- checks and activity

    def _check(self):
        tree = self.tree
        if tree.decorator_list:
            raise self.error(tree.decorator_list[0], "a decorator is outside the subset")
        args = tree.args
        if args.vararg or args.kwarg:
            raise self.error(tree, f"the parameter *{(args.vararg or args.kwarg).arg} is outside the subset")
        for node in ast.walk(tree):
            if node is not tree and type(node) in _REFUSED:
                raise self.error(node, f"{_REFUSED[type(node)]} is outside the subset")
        self.params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        self.identifiers = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(self.params)
        self.assigned = set(self.params)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.assigned.add(node.id)

    def _activity(self):
        """The names whose value depends on the active parameters (flow insensitive, to a fixed point)."""
        self.active = set(self.active_params)
        size = -1
        while size != len(self.active):
            size = len(self.active)
            for node in ast.walk(self.tree):
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if (
                            isinstance(target, (ast.Tuple, ast.List))
                            and isinstance(node.value, (ast.Tuple, ast.List))
                            and len(target.elts) == len(node.value.elts)
                        ):
                            for t, v in zip(target.elts, node.value.elts):
                                if self.varies(v):
                                    self.active |= _stored_names(t)
                        elif self.varies(node.value):
                            self.active |= _stored_names(target)
                elif isinstance(node, ast.AugAssign):
                    if self.varies(node.value) or self.varies(node.target):
                        self.active |= _stored_names(node.target)
                elif isinstance(node, ast.For) and self.varies(node.iter):
                    self.active |= _stored_names(node.target)

    def varies(self, node):
        """Whether the expression's value depends on the active parameters."""
        if isinstance(node, ast.Name):
            return node.id in self.active
        if isinstance(node, (ast.Constant, ast.Compare)):
            return False
        if isinstance(node, ast.Call):
            if self._is_builtin(node.func, "len"):
                return False
            return any(self.varies(a) for a in node.args) or any(self.varies(k.value) for k in node.keywords)
        if isinstance(node, ast.Subscript):
            return self.varies(node.value)
        if isinstance(node, ast.IfExp):
            return self.varies(node.body) or self.varies(node.orelse)
        return any(self.varies(child) for child in ast.iter_child_nodes(node))

    def _is_builtin(self, func, name):
        return (
            isinstance(func, ast.Name)
            and func.id == name
            and func.id not in self.assigned
            and self._lookup(func.id, func) is getattr(builtins, name)
        )

    def _lookup(self, name, node, default=None):
        fn = self.fn
        if name in fn.__code__.co_freevars:
            cell = fn.__closure__[fn.__code__.co_freevars.index(name)]
            try:
                return cell.cell_contents
            except ValueError:
                return default
        if name in fn.__globals__:
            return fn.__globals__[name]
        return getattr(builtins, name, default)

    def _resolve(self, func):
        """The object a call's function expression names, looked up where the original looks it up."""
        if isinstance(func, ast.Name):
            if func.id in self.assigned:
                raise self.error(
                    func,
                    f"the call of the local name {func.id!r} cannot be resolved",
                    "forward_source calls only functions it finds in the function's globals",
                )
            missing = object()
            found = self._lookup(func.id, func, missing)
            if found is missing:
                raise self.error(func, f"the name {func.id!r} is not defined", "define it before transforming")
            return found
        if isinstance(func, ast.Attribute):
            base = self._resolve(func.value)
            try:
                return getattr(base, func.attr)
            except AttributeError:
                raise self.error(func, f"{ast.unparse(func)} is not defined", "define it before transforming") from None
        raise self.error(func, f"a call of {ast.unparse(func)} is outside the subset")

    # ----- generation

    def generate(self):
        self._check()
        self._activity()
        for name in sorted(self.active):
            self.dnames[name] = _fresh(f"d_{name}", self.identifiers | set(self.dnames.values()))
        tree, body = self.tree, self.tree.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:]
        new = [
            ast.Assign([_store(self.dnames[p])], ast.Constant(0.0))
            for p in self.params
            if p in self.active and p not in self.active_params
        ]
        new += self._block(body)
        _prune(new, set(self.dnames.values()) | (self.assigned - set(self.params)))
        tree.body = [ast.Expr(ast.Constant(self._docstring()))] + (new or [ast.Pass()])
        self._signature()
        ast.fix_missing_locations(tree)

    def _docstring(self):
        along = ", ".join(self.dnames[p] for p in self.active_params)
        name = self.fn.__name__
        if self.top:
            wrt = self.active_params[0]
            return f"The derivative of {name} along {along} (by default d {name}/d{wrt}), by statement doubling."
        return f"The derivative of {name} along {along}, by statement doubling."

    def _signature(self):
        args = self.tree.args
        annotations = {a.arg: a.annotation for a in args.posonlyargs + args.args + args.kwonlyargs}
        extra = [ast.arg(self.dnames[p], copy.deepcopy(annotations[p])) for p in self.active_params]
        self.keyword_derivatives = bool(args.defaults or args.kwonlyargs)
        if self.top:
            defaults = [ast.Constant(1.0) for _ in extra]
            if args.kwonlyargs:
                args.kwonlyargs += extra
                args.kw_defaults += defaults
            else:
                args.args += extra
                args.defaults += defaults
        elif self.keyword_derivatives:
            args.kwonlyargs += extra
            args.kw_defaults += [None for _ in extra]
        else:
            args.args += extra

    def d(self, name):
        return ast.Name(self.dnames[name], ast.Load())

    def _block(self, statements):
        out = []
        for statement in statements:
            out += self._statement(statement)
        return out

    def _statement(self, node):
        if isinstance(node, ast.Assign):
            return self._assign(node, node.targets, node.value)
        if isinstance(node, ast.AnnAssign):
            if node.value is None:
                return [node]
            return self._assign(node, [node.target], node.value)
        if isinstance(node, ast.AugAssign):
            target = node.target
            if not isinstance(target, ast.Name):
                raise self.error(node, f"an augmented assignment to {_kind(target)} is outside the subset")
            if target.id not in self.active:
                return [node]
            value = ast.BinOp(ast.Name(target.id, ast.Load()), node.op, node.value)
            ast.copy_location(value, node)
            return [self._d_assign([target.id], value, node), node]
        if isinstance(node, ast.For):
            return [self._for(node)]
        if isinstance(node, ast.While):
            node.body, node.orelse = self._block(node.body), self._block(node.orelse)
            return [node]
        if isinstance(node, ast.If):
            node.body, node.orelse = self._block(node.body), self._block(node.orelse)
            return [node]
        if isinstance(node, ast.Return):
            if node.value is None:
                raise self.error(
                    node,
                    "a return without a value is outside the subset",
                    "a function forward_source transforms returns one float",
                )
            if isinstance(node.value, (ast.Tuple, ast.List)):
                raise self.error(
                    node,
                    f"returning {_kind(node.value)} is outside the subset",
                    "forward_source differentiates a function that returns one float",
                )
            derivative = _polished(self.derivative(node.value))
            return [ast.copy_location(ast.Return(derivative or ast.Constant(0.0)), node)]
        if isinstance(node, (ast.Expr, ast.Pass, ast.Break, ast.Continue, ast.Assert, ast.Raise)):
            return [node]  # values only: nothing to differentiate
        raise self.error(node, f"{_kind(node)} is outside the subset")

    def _assign(self, node, targets, value):
        for target in targets:
            for t in ast.walk(target):
                if isinstance(t, (ast.Attribute, ast.Subscript)):
                    raise self.error(
                        node,
                        f"an assignment to {_kind(t)} ({ast.unparse(t)}) is outside the subset",
                        "forward_source doubles assignments to names only",
                    )
                if isinstance(t, ast.Starred):
                    raise self.error(node, "a starred assignment is outside the subset")
        if all(isinstance(t, ast.Name) for t in targets):
            names = [t.id for t in targets if t.id in self.active]
            return [self._d_assign(names, value, node), node] if names else [node]
        if len(targets) != 1:
            raise self.error(node, "a chained assignment to tuples is outside the subset")
        target = targets[0]
        if not any(n in self.active for n in _stored_names(target)):
            return [node]
        if not (
            isinstance(value, (ast.Tuple, ast.List))
            and len(value.elts) == len(target.elts)
            and all(isinstance(t, ast.Name) for t in target.elts)
        ):
            raise self.error(
                node,
                f"unpacking {ast.unparse(value)} into {ast.unparse(target)} is outside the subset",
                "forward_source unpacks a tuple of names from a tuple of expressions only",
            )
        pairs = [(t.id, v) for t, v in zip(target.elts, value.elts) if t.id in self.active]
        if len(pairs) == 1:
            return [self._d_assign([pairs[0][0]], pairs[0][1], node), node]
        d_target = ast.Tuple([_store(self.dnames[name]) for name, _ in pairs], ast.Store())
        d_value = ast.Tuple([_polished(self.derivative(v)) or _zero_like(v) for _, v in pairs], ast.Load())
        return [ast.copy_location(ast.Assign([d_target], d_value), node), node]

    def _d_assign(self, names, value, node):
        derivative = _polished(self.derivative(value)) or _zero_like(value)
        return ast.copy_location(ast.Assign([_store(self.dnames[n]) for n in names], derivative), node)

    def _for(self, node):
        body, orelse = self._block(node.body), self._block(node.orelse)
        if self.varies(node.iter):
            if not isinstance(node.target, ast.Name):
                raise self.error(
                    node,
                    f"a loop over {ast.unparse(node.iter)} (which depends on {self._wrt()}) "
                    f"into {ast.unparse(node.target)} is outside the subset",
                    "forward_source loops a name over a list of values that depend on it",
                )
            d_iter = _polished(self.derivative(node.iter))
            node.target = ast.Tuple([node.target, _store(self.dnames[node.target.id])], ast.Store())
            node.iter = ast.Call(ast.Name("zip", ast.Load()), [node.iter, d_iter], [])
        else:
            body = [
                ast.Assign([_store(self.dnames[n])], ast.Constant(0.0))
                for n in sorted(_stored_names(node.target) & self.active)
            ] + body
        node.body, node.orelse = body, orelse
        return node

    def _wrt(self):
        return ", ".join(self.active_params)

    # ----- expressions

    def derivative(self, node):
        """The derivative of an expression along the active parameters' d_ variables, or None where it is 0."""
        if not self.varies(node):
            return None
        if isinstance(node, ast.Name):
            return self.d(node.id)
        if isinstance(node, ast.BinOp):
            name = _OPERATORS.get(type(node.op))
            if name is None:
                raise self.error(
                    node,
                    f"the operator in {ast.unparse(node)} is outside the subset",
                    "forward_source differentiates + - * / ** % //",
                )
            return self._chain(PRIMITIVES[name], [node.left, node.right], node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return self._chain(PRIMITIVES["neg"], [node.operand], node)
            if isinstance(node.op, ast.UAdd):
                return self.derivative(node.operand)
            if isinstance(node.op, ast.Not):
                return None
            raise self.error(node, f"the operator in {ast.unparse(node)} is outside the subset")
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.IfExp):
            body, orelse = self.derivative(node.body), self.derivative(node.orelse)
            if body is None and orelse is None:
                return None
            return ast.IfExp(copy.deepcopy(node.test), body or _zero_like(node.body), orelse or _zero_like(node.orelse))
        if isinstance(node, ast.Subscript):
            if self.varies(node.slice):
                raise self.error(
                    node,
                    f"the index in {ast.unparse(node)} depends on {self._wrt()}",
                    "indices must not depend on the variable differentiated",
                )
            return ast.Subscript(self.derivative(node.value), copy.deepcopy(node.slice), ast.Load())
        if isinstance(node, (ast.List, ast.Tuple)):
            kind = type(node)
            return kind([self.derivative(e) or _zero_like(e) for e in node.elts], ast.Load())
        if isinstance(node, ast.BoolOp):
            raise self.error(
                node,
                f"'and'/'or' of values that depend on {self._wrt()} ({ast.unparse(node)}) is outside the subset",
                "use them in tests only",
            )
        raise self.error(
            node, f"{_kind(node)} of a value that depends on {self._wrt()} ({ast.unparse(node)}) is outside the subset"
        )

    def _call(self, node):
        text = ast.unparse(node.func)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.error(node, f"the call {ast.unparse(node)} with * or ** arguments is outside the subset")
        callee = self._resolve(node.func)
        if isinstance(callee, types.FunctionType) and _primitive(callee, len(node.args)) is None:
            return self._user_call(node, callee)
        if callee is builtins.float and len(node.args) == 1 and not node.keywords:
            return self.derivative(node.args[0])
        if callee is builtins.sum and len(node.args) == 1 and not node.keywords:
            return ast.Call(copy.deepcopy(node.func), [self.derivative(node.args[0])], [])
        if callee is builtins.int or callee is builtins.range:
            raise self.error(
                node,
                f"{text}() of a value that depends on {self._wrt()} ({ast.unparse(node)}) would lose its derivative",
                "integers and loop bounds must not depend on the variable differentiated",
            )
        primitive = _primitive(callee, len(node.args))
        if primitive is None:
            raise self.error(
                node,
                f"the call of {text} is outside the subset: {text} is not a function of the "
                "primitive table (pathad's, numpy's, math's) nor a Python function "
                "forward_source can transform",
                "",
            )
        if node.keywords:
            raise self.error(node, f"keyword arguments to {text} are outside the subset")
        if len(node.args) != primitive.arity:
            raise self.error(
                node,
                f"{text} with {len(node.args)} argument{'s' * (len(node.args) != 1)} is outside the subset",
                f"the table's {primitive.name} takes {primitive.arity}",
            )
        return self._chain(primitive, node.args, node)

    def _user_call(self, node, callee):
        try:
            bound = inspect.signature(callee).bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError as exc:
            raise self.error(node, f"the call {ast.unparse(node)} does not fit {callee.__name__}: {exc}", "") from None
        parameters = _Spec.parameter_names(callee)
        active = [p for p in parameters if p in bound.arguments and self.varies(bound.arguments[p])]
        spec = self.program.request(callee, active)
        name = ast.Name(_M + "f", ast.Load())
        self.callee_refs.append((name, spec))
        derivatives = [self.derivative(bound.arguments[p]) for p in active]
        positional = (
            not node.keywords
            and len(node.args) == len(parameters)
            and not callee.__defaults__
            and not callee.__kwdefaults__
            and callee.__code__.co_kwonlyargcount == 0
        )
        call = ast.Call(name, [copy.deepcopy(a) for a in node.args], [copy.deepcopy(k) for k in node.keywords])
        if positional:
            call.args += derivatives
        else:
            keywords = [ast.keyword(f"\0{p}", d) for p, d in zip(active, derivatives)]
            self.keyword_refs += [(keyword, spec, p) for keyword, p in zip(keywords, active)]
            call.keywords += keywords
        return call

    def _chain(self, primitive, operands, node):
        """d op(a, b) = ∂op/∂a · da + ∂op/∂b · db, over the operands that depend on wrt; the partials from the table."""
        terms = []
        for j, operand in enumerate(operands):
            d_operand = self.derivative(operand)
            if d_operand is None:
                continue
            partial = _simplify(_substituted(formula(primitive.partials[j]), operands, node))
            if _is_number(partial, 0):
                continue
            other = operands[1 - j] if len(operands) == 2 else None
            terms.append(_term(partial, d_operand, j, other))
        return _sum(terms)


# --- expressions: the table's formulas with the operands put in, and simplified ---------------------


def _substituted(text, operands, result):
    """The formula ``text`` (in m, a, b, r) with the operand expressions, the result and the float namespace put in."""
    names = dict(zip("ab", operands), r=result)

    class Put(ast.NodeTransformer):
        def visit_Name(self, name):
            if name.id in names:
                return copy.deepcopy(names[name.id])
            if name.id == "m":
                return ast.Name(_M, ast.Load())
            return name

    return Put().visit(ast.parse(text, mode="eval").body)


def _is_number(node, value):
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == value


def _number(node):
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}
_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


def _simplify(node):
    """Fold constants and drop the identities a person would not write (1 *, + 0, pow(e, 1), if True)."""
    for field, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            setattr(node, field, _simplify(value))
        elif isinstance(value, list):
            setattr(node, field, [_simplify(v) if isinstance(v, ast.AST) else v for v in value])
    if isinstance(node, ast.BinOp):
        left, right, op = node.left, node.right, type(node.op)
        if _number(left) and _number(right) and op in _FOLD:
            folded = _FOLD[op](left.value, right.value)
            if isinstance(folded, int) or len(repr(folded)) <= 8:
                return ast.Constant(folded)
        if op is ast.Mult:
            if _is_number(left, 0) or _is_number(right, 0):
                return ast.Constant(0)
            if _is_number(left, 1):
                return right
            if _is_number(right, 1):
                return left
        if op in (ast.Add, ast.Sub) and _is_number(right, 0):
            return left
        if op is ast.Add and _is_number(left, 0):
            return right
        if op is ast.Div and _is_number(right, 1):
            return left
        if op in (ast.Mult, ast.Div) and isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub):
            return ast.UnaryOp(ast.USub(), ast.BinOp(left.operand, node.op, right))  # -p / q -> -(p / q)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if isinstance(node.operand, ast.UnaryOp) and isinstance(node.operand.op, ast.USub):
            return node.operand.operand
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        if _number(node.left) and _number(node.comparators[0]):
            return ast.Constant(_COMPARE[type(node.ops[0])](node.left.value, node.comparators[0].value))
    if isinstance(node, ast.IfExp) and isinstance(node.test, ast.Constant):
        return node.body if node.test.value else node.orelse
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "pow"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == _M
        and len(node.args) == 2
        and _is_number(node.args[1], 1)
    ):
        return node.args[0]
    return node


def _negated(node):
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def _term(partial, d_operand, j, other):
    """partial · d_operand, as a person writes it; a negative term as -(…), for :func:`_sum` to subtract."""
    if _negated(d_operand):
        return _neg(_term(partial, d_operand.operand, j, other))
    if _negated(partial):
        return _neg(_term(partial.operand, d_operand, j, other))
    if _number(partial) and partial.value < 0:
        return _neg(_term(ast.Constant(-partial.value), d_operand, j, other))
    if _is_number(partial, 1):
        return d_operand
    if isinstance(partial, ast.BinOp) and isinstance(partial.op, ast.Div) and _is_number(partial.left, 1):
        return ast.BinOp(d_operand, ast.Div(), partial.right)  # d / e, not 1 / e * d
    if other is not None and ast.dump(partial) == ast.dump(other) and j == 0:
        return ast.BinOp(d_operand, ast.Mult(), partial)  # the product rule: d_a * b + a * d_b
    return ast.BinOp(partial, ast.Mult(), d_operand)


def _neg(node):
    return node.operand if _negated(node) else ast.UnaryOp(ast.USub(), node)


def _sum(terms):
    if not terms:
        return None
    total = terms[0]
    for term in terms[1:]:
        if _negated(term):
            total = ast.BinOp(total, ast.Sub(), term.operand)
        else:
            total = ast.BinOp(total, ast.Add(), term)
    return total


def _leading_minus(term):
    """-(p * d) as -p * d: the same number (negation is exact), as a person writes it."""
    if _negated(term) and isinstance(term.operand, ast.BinOp) and isinstance(term.operand.op, (ast.Mult, ast.Div)):
        product = term.operand
        return ast.BinOp(_leading_minus(_neg(product.left)), product.op, product.right)
    return term


def _polished(node):
    """A finished derivative expression with each -(p * d) written -p * d."""
    if node is None:
        return None

    class Polish(ast.NodeTransformer):
        def visit_UnaryOp(self, unary):
            self.generic_visit(unary)
            return _leading_minus(unary)

    return Polish().visit(node)


def _zero_like(node):
    """The derivative of a value that does not depend on wrt: 0.0, or a list of them for a list display."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return type(node)([_zero_like(e) for e in node.elts], ast.Load())
    if isinstance(node, ast.IfExp):
        body, orelse = _zero_like(node.body), _zero_like(node.orelse)
        if ast.dump(body) == ast.dump(orelse):
            return body
        return ast.IfExp(copy.deepcopy(node.test), body, orelse)
    return ast.Constant(0.0)


def _store(name):
    return ast.Name(name, ast.Store())


def _stored_names(target):
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _kind(node):
    words = {
        ast.Attribute: "an attribute",
        ast.Subscript: "an item",
        ast.Tuple: "a tuple",
        ast.List: "a list",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.JoinedStr: "an f-string",
        ast.Compare: "a comparison",
    }
    if type(node) in words:
        return words[type(node)]
    name = type(node).__name__
    return f"a {name!r} {'statement' if isinstance(node, ast.stmt) else 'expression'}"


def _prune(body, names):
    """Drop the assignments to ``names`` nothing reads: a d_v when v feeds only tests or indices, a v when only
    its derivative was returned."""
    while True:
        read = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        read |= {n.target.id for s in body for n in ast.walk(s) if isinstance(n, ast.AugAssign)}
        unread = names - read
        if not _drop(body, unread):
            return


def _drop(body, unread):
    changed = False
    kept = []
    for statement in body:
        if isinstance(statement, ast.Assign):
            targets = [t for t in statement.targets if not (isinstance(t, ast.Name) and t.id in unread)]
            if len(targets) != len(statement.targets):
                changed = True
                if not targets:
                    continue
                statement.targets = targets
            target = statement.targets[0]
            if (
                isinstance(target, ast.Tuple)
                and isinstance(statement.value, ast.Tuple)
                and len(target.elts) == len(statement.value.elts)
            ):
                pairs = [
                    (t, v)
                    for t, v in zip(target.elts, statement.value.elts)
                    if not (isinstance(t, ast.Name) and t.id in unread)
                ]
                if len(pairs) != len(target.elts):
                    changed = True
                    if not pairs:
                        continue
                    if len(pairs) == 1:
                        statement.targets, statement.value = [pairs[0][0]], pairs[0][1]
                    else:
                        target.elts, statement.value.elts = [t for t, _ in pairs], [v for _, v in pairs]
        elif isinstance(statement, ast.For):
            target, it = statement.target, statement.iter
            if (
                isinstance(target, ast.Tuple)
                and len(target.elts) == 2
                and isinstance(it, ast.Call)
                and isinstance(it.func, ast.Name)
                and it.func.id == "zip"
                and target.elts[1].id in unread
            ):
                statement.target, statement.iter = target.elts[0], it.args[0]
                changed = True
            changed |= _drop(statement.body, unread) | _drop(statement.orelse, unread)
        elif isinstance(statement, (ast.While, ast.If)):
            changed |= _drop(statement.body, unread) | _drop(statement.orelse, unread)
        if isinstance(statement, (ast.For, ast.While, ast.If)) and not statement.body:
            statement.body = [ast.Pass()]
        kept.append(statement)
    body[:] = kept
    return changed


# --- the table's functions, by the objects users call ----------------------------------------


def _known():
    known = {}
    from . import functions

    for name, primitive in BY_NAME.items():
        known.setdefault(id(getattr(functions, name)), (getattr(functions, name), primitive))
        if hasattr(math, name):
            known.setdefault(id(getattr(math, name)), (getattr(math, name), primitive))
    for primitive in PRIMITIVES.values():
        for ufunc in primitive.ufuncs:
            if hasattr(np, ufunc):
                known.setdefault(id(getattr(np, ufunc)), (getattr(np, ufunc), primitive))
        if primitive.scalar is not None and primitive.scalar is not builtins.round:
            known.setdefault(id(primitive.scalar), (primitive.scalar, primitive))
    for name in ("abs", "max", "min", "pow"):
        known[id(getattr(builtins, name))] = (getattr(builtins, name), BY_NAME[name])
    return known


_KNOWN = None


def _primitive(obj, n_args):
    """The primitive a callable is (``math.sin``, ``np.exp``, ``pathad.tanh``, ``abs``), or None."""
    global _KNOWN
    if _KNOWN is None:
        _KNOWN = _known()
    if obj is builtins.round:
        return PRIMITIVES["rint"] if n_args == 1 else PRIMITIVES["round"]
    entry = _KNOWN.get(id(obj))
    return entry[1] if entry is not None and entry[0] is obj else None


# --- layout ------------------------------------------------------------------------------------


def _layout(text, width=88):
    """Break long sums one term a line, in parentheses, as ruff format would."""
    lines = []
    for line in text.split("\n"):
        lines += _wrapped(line, width)
    return "\n".join(lines)


def _wrapped(line, width):
    if len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return [line]
    statement = tree.body[0] if len(tree.body) == 1 else None
    if isinstance(statement, ast.Assign):
        head = " = ".join(ast.unparse(t) for t in statement.targets) + " = "
    elif isinstance(statement, ast.Return) and statement.value is not None:
        head = "return "
    else:
        return [line]
    value = statement.value
    pieces = []
    while isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
        pieces.append(("+ " if isinstance(value.op, ast.Add) else "- ", value.right))
        value = value.left
    if not pieces:
        return [line]
    pieces.append(("", value))
    out = [f"{indent}{head}("]
    for sign, term in reversed(pieces):
        text = ast.unparse(term)
        if sign and (
            isinstance(term, ast.IfExp) or (isinstance(term, ast.BinOp) and type(term.op) in (ast.Add, ast.Sub))
        ):
            text = f"({text})"
        out.append(f"{indent}    {sign}{text}")
    out.append(f"{indent})")
    try:
        same = ast.dump(ast.parse(textwrap.dedent("\n".join(out)))) == ast.dump(tree)
    except SyntaxError:
        same = False
    return out if same else [line]
