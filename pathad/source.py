"""A sweep written out: the straight-line Python program a trace's forward or backward sweep runs.

:func:`adjoint_source` writes the reverse program of one output: one
statement per node computing its value (the node's primitive's value rule,
the operands' variables in place of ``a`` and ``b``), then one accumulation
per edge, in the order the backward sweep :func:`pathad.solve` takes them
(on a trace's tape: the edges from the last recorded to the first), each
adding the head's adjoint times the edge's local partial (the primitive's
partial rule, the node's own variable in place of ``r``) to the tail's
adjoint.  :func:`tangent_source` writes the forward program from one input:
after each node's value, its tangent, one term per edge into it, in the
tape's order.  Every expression comes from the primitive table
(:data:`pathad.primitives.PRIMITIVES`, read back as text by
:func:`pathad.compiled.kernel_source.formula`); a comment gives each edge's
label as a formula (the table's label rule: ``σ``'s is v(1 − v)).

The program is compiled once (``compile`` of the generated text, in which the
trace contributes only identifiers it checked, number literals and, inside
comments and string literals, its labels with line breaks removed) and
replays the recorded operations at new inputs: values forward, then the
derivatives, the same floating-point operations in the same order as tracing
there and sweeping (so the same numbers, bit for bit).  The comparisons the
trace recorded (its guards, :attr:`pathad.tracing.Tape.guards`) are checked
in their recorded order, each as soon as its two sides are computed: a point
that takes another branch raises :class:`pathad.BranchError`, as
:func:`pathad.compile`'s replay does.  A Python error in the arithmetic
(``log`` of a negative number, a division by 0) or a result that is not
finite sends the point to a slow reference, which records the operations
again at that point and sweeps them with :func:`pathad.solve`: it raises the
:class:`pathad.DomainError` tracing or the sweep would, naming the node.
(A value that overflows to inf inside the program and is then absorbed, as
in 1/inf, goes unnoticed where tracing would refuse it.)

The program is written from the trace's tape (changes made to
:attr:`pathad.Trace.graph` are not in it).  Variables: an input keeps its name, an array element ``v[0]`` becomes
``v_0`` (``W[1,2]``: ``W_1_2``), and a node named otherwise (an output, a
``.named`` value) keeps its name when that is a Python identifier no other
variable takes; the rest are ``t<id>``, ``<id>`` the node's id in the trace.
A derivative's variable is ``d_`` and the value's.  Names that would clash
with these (``t7``, ``d_x``, a keyword, a function of the math namespace,
``FLOAT``, ``BranchError``) fall back to ``t<id>``.

Examples
--------
>>> from pathad import trace
>>> def f(x, y):
...     return x * y + x
>>> program = adjoint_source(trace(f, x=2.0, y=3.0))
>>> print(program.body)
def f_adjoint(x, y):
    # the values, node by node in the tape's order
    t2 = x * y  # x·y
    f = t2 + x  # x·y+x
    # the adjoints, edge by edge in the order of the backward sweep (the tape's edges from the last)
    d_f = 1.0
    d_x = d_f  # ∂f/∂x = 1
    d_t2 = d_f  # ∂f/∂t2 = 1
    d_y = d_t2 * x  # ∂t2/∂y = x
    d_x += d_t2 * y  # ∂t2/∂x = y
    return f, (d_x, d_y)
>>> program(2.0, 3.0), program(x=1.0, y=-1.0)
((8.0, {'x': 4.0, 'y': 2.0}), (0.0, {'x': 0.0, 'y': 1.0}))
"""

import ast
import functools
import itertools
import keyword
import linecache
import math
import re
import unicodedata
import warnings
import weakref

import numpy as np

from .errors import BranchError, UnknownNodeError
from .primitives import DOMAIN_ERRORS, FLOAT, HELPERS, PRIMITIVES
from .tracing import Tape, Trace, Traced, _build_graph, _record, check_trace, rebuild, resolve_node

__all__ = ["adjoint_source", "tangent_source", "SourceProgram"]

#: Names a variable never takes: what the generated module itself names, besides Python's keywords.
_RESERVED = frozenset({"FLOAT", "BranchError", "float", *PRIMITIVES, *HELPERS})
#: Names of the shape of the generated ones: ``t<id>`` for nodes, ``d_...`` for derivatives.
_GENERATED = re.compile(r"t\d+|d_.*")
#: An element of an array argument: ``v[0]``, ``W[1,2]``.
_ELEMENT = re.compile(r"([^\W\d]\w*)\[(\d+(?:,\d+)*)\]")
#: The longest line the program has (the project's ruff line length); a longer comment goes above its statement.
_WIDTH = 120
#: The longest formula a value's comment shows.
_COMMENT = 60
_COUNTER = itertools.count()


