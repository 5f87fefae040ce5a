"""Patches: named changes to the scheduler model's rules.

A patch is a Python file with three names at module level::

    NAME = "no-fairness-61"
    DESCRIPTION = "schedule never checks the global run queue first"

    def apply(model):          # model is a PatchTarget
        model.wrap("fairness_due", lambda original, p: FALSE)
        model.remove("globrunqget(fairness)")

``apply`` receives a ``PatchTarget`` and may

- ``wrap(helper, fn)``: replace a shared piece of the rules (a condition or a
  statement sequence that several rules use, such as ``execute`` or
  ``runqputslow``) with ``fn(original, *args, **kwargs)``.  Wrapping happens
  before the rules are built, so the change reaches every rule that uses the helper.
- ``remove(rule)``: drop every instance of a rule.
- ``replace(rule, fn)``: ``fn(instance)`` returns the new Rule, a list of rules, or
  None to drop that instance.
- ``add(rule)``: add a Rule built from ``model.S`` (the state layout) and the
  helpers on ``model.builder``.

Loading a patch file runs its code, so a patch file is trusted input, like a
test file.  A patch that names an unknown rule or helper, or whose rules are
not well formed, raises PatchError naming the file and the rule.
"""

from __future__ import annotations

import importlib.util
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from spec.lang import Assign, Bind, BoolOp, Call, Cmp, Const, Expr, Ite, Local, Named, Not, Read, Rule, When


class PatchError(Exception):
    """An invalid patch: the message names the file, the rule or helper, and the fix."""


@dataclass
class Patch:
    """A named change to the model, built in (spec/patches/) or loaded from a file."""

    name: str
    description: str
    apply: Callable
    source: str  # "built-in" or the file's path
    model: str = "sched"  # the model it changes: "sched" or "maps"

    def __str__(self) -> str:
        return self.name


@dataclass
class PatchTarget:
    """The object a patch's ``apply`` receives: the rule builder, the state and the rule edits."""

    builder: object
    patch: Patch
    edits: list = field(default_factory=list)

    @property
    def S(self):
        return self.builder.S

    @property
    def profile(self):
        return self.builder.profile

    def wrap(self, helper: str, fn: Callable) -> None:
        """Replace the shared helper ``helper`` with ``fn(original, *args, **kwargs)``."""
        b = self.builder
        original = getattr(b, helper, None) if not helper.startswith("_") else None
        if callable(original) and inspect.ismethod(original):
            setattr(b, helper, lambda *a, **k: fn(original, *a, **k))
            return
        from spec.sched import queues
        if self.patch.model == "sched" and helper in queues.PATCHABLE:
            prev = self.S.overrides.get(helper, getattr(queues, helper))
            self.S.overrides[helper] = lambda *a, **k: fn(prev, *a, **k)
            return
        raise self.error(f"helper {helper!r}",
                         f"unknown helper; known helpers: {', '.join(helper_names(self.patch.model))}")

    def remove(self, rule: str) -> None:
        """Drop every instance of the rule named ``rule``."""
        self.edits.append(("replace", rule, lambda r: None))

    def replace(self, rule: str, fn: Callable) -> None:
        """Replace each instance of ``rule`` with what ``fn(instance)`` returns."""
        self.edits.append(("replace", rule, fn))

    def add(self, rule: Rule) -> None:
        """Add a new rule."""
        self.edits.append(("add", rule.name if isinstance(rule, Rule) else repr(rule), rule))

    def error(self, what: str, fix: str) -> PatchError:
        return PatchError(f"{patch_where(self.patch)}: {what}: {fix}")

    def edit_rules(self, rules: list[Rule]) -> list[Rule]:
        """Apply the recorded rule edits to ``rules`` and check the result."""
        for kind, name, arg in self.edits:
            if kind == "add":
                check_rule(self, arg, self.S.layout)
                rules = rules + [arg]
                continue
            if not any(r.name == name for r in rules):
                known = sorted({r.name for r in rules})
                raise self.error(f"rule {name!r}", f"no such rule in this model; rules: {', '.join(known)}")
            out = []
            for r in rules:
                if r.name != name:
                    out.append(r)
                    continue
                new = arg(r)
                if new is None:
                    new = []
                elif not isinstance(new, list):
                    new = [new]
                for n in new:
                    check_rule(self, n, self.S.layout)
                    out.append(n)
            rules = out
        return rules


