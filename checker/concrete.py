"""Concrete semantics: spec expressions and rules compiled to Python functions.

Each guard becomes ``guard(s) -> bool`` and each body ``body(s) -> list`` over a
state held as a plain list of ints (the model's flat slot vector).  Compiling to
source once and calling the result is what makes real-size runs fast enough
(runq 256, dozens of Gs); interpreting the tree on every step is not.
"""

from __future__ import annotations

from spec.lang import (Arith, Assign, Bind, BoolOp, Call, Cmp, Const, Expr, Ite, Local, Named, Not, Read, Rule,
                       Stmt, Total, When)


class IndexOutOfRange(Exception):
    """A computed index left its field's shape: a bug in a rule, never a model state."""


def _ix(value: int, dim: int, name: str) -> int:
    if not 0 <= value < dim:
        raise IndexOutOfRange(f"{name}: index {value} outside 0..{dim - 1}")
    return value


def expr_src(e: Expr, inline: bool = False, hook=None) -> str:
    """Return Python source for ``e`` reading the state list ``s``.

    ``inline`` expands Named expressions in place: rule bodies change ``s`` as
    they run, so the per-state cache of a Named function would go stale there.
    ``hook``, if given, may return source to use for a subexpression of ``e``
    (never for ``e`` itself) or None to emit it as usual.
    """
    def sub(x: Expr) -> str:
        if hook is not None:
            r = hook(x)
            if r is not None:
                return r
        return expr_src(x, inline, hook)

    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, Read):
        return f"s[{offset_src(e, inline, sub)}]"
    if isinstance(e, Local):
        return f"L_{e.name}"
    if isinstance(e, Named):
        return expr_src(e.expr, True) if inline else f"N_{e.name}(s)"
    if isinstance(e, Arith):
        return f"({sub(e.a)} {e.op} {sub(e.b)})"
    if isinstance(e, Total):
        # Booleans add as 0 and 1, so the operands need no conversion.
        return "(" + " + ".join(sub(a) for a in e.args) + ")"
    if isinstance(e, Cmp):
        return f"({sub(e.a)} {e.op} {sub(e.b)})"
    if isinstance(e, BoolOp):
        # Python's and/or return an operand, so operands that are not already
        # booleans are converted: a BoolOp may be added up by a Total.
        return "(" + f" {e.op} ".join(sub(a) if isinstance(a, _BOOLEAN) else f"bool({sub(a)})"
                                      for a in e.args) + ")"
    if isinstance(e, Not):
        return f"(not {sub(e.a)})"
    if isinstance(e, Ite):
        # An Ite chain in the else branch is emitted flat.  The conditional expression
        # is right-associative, and one parenthesis per link would exceed the
        # parser's limit of 200 nested parentheses on long chains, such as a
        # lookup table over the 257 possible lengths of a 256-slot ring.
        links = []
        while isinstance(e, Ite):
            links.append(f"{sub(e.then)} if {sub(e.cond)} else")
            e = e.other
        return "(" + " ".join(links) + f" {sub(e)})"
    raise TypeError(f"unknown expression {e!r}")


_BOOLEAN = (Cmp, BoolOp, Not)


def _children(e: Expr) -> tuple:
    if isinstance(e, Read):
        return tuple(e.index)
    if isinstance(e, (Arith, Cmp)):
        return (e.a, e.b)
    if isinstance(e, (BoolOp, Total)):
        return tuple(e.args)
    if isinstance(e, Not):
        return (e.a,)
    if isinstance(e, Ite):
        return (e.cond, e.then, e.other)
    return ()


def shared_src(e: Expr) -> tuple[list[str], str]:
    """Return ``(lines, source)`` for ``e`` with its repeated subexpressions hoisted.

    A subexpression that occurs more than once (by its source text) becomes a
    local assigned once in ``lines``; ``source`` refers to it by name.  Only
    subexpressions whose reads all have constant indices are hoisted: they are
    evaluated before ``e`` and unconditionally, which is safe for them alone
    (a computed index may be out of range on a branch that ``e`` never takes).
    Invariants over a 256-slot ring repeat the ring's length in every slot's
    test, so this removes most of their work.
    """
    canon: dict[int, str] = {}
    safe: dict[int, bool] = {}
    counts: dict[str, int] = {}
    order: list[Expr] = []
    # Iterative post-order walk: an Ite chain over a 256-slot ring is hundreds of
    # links deep, close to Python's default recursion limit of 1000.
    stack = [(e, False)]
    while stack:
        x, expanded = stack.pop()
        if id(x) in canon:
            continue
        if not expanded:
            stack.append((x, True))
            stack.extend((c, False) for c in _children(x) if id(c) not in canon)
            continue
        kids = _children(x)
        ok = not isinstance(x, Local) and all(safe[id(c)] for c in kids)
        if isinstance(x, Read):
            ok = ok and x.const_offset() is not None
        safe[id(x)] = ok
        canon[id(x)] = expr_src(x, hook=lambda c: canon.get(id(c)))
        order.append(x)
    # Occurrences are counted per reference, so a node object shared by two
    # parents counts twice.
    for x in order:
        for c in _children(x):
            if _worth_a_local(c) and safe[id(c)]:
                counts[canon[id(c)]] = counts.get(canon[id(c)], 0) + 1
    names: dict[str, str] = {}
    lines: list[str] = []

    def hook(x: Expr):
        key = canon[id(x)]
        if counts.get(key, 0) < 2:
            return None
        if key not in names:
            src = expr_src(x, hook=hook)
            names[key] = f"c{len(names)}"
            lines.append(f"{names[key]} = {src}")
        return names[key]

    return lines, expr_src(e, hook=hook)