def adjoint_source(tr, of=None):
    """The backward sweep of ``tr`` from ``of`` as a straight-line Python program.

    Parameters
    ----------
    tr : Trace
    of : str or int, optional
        The output (an input name, a label or a node id of any node); default
        the trace's single output.

    Returns
    -------
    SourceProgram
        Its ``source`` is the program's text; calling it with new inputs (as
        the traced function takes them) gives ``(value, gradient)``: the value
        of ``of`` and ``{argument: ∂of/∂argument}`` as :func:`pathad.gradient`
        gives it (an array argument's partials in an array of its shape).

    Raises
    ------
    ValueError
        If ``of`` is not given and the trace has several outputs.

    Examples
    --------
    >>> from pathad import trace
    >>> h = adjoint_source(trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0))
    >>> h(3.0, 5.0)
    (920.0, {'x': 155.0, 'y': 459.0})
    >>> h.edges[:3]
    [(6, 5), (6, 3), (5, 1)]
    """
    check_trace(tr, "adjoint_source")
    target = tr.output if of is None else resolve_node(tr, of, "of")
    return _Writer(tr).adjoint(target)


def tangent_source(tr, wrt):
    """The forward sweep of ``tr`` from the input ``wrt`` as a straight-line Python program.

    Parameters
    ----------
    tr : Trace
    wrt : str or int
        One scalar input: its name (``"x"``, ``"v[1]"``) or node id.

    Returns
    -------
    SourceProgram
        Calling it with new inputs gives ``(value, derivative)``: the traced
        function's result at them and ∂result/∂wrt, both in the shape of the
        result (every output's derivative).

    Examples
    --------
    >>> from pathad import trace
    >>> import numpy as np
    >>> program = tangent_source(trace(lambda v: (v[0] * v[1], np.sin(v[0])), np.array([1.0, 2.0])), "v[0]")
    >>> print(program.body)
    def f_tangent(v_0, v_1):
        # the values and their tangents ∂/∂v_0, node by node in the tape's order
        d_v_0 = 1.0
        t2 = v_0 * v_1  # v_0·v_1
        d_t2 = d_v_0 * v_1  # ∂t2/∂v_0 = v_1
        t3 = sin(v_0)  # sin(v_0)
        d_t3 = d_v_0 * cos(v_0)  # ∂t3/∂v_0 = cos(v_0)
        return (t2, t3), (d_t2, d_t3)
    >>> program(np.array([0.0, 3.0]))
    ((0.0, 0.0), (3.0, 1.0))
    """
    check_trace(tr, "tangent_source")
    if isinstance(wrt, str) and isinstance(tr.arguments.get(wrt), np.ndarray):
        raise UnknownNodeError(
            f"{wrt!r} is an array argument: the forward program follows one input; name an element such as "
            f"{wrt + '[0]'!r}"
        )
    source = resolve_node(tr, wrt, "wrt")
    if tr.tape.ops[source] != "input":
        raise ValueError(f"wrt must be an input of the trace ({', '.join(tr.inputs)}), got {wrt!r}")
    return _Writer(tr).tangent(source)