def patch_where(patch: Patch) -> str:
    """Name a patch in an error message: its file and name, or that it is built in."""
    if patch.source == "built-in":
        return f"built-in patch {patch.name!r}"
    return f"{patch.source}: patch {patch.name!r}"


def helper_names(model: str = "sched") -> list[str]:
    """Return the helpers a patch of ``model`` may wrap: the rule builder's methods (and the queue functions)."""
    if model == "maps":
        from spec.maps.rules import Builder as MapBuilder
        return sorted(n for n, v in vars(MapBuilder).items() if callable(v) and not n.startswith("_")
                      and not n.endswith(("_rules", "_rule")) and n not in ("build", "let", "proc"))
    from spec.sched import queues
    from spec.sched.rules import Builder
    methods = [n for n, v in vars(Builder).items() if callable(v) and not n.startswith("_")
               and n not in ("add",) and not n.endswith("_rules") and not n.endswith("_rule")]
    return sorted(set(methods) | set(queues.PATCHABLE))


def check_rule(target: PatchTarget, rule, layout) -> None:
    """Raise PatchError unless ``rule`` is a Rule whose reads and writes use this model's fields."""
    if not isinstance(rule, Rule):
        raise target.error(f"added rule {rule!r}", "expected a spec.lang.Rule")
    where = f"rule {rule.label()!r}"
    if not isinstance(rule.guard, Expr):
        raise target.error(where, "the guard must be a spec.lang expression")
    fields = {id(f) for f in layout.fields.values()}

    def expr(e):
        if not isinstance(e, Expr):
            raise target.error(where, f"{e!r} is not a spec.lang expression")
        if isinstance(e, Read) and id(e.field) not in fields:
            raise target.error(where, f"field {e.field.name!r} is not part of this model's state")
        for v in vars(e).values() if hasattr(e, "__dict__") else ():
            for x in (v if isinstance(v, (list, tuple)) else [v]):
                if isinstance(x, Expr):
                    expr(x)

    def stmts(body):
        for st in body:
            if isinstance(st, Assign):
                expr(st.target)
                expr(st.value)
            elif isinstance(st, Bind):
                expr(st.value)
            elif isinstance(st, When):
                expr(st.cond)
                stmts(st.then)
                stmts(st.other)
            elif isinstance(st, Call):
                for a in st.args:
                    expr(a)
                stmts(st.proc.body)
            else:
                raise target.error(where, f"{st!r} is not a spec.lang statement")

    expr(rule.guard)
    stmts(rule.body)


def is_boolean(e: Expr) -> bool:
    """Whether ``e`` can only be 0 or 1: a comparison, a connective, a 0/1 constant or field."""
    if isinstance(e, (Cmp, BoolOp, Not, Local)):
        return True  # a Local's binding is checked where it is bound
    if isinstance(e, Const):
        return e.value in (0, 1)
    if isinstance(e, Read):
        return e.field.lo >= 0 and e.field.hi <= 1
    if isinstance(e, Named):
        return is_boolean(e.expr)
    if isinstance(e, Ite):
        return is_boolean(e.then) and is_boolean(e.other)
    return False


