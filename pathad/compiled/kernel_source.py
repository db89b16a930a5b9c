"""The source text of the numba kernel module, written from the primitive table and :mod:`pathad.compiled.loops`.

Every rule of :data:`pathad.primitives.PRIMITIVES` is one Python expression in
the operands ``a``, ``b``, the result ``r`` and a math namespace ``m``
(``m.cos(a)``, ``b * m.pow(a, b - 1) if b != 0 else 0 * a``).  :func:`formula`
reads that expression back from the rule's own source (the table stays the
one declaration), and :func:`module_source` pastes the formulas into one
dispatch, ``op_values``, with one branch per primitive, each returning the
value and the partials asked for; ``m.name`` becomes a module-level function
``f_name``.  numba then compiles one function of plain arithmetic and math
calls instead of a function per rule, shared by the one-point and the batch
kernels (measured: 13 s of compiling for both instead of 27 s with the
dispatch pasted into each kernel, and 45 s with a function per rule, at the
same replay speed), and, the module being a file, caches it on disk.

Examples
--------
>>> from pathad.primitives import PRIMITIVES
>>> formula(PRIMITIVES["sin"].partials[0]), formula(PRIMITIVES["div"].partials[1])
('m.cos(a)', '-r / b')
>>> formula(PRIMITIVES["sin"].value)
'm.sin(a)'
"""

import ast
import functools
import inspect
import types

from ..primitives import BINARY, UNARY, is_zero_rule, namespace_functions
from . import loops, second_loops, vector_loops
from .freeze import CODE

__all__ = ["formula", "module_source", "compiled_functions", "lean_pipeline"]


def formula(rule):
    """The expression a rule returns, as source text in ``m``, the operands ``a``, ``b`` and the result ``r``.

    Raises
    ------
    ValueError
        If the rule is not one expression (a ``lambda`` or a ``def`` whose
        body is a single ``return``): the compiled kernels could not use it.
    """
    if getattr(rule, "formula", None):  # a rule made from text (pathad.primitives._calling)
        return rule.formula
    node = _expression_node(rule)
    if node is None:
        raise ValueError(f"the rule {rule.__qualname__} of the primitive table is not one expression")
    return ast.unparse(node)


def _expression_node(rule):
    try:
        source_file = inspect.getsourcefile(rule)
    except TypeError:
        return None
    functions, lambdas = _parsed(source_file)
    if rule.__name__ != "<lambda>":
        node = functions.get((rule.__name__, _def_line(rule)))
        if node is None:
            return None
        body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        return body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else None
    for node in lambdas.get(rule.__code__.co_firstlineno, ()):  # the lambda whose compiled code is this rule's
        if _same_code(rule, node, source_file):
            return node.body
    return None


def _def_line(rule):
    lines, start = inspect.getsourcelines(rule)
    return start + next(i for i, text in enumerate(lines) if text.lstrip().startswith("def "))