class SourceProgram:
    """A sweep as a straight-line Python program: its text, the function compiled from it, and a call.

    Made by :func:`adjoint_source` and :func:`tangent_source`.

    Attributes
    ----------
    kind : {"adjoint", "tangent"}
    source : str
        The program as a Python module: its imports and one function.
    body : str
        The function alone (what the printing shows without the imports).
    function : callable
        The generated function, compiled once: it takes every scalar input
        positionally, in the order of :attr:`pathad.Trace.inputs` (array
        elements flattened in C order) and returns ``(value, (∂/∂input, ...))``
        (adjoint) or ``((values...), (derivatives...))`` (tangent) as flat
        tuples; it raises :class:`pathad.BranchError` at a point where a
        recorded comparison comes out otherwise.
    parameters : list of str
        The function's parameter names, one per scalar input.
    edges : list of (int, int)
        The edges the program accumulates along, in its order, as the sweep
        takes them: (head, tail) node ids for the adjoint (the backward
        sweep's direction), (tail, head) for the tangent.
    trace : Trace
        The trace it was written from.

    Examples
    --------
    >>> from pathad import trace
    >>> program = tangent_source(trace(lambda x, y: x * y, 2.0, 3.0), "y")
    >>> program.parameters, program.edges, program.function(2.0, 3.0)
    (['x', 'y'], [(1, 2)], ((6.0,), (2.0,)))
    """

    def __init__(self, kind, tr, source, body, function_name, parameters, edges, target, placement):
        self.kind, self.trace, self.source, self.body = kind, tr, source, body
        self.parameters, self.edges, self._target = parameters, edges, target
        self._position = {node: i for i, node in enumerate(tr.inputs.values())}
        self._arguments = list(tr.arguments.items())
        self._placement = placement
        # every argument a number, in the inputs' order: positional calls need no rearranging
        self._plain = tr.arguments == tr.inputs and list(tr.inputs.values()) == sorted(tr.inputs.values())
        self._names = list(tr.arguments)
        filename = f"<pathad {kind}_source {function_name} #{next(_COUNTER)}>"
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)  # tracebacks show the program's lines
        weakref.finalize(self, linecache.cache.pop, filename, None)
        namespace = {"__name__": f"pathad.source.{function_name}"}
        exec(compile(source, filename, "exec"), namespace)  # the generated text (see the module's docstring)
        self.function = namespace[function_name]

    def __call__(self, *args, **kwargs):
        """``(value, gradient)`` (adjoint) or ``(value, derivative)`` (tangent) at new inputs, given as the
        traced function takes them (positionally or by name; arrays for array arguments)."""
        if self._plain and not kwargs and len(args) == len(self._names):
            flat = [float(a) for a in args]
        else:
            flat = self._flat(args, kwargs)
        try:
            result = self.function(*flat)
        except BranchError as exc:
            point = ", ".join(f"{name} = {value!r}" for name, value in zip(self.trace.inputs, flat))
            raise BranchError(
                f"the program takes another branch at {point}: {exc}; trace the function again at this point"
            ) from None
        except DOMAIN_ERRORS:
            result = None
        if result is None or not _finite(result):
            return self._reference(flat)
        return self._shaped(*result)

    def _flat(self, args, kwargs):
        """The scalar inputs in :attr:`parameters` order, from arguments given as the traced function takes them."""
        names = [name for name, _ in self._arguments]
        if len(args) > len(names):
            raise TypeError(
                f"{self.function.__name__} takes {len(names)} arguments ({', '.join(names)}), got {len(args)}"
            )
        given = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in self.trace.arguments:
                raise TypeError(f"{self.function.__name__} has no argument {name!r}; its arguments are {names}")
            if name in given:
                raise TypeError(f"{self.function.__name__} got the argument {name!r} twice")
            given[name] = value
        missing = [name for name in names if name not in given]
        if missing:
            raise TypeError(f"{self.function.__name__} is missing the argument{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}")  # fmt: skip
        flat = [0.0] * len(self._position)
        for name, nodes in self._arguments:
            value = given[name]
            if isinstance(nodes, np.ndarray):
                array = np.asarray(value, dtype=np.float64)
                if array.shape != nodes.shape:
                    raise ValueError(f"argument {name!r} must have shape {nodes.shape}, got {array.shape}")
                for node, number in zip(nodes.ravel().tolist(), array.ravel().tolist()):
                    flat[self._position[node]] = number
            else:
                flat[self._position[nodes]] = float(value)
        return flat

    def _shaped(self, value, derivatives):
        if self.kind == "tangent":
            tree = self.trace._tree
            if tree is None:
                return value[0], derivatives[0]
            return rebuild(tree, list(value)), rebuild(tree, list(derivatives))
        if self._plain:
            return value, dict(zip(self._names, derivatives))
        gradient = {}
        for name, nodes in self._arguments:
            if isinstance(nodes, np.ndarray):
                found = [derivatives[self._position[n]] for n in nodes.ravel().tolist()]
                gradient[name] = np.array(found, dtype=np.float64).reshape(nodes.shape)
            else:
                gradient[name] = derivatives[self._position[nodes]]
        return value, gradient

    def _reference(self, flat):
        """The slow way at one point: the operations recorded again there, then :func:`pathad.solve`.

        Raises what tracing and the sweep would: a :class:`pathad.DomainError`
        naming the node (or a :class:`pathad.BranchError`, a guard coming out
        otherwise before it).
        """
        from .solver import adjacency, solve_nodes  # the solver imports tracing, as this module does

        tr = self.trace
        again = _recorded_at(tr, flat, self._placement)
        graph = adjacency(again)
        if self.kind == "adjoint":
            ends = list(tr.inputs.values())
            adjoint = solve_nodes(graph, [self._target], ends, False) if ends else {}
            value = again.tape.values[self._target]
            return self._shaped(value, [adjoint.get(node, 0.0) for node in tr.inputs.values()])
        tangent = solve_nodes(graph, [self._target], list(dict.fromkeys(tr.outputs)), True)
        values = [again.tape.values[node] for node in tr.outputs]
        return self._shaped(values, [tangent.get(node, 0.0) for node in tr.outputs])

    def __str__(self):
        return self.source

    def __repr__(self):
        return self.source

    def _repr_markdown_(self):
        return f"```python\n{self.source}```\n"

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.source)


