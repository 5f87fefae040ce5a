"""Scheduler properties, named as a runtime engineer would name them.

Invariants hold in every reachable state.  ``bounded-wait`` is an invariant over
the per-G wait counters the tick rule keeps.  ``starvation`` is violated by a lasso:
a reachable loop, in which time passes, along which some G is ready to run in
every state and never runs.
"""

from __future__ import annotations

from spec.lang import And, Count, If, In, Property
from spec.sched.state import (G_DEAD, G_IDLE, G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING,
                              P_RUNNING, P_SYSCALL, SchedState)


def gq_live(S: SchedState, i: int):
    dist = If(S.gqhead() <= i, i - S.gqhead(), i - S.gqhead() + S.nG)
    return dist < S.gqlen()


def queue_places(S: SchedState):
    """Every run-queue place as (occupied, G reference): ring slots, runnext, global slots."""
    out = []
    for p in range(S.nP):
        out += [(S.live(p, i), S.runq[p, i]) for i in range(S.cap)]
        out.append((S.runnext[p].ne(0), S.runnext[p]))
    out += [(gq_live(S, i), S.gq[i]) for i in range(S.nG)]
    return out


def running_count(S: SchedState, g: int):
    return Count(S.pstatus[p].eq(P_RUNNING) & S.curg[p].eq(g + 1) for p in range(S.nP))


def no_lost_goroutine(S: SchedState):
    """Every G is in exactly one place: running on one P, in one run queue slot,
    runnext or the global queue, parked (on a channel, a timer or the network), in a system
    call, not yet created, or dead.

    Stated in linear size: the run-queue places hold only runnable Gs and as
    many as there are runnable Gs, so no runnable G is missing or queued twice;
    the same for running Gs and the current G of running Ps.
    """
    places = queue_places(S)
    conds = [Count(occ for occ, _ in places).eq(Count(S.gstatus[g].eq(G_RUNNABLE) for g in range(S.nG)))]
    conds += [If(occ, S.gstatus[ref - 1].eq(G_RUNNABLE), 1) for occ, ref in places]
    running = [S.pstatus[p].eq(P_RUNNING) & S.curg[p].ne(0) for p in range(S.nP)]
    conds.append(Count(running).eq(Count(S.gstatus[g].eq(G_RUNNING) for g in range(S.nG))))
    conds += [If(run, S.gstatus[S.curg[p] - 1].eq(G_RUNNING), 1) for p, run in enumerate(running)]
    for g in range(S.nG):
        waits = Count([S.parked[g].ne(0), S.tarmed[g].eq(1)] + ([S.npoll[g].eq(1)] if S.network else []))
        conds.append(If(S.gstatus[g].eq(G_WAITING), waits.eq(1), waits.eq(0)))
        conds.append(In(S.gstatus[g], (G_IDLE, G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING, G_DEAD)))
    return And(*conds)


def runq_bounds(S: SchedState):
    """Each local ring holds at most its size, every live slot holds a G, and the
    global queue holds at most every G once."""
    conds = []
    for p in range(S.nP):
        conds.append(S.rlen(p) <= S.cap)
        conds += [If(S.live(p, i), S.runq[p, i].ne(0), 1) for i in range(S.cap)]
    conds.append(S.gqlen() <= S.nG)
    return And(*conds)


def running_has_p_and_m(S: SchedState):
    """A running G is the current G of exactly one running P (which has an M),
    and the current G of a running P is running."""
    conds = []
    for g in range(S.nG):
        conds.append(If(S.gstatus[g].eq(G_RUNNING), running_count(S, g).eq(1), 1))
    for p in range(S.nP):
        cur = S.curg[p]
        conds.append(If(S.pstatus[p].eq(P_RUNNING) & cur.ne(0), S.gstatus[cur - 1].eq(G_RUNNING), 1))
        conds.append(If(S.pstatus[p].eq(P_SYSCALL), cur.ne(0) & S.gstatus[cur - 1].eq(G_SYSCALL), 1))
    return And(*conds)


def bounded_wait(S: SchedState):
    return And(*[S.wait[g] <= S.bound for g in range(S.nG)])


def properties(S: SchedState) -> list[Property]:
    return [
        Property("no-lost-goroutine", "invariant", no_lost_goroutine.__doc__, no_lost_goroutine(S)),
        Property("runq-bounds", "invariant", runq_bounds.__doc__, runq_bounds(S)),
        Property("running-has-p-m", "invariant", running_has_p_and_m.__doc__, running_has_p_and_m(S)),
        Property("bounded-wait", "invariant",
                 f"Every G that is ready to run (runnable, its timer due, or waiting for its own "
                 f"stop-the-world) runs within D = {S.bound} ticks.", bounded_wait(S), {"bound": S.bound}),
        Property("starvation", "starvation",
                 "No G can be ready forever without running: there is no reachable loop, in which "
                 "time passes, along which some G is ready and never runs."),
    ]