@functools.cache
def _parsed(source_file):
    """The file's functions by (name, line of ``def``) and its lambdas by first line."""
    with open(source_file, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    functions, lambdas = {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            functions[node.name, node.lineno] = node
        elif isinstance(node, ast.Lambda):
            lambdas.setdefault(node.lineno, []).append(node)
    return functions, lambdas


def _same_code(rule, node, source_file):
    code = compile(ast.Expression(node), source_file, "eval").co_consts[0]
    mine = rule.__code__
    return (code.co_code, code.co_names, code.co_consts, code.co_varnames) == (
        mine.co_code, mine.co_names, mine.co_consts, mine.co_varnames)  # fmt: skip


class _Kernelized(ast.NodeTransformer):
    """``m.name`` -> ``f_name`` (the namespace's functions are module-level names of the kernel module), and the
    operands and result ``a``, ``b``, ``r`` -> ``a_``, ``b_``, ``r_`` (the loop's own ``a``, ``b`` are slots)."""

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "m":
            return ast.Name(f"f_{node.attr}", ast.Load())
        return node

    def visit_Name(self, node):
        return ast.Name(f"{node.id}_", node.ctx) if node.id in ("a", "b", "r") else node


def _kernel_expression(rule):
    return ast.unparse(_Kernelized().visit(ast.parse(formula(rule), mode="eval")))


def _numba_pow(a, b):
    # the exponents a rule meets most, each exact and several times cheaper than the C pow: a⁰ is 1 for every a
    # (nan too, as C's pow); a¹ is a (the C pow is within an ulp, so it returns a itself); a² is the product a·a,
    # correctly rounded, where glibc's pow is off by an ulp for about 1 value in 1,000.
    if b == 2.0:
        return a * a
    if b == 1.0:
        return a
    if b == 0.0:
        return 1.0
    return a**b  # numba's a**b is C's pow: nan for a negative base with a fractional exponent


def compiled_functions():
    """The math namespace the kernels call, by name: the table's float implementations that numba compiles."""
    functions = namespace_functions("compiled")
    functions["pow"] = _numba_pow
    return functions


@functools.cache
def lean_pipeline():
    """numba's nopython compiler without the passes that the kernels' plain loops over numbers and arrays do not use.

    Left out: SSA reconstruction (numba types a variable assigned in several
    branches by unifying its types, as it did before it had SSA), literal
    unrolling and propagation, dead-branch pruning, the array-expression
    rewrites, ``with`` lifting and the parfor and diagnostics passes; the
    flag ``no_rewrites`` also leaves the rewrites out for the helpers numba
    inlines into the dispatch.  These passes took more than half of the
    dispatch's compile (8.2 s instead of 18.9 s, measured in turns on a
    loaded machine; a whole first process about 1 s of CPU less), while
    LLVM, which makes the machine code, runs as before: the replay is as
    fast.  The kernels' text is in the cache key, and so is this file.
    A numba whose passes are named otherwise gets its own full pipeline.
    """
    from numba.core import compiler, compiler_machinery, typed_passes, untyped_passes

    try:
        steps = (untyped_passes.TranslateByteCode, untyped_passes.FixupArgs, untyped_passes.IRProcessing,
                 untyped_passes.InlineClosureLikes, untyped_passes.InlineInlinables,
                 typed_passes.NopythonTypeInference, typed_passes.InlineOverloads,
                 typed_passes.NoPythonSupportedFeatureValidation, typed_passes.IRLegalization,
                 typed_passes.AnnotateTypes, typed_passes.NativeLowering, typed_passes.NoPythonBackend)  # fmt: skip
    except AttributeError:
        return compiler.Compiler

    class Lean(compiler.CompilerBase):
        def define_pipelines(self):
            self.state.flags.no_rewrites = True
            manager = compiler_machinery.PassManager("pathad")
            for step in steps:
                manager.add_pass(step, step.__name__)
            manager.finalize()
            return [manager]

    return Lean


def _dispatch_lines():
    """``op_values(c, a_, b_, need_p, need_q) -> (value, ∂/∂a, ∂/∂b)``, one branch per primitive, each returning."""
    lines = ["def op_values(c, a_, b_, need_p, need_q):"]
    for p in UNARY + BINARY:
        second = f"float({_kernel_expression(p.partials[1])}) if need_q else 0.0" if p.arity == 2 else "0.0"
        lines += [
            f"    if c == {CODE[p.name]}:  # {p.name}",
            f"        r_ = float({_kernel_expression(p.value)})",
            f"        return r_, float({_kernel_expression(p.partials[0])}) if need_p else 0.0, {second}",
        ]
    lines.append("    return nan, nan, nan  # an unknown op code")
    return lines


def _second_lines():
    """``op_second(c, a_, b_, r_, need_aa, need_ab, need_bb) -> (∂²/∂a², ∂²/∂a∂b, ∂²/∂b²)``, one branch per
    primitive with a second partial that is not the zero rule; the ones not needed (or zero) are 0."""
    lines = ["def op_second(c, a_, b_, r_, need_aa, need_ab, need_bb):"]
    for p in UNARY + BINARY:
        if all(map(is_zero_rule, p.second)):
            continue
        parts = [
            "0.0" if is_zero_rule(rule) else f"float({_kernel_expression(rule)}) if {need} else 0.0"
            for rule, need in zip(p.second, ("need_aa", "need_ab", "need_bb"))
        ]
        parts += ["0.0"] * (3 - len(parts))
        lines += [f"    if c == {CODE[p.name]}:  # {p.name}", f"        return {', '.join(parts)}"]
    lines.append("    return nan, nan, nan  # a linear op (never asked) or an unknown op code")
    return lines


def _program_source(name, batch):
    """:func:`~pathad.compiled.loops.run_units` as the kernel ``name``, the lane count fixed to ``batch``."""
    text = inspect.getsource(loops.run_units)
    replacements = [
        ("def run_units(single, ", f"def {name}("),
        ("    batch = 1 if single else values.shape[1]\n", f"    batch = {batch}\n"),
    ]  # fmt: skip
    for old, new in replacements:
        if text.count(old) != 1:
            raise AssertionError(f"pathad.compiled.loops.run_units no longer has the line {old.strip()!r}")
        text = text.replace(old, new)
    return text


def _namespace_lines():
    lines = []
    for name, function in compiled_functions().items():
        if isinstance(function, types.FunctionType):
            lines.append(f"f_{name} = _inline(_FUNCTIONS[{name!r}])")
        else:  # a math builtin: numba knows it
            lines.append(f"f_{name} = _FUNCTIONS[{name!r}]")
    return lines


_FOOTER = """
# --- compiled: the dispatch and the helpers inlined, the entry points cached on disk ---
op_values = _plain(op_values)  # one compiled dispatch, shared by both replay kernels
annihilated = _plain(annihilated)  # numbers only: no reference counts, and LLVM inlines it
clear = _inline(clear)  # an array argument: inlined by numba, no call and no reference counting
plus, times, sweep_one = _plain(plus), _plain(times), _plain(sweep_one)
program_one, program_batch = _cached(program_one), _cached(program_batch)
op_second = _plain(op_second)
second_points, second_lanes = _cached(second_points), _cached(second_lanes)
symmetric_entries, vector_points = _cached(symmetric_entries), _cached(vector_points)
depths, sweep = _cached(depths), _cached(sweep)
"""


def module_source():
    """The kernel module's full text: header, the namespace, :mod:`~pathad.compiled.loops` and
    :mod:`~pathad.compiled.second_loops` and :mod:`~pathad.compiled.vector_loops`, the two dispatches, the
    replay kernels, footer.

    Fixed text from pathad's own table and files; nothing of a user's goes in.
    """
    header = [
        "# Generated by pathad.compiled.kernel_source from pathad's primitive table and loops.py: do not edit.",
        "# numba compiles it once per machine and keeps the machine code beside it (cache=True).",
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "",
        "from pathad.compiled.kernel_source import compiled_functions, lean_pipeline",
        "",
        "_LEAN = lean_pipeline()",
        '_inline = numba.njit(error_model="numpy", inline="always", pipeline_class=_LEAN)',
        '_plain = numba.njit(error_model="numpy", pipeline_class=_LEAN)',
        '_cached = numba.njit(error_model="numpy", cache=True, pipeline_class=_LEAN)',
        "_FUNCTIONS = compiled_functions()",
        "nan = math.nan",
        *_namespace_lines(),
        "",
        "# --- pathad/compiled/loops.py, verbatim ---",
    ]
    programs = [_program_source("program_one", "1"), _program_source("program_batch", "values.shape[1]")]
    return "\n".join(
        [
            *header,
            inspect.getsource(loops),
            "",
            "# --- pathad/compiled/second_loops.py, verbatim ---",
            inspect.getsource(second_loops),
            "",
            "# --- pathad/compiled/vector_loops.py, verbatim ---",
            inspect.getsource(vector_loops),
            "",
            *_dispatch_lines(),
            "",
            *_second_lines(),
            "",
            "# --- the replay kernels ---",
            *programs,
            _FOOTER,
        ]
    )