def _finite(result):
    """Whether every number of a generated function's result is finite (one sum; an overflow is a false alarm)."""
    value, derivatives = result
    total = sum(value) if isinstance(value, tuple) else value
    return math.isfinite(total + sum(derivatives))


def _recorded_at(tr, flat, placement):
    """A new trace of the same operations at the inputs ``flat``, recorded as tracing records them.

    The guards are checked where the program checks them (``placement``:
    node -> the guards checked once it is computed, -1 for before any).
    """
    old = tr.tape
    tape = Tape()
    position = {node: i for i, node in enumerate(tr.inputs.values())}
    traced = {}
    ends = old.in_edges()

    def check(node):
        for k in placement.get(node, ()):
            guard = old.guards[k]
            left = tape.values[guard.left]
            right = tape.values[guard.right] if guard.right is not None else guard.constant
            if _COMPARE[guard.op](left, right) != guard.outcome:
                raise BranchError(
                    f"the program takes another branch: the guard {guard.describe(old)} was {guard.outcome} when "
                    f"traced and is {not guard.outcome} now (its left side is {left!r}); trace the function again "
                    "at this point"
                )

    check(-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for node, op in enumerate(old.ops):
            if op == "input":
                traced[node] = tape.add_input(old.labels[node], flat[position[node]])
            else:
                primitive = PRIMITIVES[op]
                operands = [None] * primitive.arity
                for j, constant in old.consts.get(node, ()):
                    operands[j] = constant
                for k in range(ends[node], ends[node + 1]):
                    operands[old.arg[k]] = traced[old.src[k]]
                if ends[node] == ends[node + 1]:  # a constant output
                    tape.add_constant(primitive.value(FLOAT, *operands))
                    traced[node] = None
                else:
                    values = [o.value if type(o) is Traced else o for o in operands]
                    traced[node] = _record(tape, primitive, operands, values)
            check(node)
    tape.labels.update(old.labels)
    return Trace(tr.name, tape, dict(tr.inputs), list(tr.outputs), tr._tree, dict(tr.arguments))


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}  # fmt: skip


# --- writing the program ---------------------------------------------------------------------------------------


