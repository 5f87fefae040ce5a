"""Run queues: runqput, runqputslow, runqget, runqgrab/runqsteal, global queue.

Source: runtime/proc.go (Go 1.19 and 1.27; the functions keep their names and
behaviour across both, except where noted).  Each function here returns the
statements of the runtime function for use inside a rule body; ``g`` arguments
are expressions whose value is a G index + 1.
"""

from __future__ import annotations

from spec.lang import If, Local, Min, Proc, call, let, set_, when
from spec.sched.state import G_RUNNABLE, SchedState

# Functions of this module that a patch may wrap (spec.patch.PatchTarget.wrap).
PATCHABLE = ("runqputslow",)


def globrunqput(S: SchedState, g):
    """runtime/proc.go: globrunqput: put g at the tail of the global run queue."""
    return [
        set_(S.gq[S.gslot(S.gqlen())], g),
        set_(S.gqlen(), S.gqlen() + 1),
    ]


def globrunqpop(S: SchedState, name: str):
    """Pop the head of the global queue into the local ``name`` (caller checks gqlen > 0)."""
    bind, g = let(name, S.gq[S.gqhead()])
    return g, [
        bind,
        set_(S.gq[S.gqhead()], 0),
        set_(S.gqhead(), If(S.gqhead() + 1 < S.nG, S.gqhead() + 1, 0)),
        set_(S.gqlen(), S.gqlen() - 1),
    ]


def runqputslow(S: SchedState, p: int, g):
    """runtime/proc.go: runqputslow: the ring is full; move its oldest half and g to the global queue.

    Copies the first size/2 Gs from the head (the 128 oldest in the real
    256-slot ring), advances head past them, and appends the batch plus g to the
    tail of the global queue.  Nothing is stolen and no M is woken here.
    """
    half = S.cap // 2
    out = []
    for i in range(half):
        src = S.runq[p, S.slot(S.advance(S.runqhead[p], i))]
        out += [set_(S.gq[S.gslot(S.gqlen() + i)], src), set_(src, 0)]
    out += [
        set_(S.gq[S.gslot(S.gqlen() + half)], g),
        set_(S.gqlen(), S.gqlen() + half + 1),
        set_(S.runqhead[p], S.advance(S.runqhead[p], half)),
    ]
    return out


def runqput_tail(S: SchedState, p: int, g):
    """runtime/proc.go: runqput with next=false: store at the tail, or runqputslow when full."""
    key = ("runqput_tail", p)
    proc = S.procs.get(key)
    if proc is None:
        arg = Local("g")
        proc = Proc(f"runqput_tail_p{p}", ("g",), [when(S.rlen(p) < S.cap, [
            set_(S.runq[p, S.slot(S.runqtail[p])], arg),
            set_(S.runqtail[p], S.advance(S.runqtail[p])),
        ], S.overrides.get("runqputslow", runqputslow)(S, p, arg))])
        S.procs[key] = proc
    return call(proc, g)


def runqput(S: SchedState, p: int, g, next: bool):
    """runtime/proc.go: runqput: with next, g takes runnext and the old runnext goes to the tail."""
    if not next:
        return [runqput_tail(S, p, g)]
    bind, old = let(f"kicked{p}", S.runnext[p])
    return [
        bind,
        set_(S.runnext[p], g),
        when(old.ne(0), [runqput_tail(S, p, old)]),
    ]


def ready(S: SchedState, p: int, g, wakep_stmts):
    """runtime/proc.go: ready (goready): make g runnable in runnext of P p, then wakep."""
    return [
        set_(S.gstatus[g - 1], G_RUNNABLE),
        runqput(S, p, g, next=True),
        wakep_stmts,
    ]


def globrunqget_batch_size(S: SchedState, n):
    """runtime/proc.go: globrunqget (1.19) / globrunqgetbatch (1.27): how many Gs one take moves.

    min(size/gomaxprocs + 1, size, len(runq)/2): the real bound is 128 of 256.
    ``n`` is the global queue's size, an int or an expression.
    """
    return Min(Min(n // S.nP + 1, n), S.cap // 2)


def grab_count(n):
    """runtime/proc.go: runqgrab: n - n/2, half of the victim's ring rounded up."""
    return n - n // 2
