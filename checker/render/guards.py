"""Guard expressions as text, and the conditions that made a guard true in a state.

``reasons`` walks a guard the way its value was reached: for a conjunction
every conjunct, for a disjunction the first alternative that held, for a
negation the reason its operand failed.  Comparisons are printed with the
model's names (G names, P numbers, status names) and with the values that
field expressions had in the state, so the text follows the rule as written in
spec/ and cannot drift from it.
"""

from __future__ import annotations

from checker.concrete import compile_expr
from checker.trace import GREF_FIELDS, PER_G, PREF_FIELDS
from spec.lang import Arith, BoolOp, Cmp, Const, Expr, Ite, Local, Named, Not, Read, Total
from spec.sched.state import G_STATUS_NAMES, P_STATUS_NAMES

NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
MAX_ALTERNATIVES = 4

# Shared guard expressions (spec.lang.Named), described by what they stand for.
NAMED = {"calm": "no urgent rule is enabled (the runtime's zero-time work is done)"}


class Explainer:
    """Prints expressions of one model and evaluates them on its states."""

    def __init__(self, model):
        self.model = model
        self._compiled: dict[int, object] = {}

    def value(self, e: Expr, state) -> int:
        f = self._compiled.get(id(e))
        if f is None:
            f = self._compiled[id(e)] = (e, compile_expr(e))
        return int(f[1](state))

    # -- printing ---------------------------------------------------------------

    def index_label(self, field, k: int, ix: Expr) -> str:
        if not isinstance(ix, Const):
            return self.fmt(ix)
        if k == 0 and field.name in PER_G:
            return self.model.g_names[ix.value]
        if k == 0 and field.name != "gq" and field.shape:
            return f"P{ix.value}"
        return str(ix.value)

    def read(self, r: Read) -> str:
        return r.field.name + "".join(f"[{self.index_label(r.field, k, ix)}]" for k, ix in enumerate(r.index))

    def const_for(self, other: Expr, value: int) -> str:
        """Print a constant as a value of the field it is compared with: a status name, a G or P name."""
        if isinstance(other, Read):
            name = other.field.name
            if name == "gstatus":
                return G_STATUS_NAMES.get(value, str(value))
            if name == "pstatus":
                return P_STATUS_NAMES.get(value, str(value))
            if name in GREF_FIELDS:
                return "none" if value == 0 else self.model.g_names[value - 1]
            if name in PREF_FIELDS:
                return "none" if value == 0 else f"P{value - 1}"
        return str(value)

    def ring_length(self, e: Ite) -> str | None:
        """``len(runq[P])`` for the ring-length expression of spec/sched/state.py: rlen."""
        c = e.cond
        if (isinstance(c, Cmp) and c.op == "<=" and isinstance(c.a, Read) and isinstance(c.b, Read)
                and c.a.field.name == "runqhead" and c.b.field.name == "runqtail"):
            return f"len(runq[{self.index_label(c.a.field, 0, c.a.index[0])}])"
        return None

    def fmt(self, e: Expr) -> str:
        if isinstance(e, Const):
            return str(e.value)
        if isinstance(e, Read):
            return self.read(e)
        if isinstance(e, (Local, Named)):
            return e.name
        if isinstance(e, Arith):
            return f"{self.operand(e.a)} {e.op} {self.operand(e.b)}"
        if isinstance(e, Total):
            if all(isinstance(a, Ite) and isinstance(a.then, Const) and a.then.value == 1
                   and isinstance(a.other, Const) and a.other.value == 0 for a in e.args):
                return "count(" + ", ".join(self.fmt(a.cond) for a in e.args) + ")"
            return " + ".join(self.operand(a) for a in e.args)
        if isinstance(e, Cmp):
            return self.comparison(e.op, e.a, e.b)
        if isinstance(e, BoolOp):
            return f" {e.op} ".join(self.operand(a) for a in e.args)
        if isinstance(e, Not):
            return f"not {self.operand(e.a)}"
        if isinstance(e, Ite):
            return self.ring_length(e) or f"({self.fmt(e.then)} if {self.fmt(e.cond)} else {self.fmt(e.other)})"
        return repr(e)

    def operand(self, e: Expr) -> str:
        text = self.fmt(e)
        simple = isinstance(e, (Const, Read, Local, Named)) or (isinstance(e, Ite) and self.ring_length(e))
        return text if simple or text.startswith("count(") else f"({text})"

    def comparison(self, op: str, a: Expr, b: Expr, state=None) -> str:
        if isinstance(a, Const) and not isinstance(b, Const):
            a, b, op = b, a, FLIPPED[op]
        sides = []
        for side, other in ((a, b), (b, a)):
            if isinstance(side, Const):
                sides.append(self.const_for(other, side.value))
                continue
            text = self.operand(side)
            plain = isinstance(side, Read) and isinstance(other, Const) and op in ("==", "!=")
            if state is not None and not plain:
                text += f" (= {self.value(side, state)})"
            sides.append(text)
        return f"{sides[0]} {op} {sides[1]}"

    # -- reasons --------------------------------------------------------------------

    def reasons(self, e: Expr, state, want: bool = True) -> list[str]:
        """Return the conditions that make ``e`` evaluate to ``want`` in ``state``, as text."""
        if isinstance(e, BoolOp):
            holds = [bool(self.value(a, state)) for a in e.args]
            every = (e.op == "and") == want
            if every:
                out = []
                alternatives = e.op == "or"
                if alternatives and len(e.args) > MAX_ALTERNATIVES:
                    return [f"none of {len(e.args)} alternatives holds, e.g. "
                            + "; ".join(self.reasons(e.args[0], state, want))]
                for a in e.args:
                    out += self.reasons(a, state, want)
                return out
            for a, h in zip(e.args, holds):
                if h == want:
                    return self.reasons(a, state, want)
            return [f"{self.fmt(e)} is {want}"]
        if isinstance(e, Not):
            return self.reasons(e.a, state, not want)
        if isinstance(e, Cmp):
            op = e.op if want else NEGATED[e.op]
            return [self.comparison(op, e.a, e.b, state)]
        if isinstance(e, Named):
            if e.name in NAMED and want:
                return [NAMED[e.name]]
            return [f"{e.name} {'holds' if want else 'does not hold'}: "
                    + "; ".join(self.reasons(e.expr, state, want))]
        if isinstance(e, Const):
            return ["always" if bool(e.value) == want else "never"]
        return [f"{self.fmt(e)} {'holds' if want else 'does not hold'}"]

    def guard_reasons(self, guard: Expr, state) -> list[str]:
        """Return every top-level condition of a guard that held in ``state``, each once."""
        out: list[str] = []
        for r in self.reasons(guard, state, True):
            if r not in out:
                out.append(r)
        return out