class _Writer:
    """The statements of one trace's programs: variables, value statements, guard checks, derivative lines."""

    def __init__(self, tr):
        tape = tr.tape
        self.ends = tape.in_edges()
        if self.ends is None:
            raise ValueError("the trace's tape is not in the order tracing records it; trace the function again")
        unknown = [op for op in tape.ops if op != "input" and op not in PRIMITIVES]
        if unknown:
            raise ValueError(f"the trace has an operation {unknown[0]!r} that is not in the primitive table")
        self.tr, self.tape = tr, tape
        self.base = _function_base(tr.name)
        self.names = _variables(tr, {f"{self.base}_adjoint", f"{self.base}_tangent"})
        self.used = set()  # the math namespace's functions the program calls
        self._comments = None

    # --- pieces -------------------------------------------------------------------------------------------

    def slots(self, node):
        """Per operand position: an AST of its variable or constant; and per position the edge into it (or None)."""
        tape = self.tape
        arity = PRIMITIVES[tape.ops[node]].arity
        operands, edges = [None] * arity, [None] * arity
        for j, constant in tape.consts.get(node, ()):
            operands[j] = _literal(constant)
        for k in range(self.ends[node], self.ends[node + 1]):
            j = tape.arg[k]
            operands[j], edges[j] = ast.Name(self.names[tape.src[k]], ast.Load()), k
        return operands, edges

    def expression(self, rule, operands, node):
        """The rule's formula with the operands (and the node's own variable for ``r``), folded where constant."""
        mapping = dict(zip("ab", operands))
        mapping["r"] = ast.Name(self.names[node], ast.Load())
        return _fold(_substituted(_parsed_rule(rule), mapping, self.used))

    def value_line(self, node):
        primitive = PRIMITIVES[self.tape.ops[node]]
        operands, _ = self.slots(node)
        code = f"{self.names[node]} = {ast.unparse(self.expression(primitive.value, operands, node))}"
        return _with_comment(code, self.comment(node))

    def comment(self, node):
        """The node's formula in the operands' names (``x+4y``), for its statement's comment; None if long."""
        if self._comments is None:
            self._comments = _formulas(self.tape, self.names)
        text = self._comments.get(node)
        if text is None or text == self.names[node] or len(text) > _COMMENT:
            return None
        return text

    def partial(self, k):
        """(partial's AST, its label formula as text) for edge k."""
        tape = self.tape
        node, j = tape.dst[k], tape.arg[k]
        primitive = PRIMITIVES[tape.ops[node]]
        operands, _ = self.slots(node)
        partial = self.expression(primitive.partials[j], operands, node)
        label = self.expression(primitive.label_rules[j], operands, node)
        return partial, ast.unparse(label)

    def edge_comment(self, k, label):
        return f"∂{self.names[self.tape.dst[k]]}/∂{self.names[self.tape.src[k]]} = {label}"

    def needed(self, targets):
        """The nodes the values of ``targets`` and of the guards' sides need: their ancestors, in tape order."""
        tape = self.tape
        need = set(targets)
        for guard in tape.guards:
            need.add(guard.left)
            if guard.right is not None:
                need.add(guard.right)
        for node in range(len(tape.ops) - 1, -1, -1):
            if node in need:
                need.update(tape.src[self.ends[node] : self.ends[node + 1]])
        return [node for node in range(len(tape.ops)) if node in need]

    def guard_placement(self):
        """node -> the guards checked right after it (-1: before any statement), in their recorded order.

        Guard k is checked once both its sides exist and after guard k - 1: no
        later than the traced program made the comparison, so an error before
        it is one the program itself would meet.
        """
        placement, last = {}, -1
        inputs = set(self.tr.inputs.values())
        for k, guard in enumerate(self.tape.guards):
            sides = [guard.left] + ([guard.right] if guard.right is not None else [])
            time = max((s for s in sides if s not in inputs), default=-1)
            last = max(last, time)
            placement.setdefault(last, []).append(k)
        return placement

    def guard_lines(self, k):
        guard = self.tape.guards[k]
        left = self.names[guard.left]
        right = self.names[guard.right] if guard.right is not None else ast.unparse(_literal(guard.constant))
        test = f"{left} {guard.op} {right}"
        message = f"guard {k}: {test} was {guard.outcome} when traced and is {not guard.outcome} now"
        condition = f"not ({test})" if guard.outcome else test
        return [
            _with_comment(f"if {condition}:", f"the trace took {test} to be {guard.outcome}"),
            f"    raise BranchError({message!r})",
        ]

    def values(self, nodes, placement, after=None):
        """The value statements of ``nodes`` with the guard checks placed; ``after(node)`` adds lines per node."""
        lines = []
        for k in placement.get(-1, ()):
            lines += self.guard_lines(k)
        for node in nodes:
            if self.tape.ops[node] != "input":
                lines.append(self.value_line(node))
            if after is not None:
                lines += after(node)
            for k in placement.get(node, ()):
                lines += self.guard_lines(k)
        return lines

    # --- the two programs -----------------------------------------------------------------------------------

    def adjoint(self, target):
        tr, tape, names = self.tr, self.tape, self.names
        placement = self.guard_placement()
        lines = ["# the values, node by node in the tape's order", *self.values(self.needed([target]), placement)]
        lines += [
            "# the adjoints, edge by edge in the order of the backward sweep (the tape's edges from the last)",
            f"d_{names[target]} = 1.0",
        ]
        reached, order = {target}, []
        for k in range(len(tape.src) - 1, -1, -1):  # the backward sweep's order on a tape (pathad.solver)
            head, tail = tape.dst[k], tape.src[k]
            if head not in reached:
                continue
            partial, label = self.partial(k)
            first = tail not in reached
            reached.add(tail)
            order.append((head, tail))
            lines.append(_with_comment(_accumulate(f"d_{names[tail]}", f"d_{names[head]}", partial, first),
                                       self.edge_comment(k, label)))  # fmt: skip
        gradient = [f"d_{names[n]}" if n in reached else "0.0" for n in tr.inputs.values()]
        lines.append(_return([names[target]], gradient, single=True))
        function = f"{self.base}_adjoint"
        return self._program("adjoint", function, lines, order, target, placement)

    def tangent(self, source):
        tr, tape, names = self.tr, self.tape, self.names
        placement = self.guard_placement()
        outputs = list(dict.fromkeys(tr.outputs))
        nodes = self.needed(outputs)
        relevant = set(outputs)
        for node in reversed(nodes):
            if node in relevant:
                relevant.update(tape.src[self.ends[node] : self.ends[node + 1]])
        reached, order = {source}, []

        def tangent_line(node):
            if node == source:
                return [f"d_{names[node]} = 1.0"]
            if node not in relevant:
                return []
            terms, comments = [], []
            for k in range(self.ends[node], self.ends[node + 1]):
                tail = tape.src[k]
                if tail not in reached:
                    continue
                partial, label = self.partial(k)
                terms.append(_term(f"d_{names[tail]}", partial))
                comments.append(self.edge_comment(k, label))
                order.append((tail, node))
            if not terms:
                return []
            reached.add(node)
            return [_with_comment(f"d_{names[node]} = {ast.unparse(_sum(terms))}", ", ".join(comments))]

        wrt = names[source]
        lines = [f"# the values and their tangents ∂/∂{wrt}, node by node in the tape's order"]
        lines += self.values(nodes, placement, tangent_line)
        values = [names[n] for n in tr.outputs]
        derivatives = [f"d_{names[n]}" if n in reached else "0.0" for n in tr.outputs]
        lines.append(_return(values, derivatives))
        function = f"{self.base}_tangent"
        return self._program("tangent", function, lines, order, source, placement)

    def _program(self, kind, function, lines, order, target, placement):
        parameters = [self.names[n] for n in self.tr.inputs.values()]
        signature = f"def {function}({', '.join(parameters)}):"
        if len(signature) > _WIDTH:  # one parameter a line
            signature = "\n".join([f"def {function}(", *(f"    {p}," for p in parameters), "):"])
        body = "\n".join([signature, *(_indented(line) for line in lines)])
        header = [f'"""The {kind} program of {self.base}, written by pathad.{kind}_source from its trace."""', ""]
        imports = []
        if self.tape.guards:
            imports.append("from pathad.errors import BranchError")
        if self.used:
            used = sorted(self.used)
            imports.append("from pathad.primitives import FLOAT")
            imports += ["", _assignments(used)]
        source = "\n".join([*header, *imports, *([""] * (2 if imports else 1)), body]) + "\n"
        return SourceProgram(kind, self.tr, source, body, function, parameters, order, target, placement)