def _worth_a_local(x: Expr) -> bool:
    """Tell whether ``x`` is worth a local: an operation, not a constant or a plain read."""
    return isinstance(x, (Arith, Total, Cmp, BoolOp, Not, Ite))


def offset_src(r: Read, inline: bool = False, sub=None) -> str:
    off = r.const_offset()
    f = r.field
    if off is not None:
        return str(f.base + off)
    parts = [str(f.base)]
    for ix, stride, dim in zip(r.index, f.strides(), f.shape):
        if isinstance(ix, Const):
            parts.append(str(ix.value * stride))
        else:
            ix_src = sub(ix) if sub is not None else expr_src(ix, inline)
            parts.append(f"_ix({ix_src}, {dim}, {f.name!r}) * {stride}")
    return " + ".join(parts)


def body_src(stmts: list[Stmt], indent: str) -> list[str]:
    lines: list[str] = []
    for st in stmts:
        if isinstance(st, Assign):
            val = expr_src(st.value, True)
            lines.append(f"{indent}s[{offset_src(st.target, True)}] = int({val})")
        elif isinstance(st, Bind):
            lines.append(f"{indent}L_{st.name} = int({expr_src(st.value, True)})")
        elif isinstance(st, Call):
            args = "".join(f", {expr_src(a, True)}" for a in st.args)
            lines.append(f"{indent}P_{st.proc.name}(s{args})")
        elif isinstance(st, When):
            lines.append(f"{indent}if {expr_src(st.cond, True)}:")
            lines.extend(body_src(list(st.then), indent + "    ") or [indent + "    pass"])
            if st.other:
                lines.append(f"{indent}else:")
                lines.extend(body_src(list(st.other), indent + "    "))
        else:
            raise TypeError(f"unknown statement {st!r}")
    return lines


class Compiler:
    """Compiles expressions and rules, sharing one Python function per Named
    expression and per Proc among all the code it generates."""

    def __init__(self) -> None:
        self.env: dict = {"_ix": _ix}
        self.done: set[str] = set()

    def _deps(self, node) -> None:
        """Compile the Named expressions and Procs that ``node`` uses, once each."""
        stack = [node]
        while stack:
            x = stack.pop()
            if isinstance(x, Named):
                if "N_" + x.name not in self.done:
                    self.done.add("N_" + x.name)
                    self._deps(x.expr)
                    self._named(x)
                continue
            if isinstance(x, Call):
                if "P_" + x.proc.name not in self.done:
                    self.done.add("P_" + x.proc.name)
                    for st in x.proc.body:
                        self._deps(st)
                    self._proc(x.proc)
                stack.extend(x.args)
                continue
            if isinstance(x, (list, tuple)):
                stack.extend(x)
            elif isinstance(x, Assign):
                stack += [x.target, x.value]
            elif isinstance(x, Bind):
                stack.append(x.value)
            elif isinstance(x, When):
                stack += [x.cond, *x.then, *x.other]
            elif isinstance(x, Read):
                stack.extend(x.index)
            elif isinstance(x, (Arith, Cmp)):
                stack += [x.a, x.b]
            elif isinstance(x, (BoolOp, Total)):
                stack.extend(x.args)
            elif isinstance(x, Not):
                stack.append(x.a)
            elif isinstance(x, Ite):
                stack += [x.cond, x.then, x.other]

    def _named(self, n: Named) -> None:
        # Evaluated once per state: the cache keeps the last state object seen.
        src = (f"def N_{n.name}(s, _last=[None, None]):\n"
               f"    if _last[0] is s:\n        return _last[1]\n"
               f"    v = {expr_src(n.expr)}\n    _last[0] = s\n    _last[1] = v\n    return v\n")
        exec(compile(src, f"<named {n.name}>", "exec"), self.env)

    def _proc(self, p) -> None:
        params = "".join(f", L_{a}" for a in p.params)
        lines = [f"def P_{p.name}(s{params}):"] + (body_src(p.body, "    ") or ["    pass"])
        exec(compile("\n".join(lines) + "\n", f"<proc {p.name}>", "exec"), self.env)

    def expr(self, e: Expr, hoist: bool = False):
        """Return a function ``f(s)`` evaluating ``e`` on a state list.

        ``hoist`` evaluates repeated subexpressions once, up front (see
        ``shared_src``).  That suits large invariants; a guard usually fails at
        its first conjunct, so it is compiled without.
        """
        self._deps(e)
        lines, body = shared_src(e) if hoist else ([], expr_src(e))
        src = "def f(s):\n" + "".join(f"    {ln}\n" for ln in lines) + f"    return {body}\n"
        exec(compile(src, "<spec-expr>", "exec"), self.env)
        return self.env.pop("f")

    def rule(self, rule: Rule, copy: str = "list"):
        """Return ``(guard, step)``: ``guard(s) -> bool``; ``step(s) -> new list``.

        ``copy`` names the function, in this compiler's ``env``, that copies the
        state at the start of ``step``.
        """
        guard = self.expr(rule.guard)
        self._deps(rule.body)
        lines = ["def step(s):", f"    s = {copy}(s)"] + body_src(rule.body, "    ") + ["    return s"]
        exec(compile("\n".join(lines) + "\n", f"<rule {rule.label()}>", "exec"), self.env)
        return guard, self.env.pop("step")


