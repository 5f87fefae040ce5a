"""Lines in the shape of GODEBUG=schedtrace output, one per tick of the trace.

Go 1.27's runtime/proc.go: schedtrace prints, when not detailed::

    SCHED 5ms: gomaxprocs=2 idleprocs=1 threads=3 spinningthreads=0 needspinning=0 idlethreads=0 runqueue=0 [ 1 0 ] schedticks=[ 4 2 ]

Each line here shows the state right after a ``tick`` step (sysmon has run).
Modelled fields, printed as the model stores them:

* ``gomaxprocs``: the number of Ps;
* ``idleprocs``: Ps in _Pidle (sched.npidle);
* ``spinningthreads``: Ps whose M spins (sched.nmspinning);
* ``runqueue``: the global run queue's length (sched.runq.size);
* ``[ ... ]``: each P's local ring length, runqtail - runqhead (runnext is not
  counted, as in the runtime);
* ``schedticks``: p.schedtick, which the model keeps modulo the fairness period
  (61 in the runtime), so it wraps there.

Derived fields: the time is the tick count times forcePreemptNS (10 ms) over
``timeslice_ticks``, rounded down to whole ms as the runtime prints it.
``threads`` counts the Ms the state implies: one per P that runs or is in a
system call, one per G in a system call whose P was taken away, and sysmon's.
Printed as 0, because the model has no such state: ``needspinning`` and
``idlethreads`` (idle Ms are not modelled, so ``threads`` leaves them out too).
"""

from __future__ import annotations

from checker.render.view import TraceView
from spec.sched.state import G_SYSCALL, P_IDLE, P_RUNNING, P_SYSCALL

FORCE_PREEMPT_MS = 10


def line(view: TraceView, i: int, tick: int) -> str:
    nP = view.nP
    ms = tick * FORCE_PREEMPT_MS // view.model.scenario.sizes.timeslice_ticks
    idle = sum(1 for p in range(nP) if view.get(i, "pstatus", p) == P_IDLE)
    with_p = sum(1 for p in range(nP) if view.get(i, "pstatus", p) in (P_RUNNING, P_SYSCALL))
    retaken = sum(1 for g in range(view.nG)
                  if view.get(i, "gstatus", g) == G_SYSCALL and view.get(i, "sysp", g) == 0)
    spinning = sum(view.get(i, "spinning", p) for p in range(nP))
    lengths = " ".join(str(len(view.ring(i, p))) for p in range(nP))
    ticks = " ".join(str(view.get(i, "schedtick", p)) for p in range(nP))
    return (f"SCHED {ms}ms: gomaxprocs={nP} idleprocs={idle} threads={with_p + retaken + 1} "
            f"spinningthreads={spinning} needspinning=0 idlethreads=0 runqueue={view.get(i, 'gqlen')} "
            f"[ {lengths} ] schedticks=[ {ticks} ]")


def render(view: TraceView) -> str:
    """Return one schedtrace line per tick step of the trace."""
    lines = [line(view, i, k + 1) for k, i in enumerate(view.tick_steps)]
    return "\n".join(lines) + ("\n" if lines else "")