def _indented(line):
    return "\n".join("    " + part for part in line.split("\n"))


def _assignments(used):
    """``cos, sin = FLOAT.cos, FLOAT.sin``, in lines of at most :data:`_WIDTH` characters."""

    def line(group):
        return f"{', '.join(group)} = {', '.join(f'FLOAT.{n}' for n in group)}"

    lines, group = [], []
    for name in used:
        if group and len(line([*group, name])) > _WIDTH:
            lines.append(line(group))
            group = []
        group.append(name)
    lines.append(line(group))
    return "\n".join(lines)


def _tuple(items):
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _return(values, derivatives, single=False):
    """``return value, (d_x, d_y)`` (``single``) or ``return (values...), (derivatives...)``; one item a line
    when that is too long."""
    line = f"return {values[0] if single else _tuple(values)}, {_tuple(derivatives)}"
    if len(line) + 4 <= _WIDTH:
        return line
    first = [f"    {values[0]},"] if single else ["    (", *(f"        {v}," for v in values), "    ),"]
    return "\n".join(["return (", *first, "    (", *(f"        {d}," for d in derivatives), "    ),", ")"])


def _with_comment(code, comment):
    """``code  # comment``, the comment on a line of its own above when the line would be too long."""
    if not comment:
        return code
    comment = _clean(comment)
    line = f"{code}  # {comment}"
    if len(line) + 4 <= _WIDTH:  # 4: the function body's indentation
        return line
    room = _WIDTH - 4 - 2
    if len(comment) > room:
        comment = comment[: room - 1] + "…"
    return f"# {comment}\n{code}"