def compile_expr(e: Expr):
    """Return a function ``f(s)`` evaluating ``e`` on a state list."""
    return Compiler().expr(e)


def compile_rule(rule: Rule):
    """Return ``(guard, step)`` for one rule, compiled on its own."""
    return Compiler().rule(rule)


def _conjuncts(e: Expr):
    if isinstance(e, BoolOp) and e.op == "and":
        for a in e.args:
            yield from _conjuncts(a)
    else:
        yield e


class ConcreteModel:
    """A model's rules and properties compiled for plain-Python execution.

    States are values: ``step`` returns a new list and callers never change a
    state list in place once it has been passed in, because shared expressions
    (``Named``) cache their value for the last state object they saw.

    >>> from spec.scenario import load_builtin
    >>> from spec.sched.model import build_model
    >>> m = ConcreteModel(build_model(load_builtin("tight-loop-p1")))
    >>> len(m.enabled(m.init)) > 0
    True
    """

    def __init__(self, model) -> None:
        self.model = model
        self.rules: list[Rule] = model.rules
        # One compiler for the whole model, so each Named expression (the "calm"
        # conjunct of every non-urgent guard) is compiled once.
        compiler = Compiler()
        self.compiled = [compiler.rule(r) for r in self.rules]
        self.init: list[int] = list(model.init)
        self.invariants = {p.name: compiler.expr(p.expr, hoist=True) for p in model.properties if p.kind == "invariant"}
        self.by_label = {r.label(): i for i, r in enumerate(self.rules)}
        if len(self.by_label) != len(self.rules):
            seen: set = set()
            dup = next(r.label() for r in self.rules if r.label() in seen or seen.add(r.label()))
            raise ValueError(f"two rule instances share the label {dup}; traces could not name them apart")
        self._index_guards()

    def _index_guards(self) -> None:
        """Index rules by one ``slot == constant`` conjunct of their guard.

        enabled() then evaluates only the rules whose indexed conjunct holds; the
        others are false without evaluation.  The choice of conjunct changes
        speed only, never the result.
        """
        ranges = self.model.layout.slot_ranges()
        self.keyed: dict[int, dict[int, list[int]]] = {}
        self.unkeyed: list[int] = []
        for i, r in enumerate(self.rules):
            best = None
            for c in _conjuncts(r.guard):
                if isinstance(c, Cmp) and c.op == "==" and isinstance(c.a, Read) and isinstance(c.b, Const):
                    off = c.a.const_offset()
                    if off is None:
                        continue
                    slot = c.a.field.base + off
                    width = ranges[slot][1] - ranges[slot][0]
                    if best is None or width > best[0]:
                        best = (width, slot, c.b.value)
            if best is None:
                self.unkeyed.append(i)
            else:
                self.keyed.setdefault(best[1], {}).setdefault(best[2], []).append(i)

    def enabled(self, s) -> list[int]:
        cands = list(self.unkeyed)
        for slot, by_value in self.keyed.items():
            cands.extend(by_value.get(s[slot], ()))
        cands.sort()
        compiled = self.compiled
        return [i for i in cands if compiled[i][0](s)]

    def step(self, s, i: int) -> list[int]:
        return self.compiled[i][1](s)

    def violated_invariants(self, s) -> list[str]:
        return [name for name, f in self.invariants.items() if not f(s)]
