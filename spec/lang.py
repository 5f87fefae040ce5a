"""The modelling language: typed state layout, expressions, statements and rules.

Every runtime rule in spec/ is written once in this language.  checker/ compiles
the same objects twice: to Python (the concrete semantics, used for replay and
property tests at real sizes) and to z3 terms (the symbolic semantics, used for
bounded model checking at small sizes).  Nothing here imports either engine.

The state is a flat vector of integer slots.  A ``Field`` names a block of slots
with a shape (a scalar has shape ``()``, a per-P ring has shape ``(P, cap)``) and
an inclusive value range.  Expressions read fields with constant or computed
indices; statements assign to them.  A rule is a guarded command whose body is a
straight-line program of assignments and conditionals, run in order: each
statement sees the effects of the ones before it, as the runtime function does.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Iterable, Sequence, Union


# ---------------------------------------------------------------------------
# State layout

@dataclass(frozen=True)
class Field:
    """A named block of integer slots with a shape and an inclusive range."""

    name: str
    shape: tuple[int, ...]
    lo: int
    hi: int
    base: int = 0
    doc: str = ""

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def strides(self) -> tuple[int, ...]:
        out = []
        acc = 1
        for d in reversed(self.shape):
            out.append(acc)
            acc *= d
        return tuple(reversed(out))

    def slot_name(self, offset: int) -> str:
        if not self.shape:
            return self.name
        idx = []
        for stride, dim in zip(self.strides(), self.shape):
            idx.append(offset // stride % dim)
        return self.name + "".join(f"[{i}]" for i in idx)

    def __getitem__(self, idx) -> "Read":
        if not isinstance(idx, tuple):
            idx = (idx,)
        return Read(self, tuple(i if isinstance(i, Expr) else lift(i) for i in idx))

    def __call__(self) -> "Read":
        return Read(self, ())


class Layout:
    """The ordered set of fields that make up a model's state vector."""

    def __init__(self) -> None:
        self.fields: dict[str, Field] = {}
        self.size = 0

    def add(self, name: str, shape: Sequence[int], lo: int, hi: int, doc: str = "") -> Field:
        if name in self.fields:
            raise ValueError(f"field {name!r} declared twice")
        if lo > hi:
            raise ValueError(f"field {name!r}: empty range {lo}..{hi}")
        f = Field(name, tuple(shape), lo, hi, self.size, doc)
        self.fields[name] = f
        self.size += f.size
        return f

    def slot_names(self) -> list[str]:
        names = []
        for f in self.fields.values():
            names.extend(f.slot_name(i) for i in range(f.size))
        return names

    def slot_ranges(self) -> list[tuple[int, int]]:
        out = []
        for f in self.fields.values():
            out.extend([(f.lo, f.hi)] * f.size)
        return out

    def field_of_slot(self, slot: int) -> Field:
        for f in self.fields.values():
            if f.base <= slot < f.base + f.size:
                return f
        raise IndexError(slot)


# ---------------------------------------------------------------------------
# Expressions

class Expr:
    """Base class of expressions; operators build new expressions."""

    def __add__(self, o): return Arith("+", self, lift(o))
    def __radd__(self, o): return Arith("+", lift(o), self)
    def __sub__(self, o): return Arith("-", self, lift(o))
    def __rsub__(self, o): return Arith("-", lift(o), self)
    def __mul__(self, o): return Arith("*", self, lift(o))
    def __rmul__(self, o): return Arith("*", lift(o), self)

    def __floordiv__(self, o):
        if not isinstance(o, int) or o <= 0:
            raise TypeError("only division by a positive integer constant is supported")
        return Arith("//", self, Const(o))
    def eq(self, o): return Cmp("==", self, lift(o))
    def ne(self, o): return Cmp("!=", self, lift(o))
    def __lt__(self, o): return Cmp("<", self, lift(o))
    def __le__(self, o): return Cmp("<=", self, lift(o))
    def __gt__(self, o): return Cmp("<", lift(o), self)
    def __ge__(self, o): return Cmp("<=", lift(o), self)
    def __and__(self, o): return And(self, o)
    def __or__(self, o): return Or(self, o)
    def __invert__(self): return Neg(self)
    __hash__ = object.__hash__


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: int


