"""Symbolic semantics: spec expressions and rules compiled to z3 terms.

A state is a list of z3 integer terms, one per slot.  A read with a computed
index becomes an if-then-else chain over the slots of the field; a write with a
computed index updates every slot of the field under the matching condition.
Bodies are executed symbolically in order, so ``When`` branches merge with
if-then-else, which keeps the "each statement sees the ones before it" reading
of the concrete semantics.
"""

from __future__ import annotations

import z3

from spec.lang import Arith, Assign, Bind, BoolOp, Call, Cmp, Const, Expr, Ite, Local, Named, Not, Read, Rule, Total, When


def _as_int(t):
    if z3.is_bool(t):
        return z3.If(t, z3.IntVal(1), z3.IntVal(0))
    return t


def _as_bool(t):
    if z3.is_bool(t):
        return t
    return t != 0


def _flat_index(r: Read, s, env, memo=None):
    """Return ``(const_offset, None)`` or ``(None, [(cond, offset), ...])``."""
    off = r.const_offset()
    if off is not None:
        return off, None
    # Enumerate every combination of index values allowed by the shape.
    choices = [(z3.BoolVal(True), 0)]
    for ix, stride, dim in zip(r.index, r.field.strides(), r.field.shape):
        nxt = []
        if isinstance(ix, Const):
            for c, o in choices:
                nxt.append((c, o + ix.value * stride))
        else:
            t = _as_int(term(ix, s, env, memo))
            for c, o in choices:
                for v in range(dim):
                    nxt.append((z3.And(c, t == v), o + v * stride))
        choices = nxt
    return None, choices


def term(e: Expr, s, env=None, memo=None):
    """Return the z3 term of ``e`` over the state term list ``s``.

    ``memo`` caches terms by expression identity for one state; it is only
    valid for expressions without locals (guards and properties).
    """
    if memo is not None:
        key = id(e)
        hit = memo.get(key)
        if hit is not None:
            return hit[1]
        t = _term(e, s, env, memo)
        memo[key] = (e, t)
        return t
    return _term(e, s, env, memo)


def _term(e: Expr, s, env, memo):
    if isinstance(e, Const):
        return z3.IntVal(e.value)
    if isinstance(e, Read):
        off, choices = _flat_index(e, s, env, memo)
        base = e.field.base
        if off is not None:
            return s[base + off]
        out = s[base + choices[-1][1]]
        for c, o in reversed(choices[:-1]):
            out = z3.If(c, s[base + o], out)
        return out
    if isinstance(e, Local):
        return env[e.name]
    if isinstance(e, Named):
        return term(e.expr, s, env, memo)
    if isinstance(e, Arith):
        a, b = _as_int(term(e.a, s, env, memo)), _as_int(term(e.b, s, env, memo))
        return {"+": a + b, "-": a - b, "*": a * b, "//": a / b}[e.op]
    if isinstance(e, Total):
        return z3.Sum(*[_as_int(term(a, s, env, memo)) for a in e.args])
    if isinstance(e, Cmp):
        a, b = _as_int(term(e.a, s, env, memo)), _as_int(term(e.b, s, env, memo))
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b}[e.op]
    if isinstance(e, BoolOp):
        args = [_as_bool(term(a, s, env, memo)) for a in e.args]
        return z3.And(*args) if e.op == "and" else z3.Or(*args)
    if isinstance(e, Not):
        return z3.Not(_as_bool(term(e.a, s, env, memo)))
    if isinstance(e, Ite):
        c = _as_bool(term(e.cond, s, env, memo))
        a, b = term(e.then, s, env, memo), term(e.other, s, env, memo)
        if z3.is_bool(a) and z3.is_bool(b):
            return z3.If(c, a, b)
        return z3.If(c, _as_int(a), _as_int(b))
    raise TypeError(f"unknown expression {e!r}")


def bool_term(e: Expr, s, memo=None):
    return _as_bool(term(e, s, None, memo))


def exec_body(stmts, s: list, env: dict | None = None) -> list:
    """Run a rule body symbolically; return the new list of slot terms."""
    s = list(s)
    env = dict(env or {})
    for st in stmts:
        if isinstance(st, Bind):
            env[st.name] = _as_int(term(st.value, s, env))
        elif isinstance(st, Assign):
            val = _as_int(term(st.value, s, env))
            off, choices = _flat_index(st.target, s, env)
            base = st.target.field.base
            if off is not None:
                s[base + off] = val
            else:
                for c, o in choices:
                    s[base + o] = z3.If(c, val, s[base + o])
        elif isinstance(st, Call):
            inner = {name: _as_int(term(a, s, env)) for name, a in zip(st.proc.params, st.args)}
            s = exec_body(st.proc.body, s, inner)
        elif isinstance(st, When):
            c = _as_bool(term(st.cond, s, env))
            a = exec_body(st.then, s, env)
            b = exec_body(st.other, s, env)
            s = [x if x is y else z3.If(c, x, y) for x, y in zip(a, b)]
        else:
            raise TypeError(f"unknown statement {st!r}")
    return s


def rule_terms(rule: Rule, s: list, memo=None):
    """Return ``(guard_term, next_state_terms)`` of ``rule`` from state terms ``s``."""
    return bool_term(rule.guard, s, memo), exec_body(rule.body, s)
