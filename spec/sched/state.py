"""The scheduler's state: G, P and global fields, and the run-queue ring arithmetic.

Granularity.  Time advances in ticks (the ``tick`` rule).  In a tick every P
that runs a G executes one operation of that G's body; everything the runtime
does in between (schedule, findRunnable, ready, handoff) takes no time and
happens before the clock moves.  Ms are not separate processes: a P that is
``running`` has an M; an idle P has none; an M in a system call is recorded by
the G (``sysp``).  Spinning Ms are a flag on the P they hold, plus a count of
spinning Ms between releasing their P and re-checking the run queues.

Encodings.  G and P references store index + 1, so 0 means "none".  The local
run queue is the real ring: ``runqhead``/``runqtail`` count modulo 2 x size
(the runtime's uint32 counters reduced modulo a multiple of the ring size, which
keeps both the slot, index mod size, and the length, tail - head).  Slots
outside [head, tail) are cleared to 0 when a G leaves them; the runtime leaves
stale pointers there, which it never reads.
"""

from __future__ import annotations

from spec.lang import If, Layout, lift

# G status values, as in runtime/runtime2.go (_Gidle .. _Gdead).
G_IDLE, G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING, G_DEAD = 0, 1, 2, 3, 4, 6
G_STATUS_NAMES = {0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 6: "dead"}

# P status values, as in runtime/runtime2.go (_Pidle .. _Pgcstop).  Go 1.27 keeps a
# P whose M is in a system call _Prunning and reads "in syscall" from the G; the
# model uses P_SYSCALL for that P under every profile.
P_IDLE, P_RUNNING, P_SYSCALL, P_GCSTOP = 0, 1, 2, 3
P_STATUS_NAMES = {0: "idle", 1: "running", 2: "syscall", 3: "gcstop"}


class SchedState:
    """The field layout of one scheduler model instance."""

    def __init__(self, nP: int, nG: int, nchan: int, runq_size: int, max_pc: int,
                 timeslice: int, fairness_period: int, bound: int, max_ticks: int, network: bool = False):
        self.nP, self.nG, self.cap = nP, nG, runq_size
        self.timeslice, self.period, self.bound = timeslice, fairness_period, bound
        self.procs: dict = {}  # shared statement sequences (spec.lang.Proc), built on first use
        self.overrides: dict = {}  # queue functions replaced by a patch (spec.patch)
        L = self.layout = Layout()
        add = L.add
        # Per G.
        self.gstatus = add("gstatus", [nG], 0, 6, "G status (runtime2.go _G* values)")
        self.pc = add("pc", [nG], 0, max(0, max_pc), "node of the G's body it executes next")
        self.gpreempt = add("gpreempt", [nG], 0, 1, "g.preempt: a preemption request (stackguard0 = stackPreempt)")
        self.wait = add("wait", [nG], 0, bound + 1, "ticks the G has been ready without running (saturates at bound+1)")
        self.tarmed = add("tarmed", [nG], 0, 1, "the G's sleep timer is in a P's timer heap")
        self.tleft = add("tleft", [nG], 0, max_ticks, "ticks until the G's timer is due")
        self.tpp = add("tpp", [nG], 0, max(0, nP - 1), "P whose timer heap holds the G's timer")
        self.parked = add("parked", [nG], 0, 2 * nchan,
                          "channel the G is parked on: 2 x channel index + 1 for recv, + 2 for send; 0: none")
        self.sysleft = add("sysleft", [nG], 0, max_ticks, "ticks left in the G's system call")
        self.sysp = add("sysp", [nG], 0, nP, "m.oldp: the P (index + 1) the G's M held when it entered the syscall")
        # Network polling: only in models whose goroutines read from the network.
        self.network = network
        if network:
            self.npoll = add("npoll", [nG], 0, 1, "the G is parked in netpollblock (pollDesc rg)")
            self.nleft = add("nleft", [nG], 0, max_ticks, "ticks until the G's descriptor is ready")
            self.pollyield = add("pollyield", [nG], 0, 1,
                                 "the G yielded in runtime_pollWait and parks when it runs again "
                                 "(set only by the gosched-in-pollwait patch)")
        # Per P.
        self.pstatus = add("pstatus", [nP], 0, 3, "P status (runtime2.go _P* values)")
        self.curg = add("curg", [nP], 0, nG, "G (index + 1) running on the P; 0: the M is in schedule")
        self.stepped = add("stepped", [nP], 0, 1, "the P executed its operation in this tick")
        self.runq = add("runq", [nP, runq_size], 0, nG, "local run queue ring")
        self.runqhead = add("runqhead", [nP], 0, 2 * runq_size - 1, "ring head, modulo 2 x size")
        self.runqtail = add("runqtail", [nP], 0, 2 * runq_size - 1, "ring tail, modulo 2 x size")
        self.runnext = add("runnext", [nP], 0, nG, "runnext slot (G index + 1)")
        self.schedtick = add("schedtick", [nP], 0, fairness_period - 1, "p.schedtick modulo the fairness period")
        self.slice = add("slice", [nP], 0, timeslice, "ticks since schedtick last changed, as sysmon sees it (saturates)")
        self.ppreempt = add("ppreempt", [nP], 0, 1, "pp.preempt: an asynchronous preemption signal is pending")
        self.spinning = add("spinning", [nP], 0, 1, "the P's M is spinning (m.spinning)")
        self.syswhen = add("syswhen", [nP], 0, timeslice, "ticks the P has been in a syscall, as sysmon sees it (saturates)")
        self.sysseen = add("sysseen", [nP], 0, 1, "sysmon has seen this syscall once (syscalltick unchanged)")
        # Global.
        self.gq = add("gq", [nG], 0, nG, "global run queue ring (sched.runq)")
        self.gqhead = add("gqhead", [], 0, nG - 1, "global queue head slot")
        self.gqlen = add("gqlen", [], 0, nG, "sched.runqsize")
        self.gcwaiting = add("gcwaiting", [], 0, 1, "sched.gcwaiting: a stop-the-world is in progress")
        if network:
            self.lastpoll = add("lastpoll", [], 0, timeslice,
                                "ticks since sysmon or a blocked M last polled the network (saturates)")
        self.mspin = add("mspin", [], 0, nP,
                         "spinning Ms that released their P and have not yet re-checked the run queues")
        self.stwowner = add("stwowner", [], 0, nP, "P (index + 1) whose G requested the stop-the-world")

    # -- local ring arithmetic -------------------------------------------------

    def rlen(self, p):
        h, t = self.runqhead[p], self.runqtail[p]
        return If(h <= t, t - h, t - h + 2 * self.cap)

    def slot(self, idx):
        idx = lift(idx)
        return If(self.cap <= idx, idx - self.cap, idx)

    def advance(self, idx, k=1):
        idx = lift(idx) + k
        return If(2 * self.cap <= idx, idx - 2 * self.cap, idx)

    def live(self, p, i: int):
        """Whether ring slot ``i`` of P ``p`` lies in [head, tail)."""
        h = self.runqhead[p]
        hslot = self.slot(h)
        dist = If(hslot <= i, i - hslot, i - hslot + self.cap)
        return dist < self.rlen(p)

    def runq_empty(self, p):
        """runtime/proc.go: runqempty: head == tail and no runnext."""
        return (self.runqhead[p].eq(self.runqtail[p])) & self.runnext[p].eq(0)

    # -- global ring arithmetic ------------------------------------------------

    def gslot(self, k):
        """Slot of the k-th element of the global queue (k an expression < nG)."""
        idx = self.gqhead() + k
        return If(self.nG <= idx, idx - self.nG, idx)