@dataclass(frozen=True, eq=False)
class Read(Expr):
    field: Field
    index: tuple[Expr, ...]

    def __post_init__(self):
        shape = self.field.shape
        if len(self.index) != len(shape):
            raise ValueError(f"field {self.field.name!r} has {len(shape)} indices, got {len(self.index)}")
        for i, ix in enumerate(self.index):
            if type(ix) is Const and not 0 <= ix.value < shape[i]:
                raise IndexError(f"{self.field.name}: index {i} = {ix.value} outside 0..{shape[i] - 1}")

    def const_offset(self) -> int | None:
        """The slot offset when every index is a constant, else None."""
        off = 0
        for ix, stride in zip(self.index, self.field.strides()):
            if not isinstance(ix, Const):
                return None
            off += ix.value * stride
        return off


@dataclass(frozen=True, eq=False)
class Arith(Expr):
    op: str  # + - * // (// only by a positive constant)
    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False)
class Total(Expr):
    """The sum of many terms, kept flat so large sums stay shallow."""

    args: tuple[Expr, ...]


@dataclass(frozen=True, eq=False)
class Cmp(Expr):
    op: str  # == != < <=
    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False)
class BoolOp(Expr):
    op: str  # and / or
    args: tuple[Expr, ...]


@dataclass(frozen=True, eq=False)
class Not(Expr):
    a: Expr


@dataclass(frozen=True, eq=False)
class Local(Expr):
    """A value bound earlier in the same rule body by ``Bind``."""

    name: str


@dataclass(frozen=True, eq=False)
class Named(Expr):
    """A subexpression shared by many guards, compiled once and evaluated once per state."""

    name: str
    expr: Expr


@dataclass(frozen=True, eq=False)
class Ite(Expr):
    cond: Expr
    then: Expr
    other: Expr


TRUE = Const(1)
FALSE = Const(0)
ExprLike = Union[Expr, int, bool]


def lift(x: ExprLike) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool):
        return TRUE if x else FALSE
    if isinstance(x, int):
        return Const(x)
    raise TypeError(f"cannot use {x!r} as an expression")


def And(*args: ExprLike) -> Expr:
    flat = [lift(a) for a in args if not (isinstance(a, bool) and a)]
    flat = [a for a in flat if not (isinstance(a, Const) and a.value == 1)]
    if any(isinstance(a, Const) and a.value == 0 for a in flat):
        return FALSE
    if not flat:
        return TRUE
    if len(flat) == 1:
        return flat[0]
    return BoolOp("and", tuple(flat))


def Or(*args: ExprLike) -> Expr:
    flat = [lift(a) for a in args if not (isinstance(a, bool) and not a)]
    flat = [a for a in flat if not (isinstance(a, Const) and a.value == 0)]
    if any(isinstance(a, Const) and a.value == 1 for a in flat):
        return TRUE
    if not flat:
        return FALSE
    if len(flat) == 1:
        return flat[0]
    return BoolOp("or", tuple(flat))


def Neg(a: ExprLike) -> Expr:
    a = lift(a)
    if isinstance(a, Const):
        return FALSE if a.value else TRUE
    return Not(a)


def If(cond: ExprLike, then: ExprLike, other: ExprLike) -> Expr:
    cond = lift(cond)
    if isinstance(cond, Const):
        return lift(then) if cond.value else lift(other)
    return Ite(cond, lift(then), lift(other))


def Min(a: ExprLike, b: ExprLike) -> Expr:
    a, b = lift(a), lift(b)
    return If(a <= b, a, b)


def Max(a: ExprLike, b: ExprLike) -> Expr:
    a, b = lift(a), lift(b)
    return If(b <= a, a, b)


def Sum(items: Iterable[ExprLike]) -> Expr:
    args = tuple(lift(i) for i in items)
    if not args:
        return Const(0)
    if len(args) == 1:
        return args[0]
    return Total(args)


def Count(conds: Iterable[ExprLike]) -> Expr:
    return Sum(If(c, 1, 0) for c in conds)


def In(e: ExprLike, values: Iterable[int]) -> Expr:
    e = lift(e)
    return Or(*[e.eq(v) for v in values])


# ---------------------------------------------------------------------------
# Statements and rules

@dataclass(frozen=True)
class Assign:
    target: Read
    value: Expr


@dataclass(frozen=True)
class When:
    """Run ``then`` if ``cond`` holds, else ``other``; both see the state so far."""

    cond: Expr
    then: tuple
    other: tuple = ()