def _clean(text):
    """A comment's text on one line: line breaks and other unprintable characters become spaces."""
    return "".join(ch if ch.isprintable() else " " for ch in " ".join(str(text).splitlines()))


def _accumulate(target, adjoint, partial, first):
    """``d_u = d_v * p`` for the first term into ``d_u``, ``d_u += d_v * p`` after (``-=`` for a partial -1)."""
    value = _number(partial)
    if value == 1:
        return f"{target} {'=' if first else '+='} {adjoint}"
    if value == -1:
        return f"{target} = -{adjoint}" if first else f"{target} -= {adjoint}"
    if value == 0:  # the sweep's term is 0 whatever the adjoint (0 annihilates)
        return f"{target} {'=' if first else '+='} 0.0"
    term = ast.unparse(ast.BinOp(ast.Name(adjoint, ast.Load()), ast.Mult(), partial))
    return f"{target} {'=' if first else '+='} {term}"


def _term(tangent, partial):
    """A tangent's term as (sign, AST): ``d_u * p``, ``d_u`` for 1, ``-d_u`` for -1, ``0.0`` for 0."""
    value = _number(partial)
    name = ast.Name(tangent, ast.Load())
    if value == 1:
        return 1, name
    if value == -1:
        return -1, name
    if value == 0:
        return 1, ast.Constant(0.0)
    return 1, ast.BinOp(name, ast.Mult(), partial)


def _sum(terms):
    """The terms added in their order, left to right (``a + b - c``), as the sweep adds them."""
    sign, tree = terms[0]
    total = tree if sign > 0 else ast.UnaryOp(ast.USub(), tree)
    for sign, tree in terms[1:]:
        total = ast.BinOp(total, ast.Add() if sign > 0 else ast.Sub(), tree)
    return total


def _number(tree):
    """The number a folded expression is, or None."""
    if isinstance(tree, ast.Constant) and type(tree.value) in (int, float):
        return tree.value
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub) and isinstance(tree.operand, ast.Constant):
        if type(tree.operand.value) in (int, float):
            return -tree.operand.value
    return None


def _literal(value):
    """A float as an expression: ``2.5``, ``-4.0`` (a minus applied to 4.0), ``float("inf")``."""
    value = float(value)
    if math.isnan(value):
        return ast.Call(ast.Name("float", ast.Load()), [ast.Constant("nan")], [])
    magnitude = abs(value)
    tree = (
        ast.Call(ast.Name("float", ast.Load()), [ast.Constant("inf")], [])
        if math.isinf(value)
        else ast.Constant(magnitude)
    )
    return ast.UnaryOp(ast.USub(), tree) if math.copysign(1.0, value) < 0 else tree


@functools.cache
def _rule_source(rule):
    from .compiled.kernel_source import formula  # the rule's own text, read back (imported on first use)

    return formula(rule)


@functools.cache
def _parsed_rule(rule):
    return ast.parse(_rule_source(rule), mode="eval").body


def _substituted(tree, mapping, used):
    """A new tree: ``a``, ``b``, ``r`` -> (copies of) the operands' and the node's expressions, ``m.name`` ->
    ``name`` (noted in ``used``); the rule's own tree is left as it is."""
    if isinstance(tree, ast.Name):
        if tree.id in mapping:
            return _substituted(mapping[tree.id], {}, used)
        return ast.Name(tree.id, ast.Load())
    if isinstance(tree, ast.Attribute) and isinstance(tree.value, ast.Name) and tree.value.id == "m":
        used.add(tree.attr)
        return ast.Name(tree.attr, ast.Load())
    fields = {}
    for field, value in ast.iter_fields(tree):
        if isinstance(value, list):
            fields[field] = [_substituted(v, mapping, used) if isinstance(v, ast.AST) else v for v in value]
        else:
            fields[field] = _substituted(value, mapping, used) if isinstance(value, ast.AST) else value
    return type(tree)(**fields)


_ARITHMETIC = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
               ast.Div: lambda a, b: a / b}  # fmt: skip
_COMPARISONS = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
                ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}  # fmt: skip


