"""Concrete semantics: spec expressions and rules compiled to Python functions.

Each guard becomes ``guard(s) -> bool`` and each body ``body(s) -> list`` over a
state held as a plain list of ints (the model's flat slot vector).  Compiling to
source once and calling the result is what makes real-size runs fast enough
(runq 256, dozens of Gs); interpreting the tree on every step is not.
"""

from __future__ import annotations

from spec.lang import Arith, Assign, Bind, BoolOp, Cmp, Const, Expr, Ite, Local, Not, Read, Rule, Stmt, Total, When


class IndexOutOfRange(Exception):
    """A computed index left its field's shape: a bug in a rule, never a model state."""


def _ix(value: int, dim: int, name: str) -> int:
    if not 0 <= value < dim:
        raise IndexOutOfRange(f"{name}: index {value} outside 0..{dim - 1}")
    return value


def expr_src(e: Expr) -> str:
    """Return Python source for ``e`` reading the state list ``s``."""
    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, Read):
        return f"s[{offset_src(e)}]"
    if isinstance(e, Local):
        return f"L_{e.name}"
    if isinstance(e, Arith):
        return f"({expr_src(e.a)} {e.op} {expr_src(e.b)})"
    if isinstance(e, Total):
        return "(" + " + ".join(f"int({expr_src(a)})" for a in e.args) + ")"
    if isinstance(e, Cmp):
        return f"({expr_src(e.a)} {e.op} {expr_src(e.b)})"
    if isinstance(e, BoolOp):
        return "(" + f" {e.op} ".join(f"bool({expr_src(a)})" for a in e.args) + ")"
    if isinstance(e, Not):
        return f"(not {expr_src(e.a)})"
    if isinstance(e, Ite):
        # An Ite chain in the else branch is emitted flat, because the conditional
        # expression is right-associative and one parenthesis per link exceeds the
        # parser's limit of 200 nested parentheses on long tables (runqsteal's
        # grab-count table has runq_size + 1 entries).
        links = []
        while isinstance(e, Ite):
            links.append(f"{expr_src(e.then)} if {expr_src(e.cond)} else")
            e = e.other
        return "(" + " ".join(links) + f" {expr_src(e)})"
    raise TypeError(f"unknown expression {e!r}")


def offset_src(r: Read) -> str:
    off = r.const_offset()
    f = r.field
    if off is not None:
        return str(f.base + off)
    parts = [str(f.base)]
    for ix, stride, dim in zip(r.index, f.strides(), f.shape):
        if isinstance(ix, Const):
            parts.append(str(ix.value * stride))
        else:
            parts.append(f"_ix({expr_src(ix)}, {dim}, {f.name!r}) * {stride}")
    return " + ".join(parts)


def body_src(stmts: list[Stmt], indent: str) -> list[str]:
    lines: list[str] = []
    for st in stmts:
        if isinstance(st, Assign):
            val = expr_src(st.value)
            lines.append(f"{indent}s[{offset_src(st.target)}] = int({val})")
        elif isinstance(st, Bind):
            lines.append(f"{indent}L_{st.name} = int({expr_src(st.value)})")
        elif isinstance(st, When):
            lines.append(f"{indent}if {expr_src(st.cond)}:")
            lines.extend(body_src(list(st.then), indent + "    ") or [indent + "    pass"])
            if st.other:
                lines.append(f"{indent}else:")
                lines.extend(body_src(list(st.other), indent + "    "))
        else:
            raise TypeError(f"unknown statement {st!r}")
    return lines


def compile_expr(e: Expr):
    """Return a function ``f(s)`` evaluating ``e`` on a state list."""
    src = f"def f(s):\n    return {expr_src(e)}\n"
    env = {"_ix": _ix}
    exec(compile(src, "<spec-expr>", "exec"), env)
    return env["f"]


def compile_rule(rule: Rule):
    """Return ``(guard, step)``: ``guard(s) -> bool``; ``step(s) -> new list``."""
    guard = compile_expr(rule.guard)
    lines = ["def step(s):", "    s = list(s)"]
    lines += body_src(rule.body, "    ")
    lines.append("    return s")
    env = {"_ix": _ix}
    exec(compile("\n".join(lines) + "\n", f"<rule {rule.label()}>", "exec"), env)
    return guard, env["step"]


class ConcreteModel:
    """A model's rules and properties compiled for plain-Python execution.

    >>> from spec.scenarios import load_builtin
    >>> from spec.sched.model import build_model
    >>> m = ConcreteModel(build_model(load_builtin("tight-loop-p1")))
    >>> len(m.enabled(m.init)) > 0
    True
    """

    def __init__(self, model) -> None:
        self.model = model
        self.rules: list[Rule] = model.rules
        self.compiled = [compile_rule(r) for r in self.rules]
        self.init: list[int] = list(model.init)
        self.invariants = {p.name: compile_expr(p.expr) for p in model.properties if p.kind == "invariant"}
        self.by_label = {r.label(): i for i, r in enumerate(self.rules)}

    def enabled(self, s) -> list[int]:
        return [i for i, (g, _) in enumerate(self.compiled) if g(s)]

    def step(self, s, i: int) -> list[int]:
        return self.compiled[i][1](s)

    def violated_invariants(self, s) -> list[str]:
        return [name for name, f in self.invariants.items() if not f(s)]