@dataclass(frozen=True)
class Bind:
    """Name the value of ``value`` in the state so far, for later statements of the body.

    A name bound inside a ``When`` branch is visible only in that branch.
    """

    name: str
    value: Expr


@dataclass(eq=False)
class Proc:
    """A statement sequence shared by many rules, like a runtime helper function.

    ``params`` name the locals the body reads; a ``Call`` binds them.  Names the
    body binds stay inside it.
    """

    name: str
    params: tuple[str, ...]
    body: list


@dataclass(frozen=True)
class Call:
    proc: Proc
    args: tuple


Stmt = Union[Assign, When, Bind, Call]


def let(name: str, value: ExprLike) -> tuple[Bind, Local]:
    return Bind(name, lift(value)), Local(name)


def set_(target: Read, value: ExprLike) -> Assign:
    if not isinstance(target, Read):
        raise TypeError("only a field read can be assigned")
    return Assign(target, lift(value))


def when(cond: ExprLike, then: Sequence[Stmt], other: Sequence[Stmt] = ()) -> When:
    return When(lift(cond), tuple(flatten(then)), tuple(flatten(other)))


def call(proc: Proc, *args: ExprLike) -> Call:
    if len(args) != len(proc.params):
        raise TypeError(f"{proc.name} takes {len(proc.params)} arguments, got {len(args)}")
    return Call(proc, tuple(lift(a) for a in args))


def flatten(stmts) -> list[Stmt]:
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, (list, tuple)):
            out.extend(flatten(s))
        elif s is not None:
            out.append(s)
    return out


@dataclass
class Rule:
    """One instance of a guarded command.

    ``name`` is the runtime function (or the step of it) the rule models;
    ``params`` are the process indices it was instantiated with (P, G, ...);
    ``urgent`` rules take no time: the clock cannot advance while one is enabled.
    """

    name: str
    params: dict
    guard: Expr
    body: list[Stmt]
    urgent: bool = True
    doc: str = ""
    cite: str = ""
    tags: tuple = ()

    def __post_init__(self):
        self.body = flatten(self.body)

    def label(self) -> str:
        if not self.params:
            return self.name
        inner = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({inner})"

    def writes(self) -> set[int]:
        """Slots this rule may assign (every slot of a field written with a computed index)."""
        out: set[int] = set()

        def visit(stmts):
            for s in stmts:
                if isinstance(s, Assign):
                    off = s.target.const_offset()
                    f = s.target.field
                    if off is None:
                        out.update(range(f.base, f.base + f.size))
                    else:
                        out.add(f.base + off)
                elif isinstance(s, When):
                    visit(s.then)
                    visit(s.other)
                elif isinstance(s, Call):
                    visit(s.proc.body)
        visit(self.body)
        return out

    def reads(self) -> set[int]:
        """Slots the guard or the body may read (every slot of a field read with a computed index)."""
        return slots_read([self.guard, *self.body])


def slots_read(node) -> set[int]:
    """Slots an expression, statement or list of them may read.

    A read with a computed index counts as a read of every slot of its field;
    shared expressions and procedure bodies are followed.
    """
    out: set[int] = set()
    stack = [node]
    seen: set[int] = set()
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
            continue
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, Read):
            f = x.field
            off = x.const_offset()
            out.update(range(f.base, f.base + f.size) if off is None else (f.base + off,))
            stack.extend(x.index)
        elif isinstance(x, Named):
            stack.append(x.expr)
        elif isinstance(x, Call):
            stack.extend(x.args)
            stack.extend(x.proc.body)
        elif isinstance(x, Assign):
            stack.append(x.value)
            stack.extend(x.target.index)
        elif isinstance(x, Bind):
            stack.append(x.value)
        elif isinstance(x, When):
            stack += [x.cond, *x.then, *x.other]
        elif isinstance(x, (Arith, Cmp)):
            stack += [x.a, x.b]
        elif isinstance(x, (BoolOp, Total)):
            stack.extend(x.args)
        elif isinstance(x, Not):
            stack.append(x.a)
        elif isinstance(x, Ite):
            stack += [x.cond, x.then, x.other]
    return out


@dataclass
class Property:
    """A named property: an invariant over one state, or a bounded-wait style check."""

    name: str
    kind: str  # "invariant" | "bounded-wait" | "starvation"
    doc: str
    expr: Expr | None = None  # invariant: must hold in every reachable state
    params: dict = dc_field(default_factory=dict)