def _fold(tree):
    """The expression with its parts that are plain numbers worked out (``2.0 - 1`` -> ``1.0``; an ``if`` on
    constants -> its branch): the same Python arithmetic on the same numbers as at run time, done once."""
    if isinstance(tree, ast.BinOp):
        tree.left, tree.right = _fold(tree.left), _fold(tree.right)
        a, b = _number(tree.left), _number(tree.right)
        operation = _ARITHMETIC.get(type(tree.op))
        if a is not None and b is not None and operation is not None:
            try:
                return _constant(operation(a, b))
            except ArithmeticError:
                return tree
        return tree
    if isinstance(tree, ast.UnaryOp):
        tree.operand = _fold(tree.operand)
        a = _number(tree.operand)
        if isinstance(tree.op, ast.USub) and a is not None and not isinstance(tree.operand, ast.UnaryOp):
            return tree  # already a negative literal
        if isinstance(tree.op, ast.USub) and a is not None:
            return _constant(-a)
        return tree
    if isinstance(tree, ast.IfExp):
        test = _fold(tree.test)
        if isinstance(test, ast.Constant) and type(test.value) is bool:
            return _fold(tree.body if test.value else tree.orelse)
        tree.test, tree.body, tree.orelse = test, _fold(tree.body), _fold(tree.orelse)
        return tree
    if isinstance(tree, ast.Compare):
        tree.left, tree.comparators = _fold(tree.left), [_fold(c) for c in tree.comparators]
        if len(tree.ops) == 1 and type(tree.ops[0]) in _COMPARISONS:
            a, b = _number(tree.left), _number(tree.comparators[0])
            if a is not None and b is not None:
                return ast.Constant(_COMPARISONS[type(tree.ops[0])](a, b))
        return tree
    if isinstance(tree, ast.Call):
        tree.args = [_fold(a) for a in tree.args]
        return tree
    return tree


def _constant(value):
    if type(value) is int:
        return ast.Constant(value) if value >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return _literal(value)


# --- names ------------------------------------------------------------------------------------------------------


def _function_base(name):
    """The trace's name as the stem of the function's name (``h`` -> ``h_adjoint``), else ``f``."""
    if _usable(name) and not _GENERATED.fullmatch(name):
        return name
    return "f"


def _usable(name):
    return (
        isinstance(name, str)
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name
        and name not in _RESERVED
    )


def _variable(label):
    """A label as a variable name: itself if an identifier, ``v[1,2]`` as ``v_1_2``; None otherwise."""
    if label is None:
        return None
    match = _ELEMENT.fullmatch(label)
    if match:
        label = f"{match[1]}_{match[2].replace(',', '_')}"
    return label if _usable(label) and not _GENERATED.fullmatch(label) else None


def _variables(tr, taken):
    """node -> its variable: inputs first, then the other named nodes, each a free identifier, else ``t<id>``."""
    tape = tr.tape
    names, taken = {}, set(taken)
    inputs = set(tr.inputs.values())
    named = list(tr.inputs.values()) + sorted(n for n in tape.labels if n not in inputs)
    for node in named:
        name = _variable(tape.labels.get(node))
        if name is not None and name not in taken:
            names[node] = name
            taken.add(name)
    for node in range(len(tape.ops)):
        names.setdefault(node, f"t{node}")
    return names


#: Ends every name in a comment's formula while it is written (the formula's algebra juxtaposes a digit and a name).
_MARK = "\u2063"


def _formulas(tape, names):
    """node -> its formula in its operands' variables (``x+4y``): the reader's names of pathad's drawings.

    An operand is shown by its formula when that is short and the operand is
    a ``t<id>`` variable, else by its variable.
    """
    from .draw import Formula, _LabelMath, _text  # draw imports much; only the comments need it

    graph = _build_graph(tape)
    math_ = _LabelMath(4)
    symbols, texts = {}, {}
    for node in range(len(tape.ops)):
        name = Formula.name(names[node] + _MARK)  # v_0·v_1, not v_0v_1: a name ends in no digit
        if tape.ops[node] == "input":
            symbols[node] = name
            continue
        primitive = PRIMITIVES[tape.ops[node]]
        args = [None] * primitive.arity
        for j, constant in tape.consts.get(node, ()):
            args[j] = constant
        for u, _, key in graph.in_edges(node, keys=True):
            args[key] = symbols[u]
        try:
            value = primitive.value(math_, *args)
            text = _text(value, 4).replace(_MARK, "")
        except Exception:  # a formula the drawing's algebra cannot write: the statement says it all
            symbols[node] = name
            continue
        texts[node] = text
        short = isinstance(value, Formula) and len(text) <= 24
        symbols[node] = value if short and _GENERATED.fullmatch(names[node]) else name
    return texts