def type_errors(rule: Rule) -> list[str]:
    """List where ``rule`` uses a number as a condition or writes a constant outside a field's range.

    Conditions are the guard, the arguments of and/or/not, an if's test and a
    when's condition.  The unpatched models have none of these errors, which
    the tests check, so one in a patched model comes from the patch.
    """
    errors: list[str] = []
    seen: set[int] = set()

    def expr(e, condition: bool) -> None:
        if condition and not is_boolean(e):
            errors.append(f"{describe(e)} is used as a condition but is not 0 or 1")
        if id(e) in seen:
            return
        seen.add(id(e))
        if isinstance(e, BoolOp):
            for a in e.args:
                expr(a, True)
        elif isinstance(e, Not):
            expr(e.a, True)
        elif isinstance(e, Ite):
            expr(e.cond, True)
            expr(e.then, False)
            expr(e.other, False)
        elif isinstance(e, Named):
            expr(e.expr, False)
        elif isinstance(e, Read):
            for ix in e.index:
                expr(ix, False)
        else:
            for v in vars(e).values():
                for x in (v if isinstance(v, tuple) else (v,)):
                    if isinstance(x, Expr):
                        expr(x, False)

    def stmts(body) -> None:
        for st in body:
            if isinstance(st, Assign):
                expr(st.target, False)
                expr(st.value, False)
                f = st.target.field
                if isinstance(st.value, Const) and not f.lo <= st.value.value <= f.hi:
                    errors.append(f"writes {st.value.value} to {f.name}, whose range is {f.lo}..{f.hi}")
            elif isinstance(st, Bind):
                expr(st.value, False)
            elif isinstance(st, When):
                expr(st.cond, True)
                stmts(st.then)
                stmts(st.other)
            elif isinstance(st, Call):
                for a in st.args:
                    expr(a, False)
                stmts(st.proc.body)

    expr(rule.guard, True)
    stmts(rule.body)
    return errors


def describe(e: Expr) -> str:
    if isinstance(e, Const):
        return f"the constant {e.value}"
    if isinstance(e, Read):
        return f"field {e.field.name} ({e.field.lo}..{e.field.hi})"
    if isinstance(e, Named):
        return e.name
    return f"an expression of kind {type(e).__name__}"


def check_patched_rules(rules: list[Rule], patches) -> None:
    """Raise PatchError naming the patch and the rule when a patched model's rule is ill-typed."""
    if not patches:
        return
    for rule in rules:
        errors = type_errors(rule)
        if errors:
            names = " and ".join(patch_where(p) for p in patches)
            raise PatchError(f"{names}: rule {rule.label()!r}: {errors[0]}; check what the patch's "
                             f"wrapped helpers and rules return")


def builtin_patches() -> dict[str, Patch]:
    from spec.patches import BUILTIN
    return dict(BUILTIN)


def load_patch(ref: str) -> Patch:
    """Return the built-in patch named ``ref``, or load the patch file at path ``ref``."""
    builtin = builtin_patches()
    if ref in builtin:
        return builtin[ref]
    path = Path(ref)
    if not ref.endswith(".py"):
        raise PatchError(f"{ref}: unknown patch; give a built-in name ({', '.join(sorted(builtin))}) "
                         f"or a .py file")
    if not path.is_file():
        raise PatchError(f"{ref}: patch file not found")
    spec = importlib.util.spec_from_file_location(f"gmpcheck_patch_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - any failure of the user's code is reported as one line
        raise PatchError(f"{ref}: loading the patch failed: {type(e).__name__}: {e}") from e
    for attr, kind in (("NAME", str), ("DESCRIPTION", str)):
        if not isinstance(getattr(module, attr, None), kind):
            raise PatchError(f"{ref}: {attr}: missing; define {attr} = \"...\" at module level")
    if not callable(getattr(module, "apply", None)):
        raise PatchError(f"{ref}: apply: missing; define def apply(model): ...")
    model = getattr(module, "MODEL", "sched")
    if model not in ("sched", "maps"):
        raise PatchError(f"{ref}: MODEL: invalid value {model!r}; use \"sched\" (the default) for the scheduler "
                         f"model or \"maps\" for the classic map model")
    return Patch(module.NAME, module.DESCRIPTION, module.apply, str(path), model)
