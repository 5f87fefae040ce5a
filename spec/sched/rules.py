"""Scheduler rules: schedule/findRunnable, execute, wakep, goroutine operations,
system calls, stop-the-world and the clock with sysmon.

Each rule's docstring (``doc``) names the runtime function it models, the file,
and the Go versions it holds for.  Guards make the findRunnable stages mutually
exclusive in the runtime's order, so a P in schedule has exactly the choices the
runtime's own nondeterminism (random steal order, timer order) allows.

Left out, and why.  Netpoll for network I/O: no program operation waits on the
network yet.  The trace reader and GC mark workers: they do not change which
user G runs next in these scenarios.  Locked Gs (LockOSThread): no operation
locks a thread.  The 3 us back-off before stealing runnext: it is shorter than
one tick.
"""

from __future__ import annotations

from spec.lang import FALSE, And, Const, Count, If, Min, Neg, Or, Rule, let, lift, set_, when
from spec.profiles import Profile
from spec.sched.queues import (globrunqget_batch_size, globrunqpop, globrunqput, grab_count,
                               ready, runqput)
from spec.sched.state import (G_DEAD, G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING, P_GCSTOP,
                              P_IDLE, P_RUNNING, P_SYSCALL, SchedState)

PROC = "runtime/proc.go"


class Builder:
    """Instantiates the rule templates for one scenario, profile and size."""

    def __init__(self, S: SchedState, profile: Profile, bodies, kinds, nchan: int):
        self.S, self.profile = S, profile
        self.bodies = bodies  # per G: list of nodes (implicit exit appended)
        self.kinds = kinds    # per G: goroutine kind name
        self.nchan = nchan
        self.rules: list[Rule] = []

    # -- shared conditions -----------------------------------------------------

    def in_schedule(self, p):
        S = self.S
        return S.pstatus[p].eq(P_RUNNING) & S.curg[p].eq(0)

    def due(self, g, p):
        S = self.S
        return S.tarmed[g].eq(1) & S.tleft[g].eq(0) & S.tpp[g].eq(p)

    def own_timers_due(self, p):
        return Or(*[self.due(g, p) for g in range(self.S.nG)])

    def nmspinning(self):
        """sched.nmspinning: spinning Ms holding a P, and those that released theirs."""
        S = self.S
        return Count(S.spinning[p].eq(1) for p in range(S.nP)) + S.mspin()

    def npidle(self):
        S = self.S
        return Count(S.pstatus[p].eq(P_IDLE) for p in range(S.nP))

    def fairness_due(self, p):
        S = self.S
        return S.schedtick[p].eq(0) & (S.gqlen() > 0)

    def may_spin(self, p):
        """findRunnable: steal only if spinning already or 2*nmspinning < gomaxprocs - npidle."""
        S = self.S
        return S.spinning[p].eq(1) | (2 * self.nmspinning() < S.nP - self.npidle())

    def other_rings_empty(self, p):
        S = self.S
        return And(*[S.rlen(v).eq(0) for v in range(S.nP) if v != p])

    def found_nothing_before_steal(self, p):
        S = self.S
        return And(self.in_schedule(p), S.gcwaiting().eq(0), Neg(self.own_timers_due(p)),
                   S.runq_empty(p), S.gqlen().eq(0), Neg(self.netpoll_found(p)))

    def ready_to_run(self, g):
        """The G wants a CPU and lacks one: runnable, its sleep timer is due, or it
        requested a stop-the-world that has not completed.  bounded-wait counts these ticks."""
        S = self.S
        owner_waits = Or(*[S.stwowner().eq(p + 1) & S.curg[p].eq(g + 1) for p in range(S.nP)])
        return Or(S.gstatus[g].eq(G_RUNNABLE),
                  S.tarmed[g].eq(1) & S.tleft[g].eq(0),
                  self.net_ready(g),
                  S.gcwaiting().eq(1) & owner_waits)

    # -- network polling ---------------------------------------------------------

    def net_ready(self, g):
        """G g is parked in netpollblock and its descriptor is ready: netpoll would return it."""
        S = self.S
        if not S.network:
            return FALSE
        return S.npoll[g].eq(1) & S.nleft[g].eq(0)

    def net_waiters(self):
        """runtime/netpoll.go: netpollWaiters > 0."""
        S = self.S
        if not S.network:
            return FALSE
        return Or(*[S.npoll[g].eq(1) for g in range(S.nG)])

    def netpoll_blocked(self):
        """An M is blocked in netpoll, so sched.lastpoll == 0.

        findRunnable's last step blocks one M in netpoll when there are network
        waiters or timers.  In the model that M is the one that gave up an idle P.
        """
        S = self.S
        timers = Or(*[S.tarmed[g].eq(1) for g in range(S.nG)])
        return (self.npidle() > 0) & (timers | self.net_waiters())

    def injectglist(self, p, skip):
        """runtime/proc.go: injectglist (Go 1.19 and 1.27) of every ready network G but ``skip``
        (an expression: a G reference, or 0 for none).

        With a P (``p`` not None), as many Gs as there are idle Ps go to the
        global queue and that many idle Ps get an M (startIdle).  The rest go to
        the tail of P p's ring.  Without a P (sysmon): all go to the global queue.
        The Gs are taken in G order (see first_net_ready).
        """
        S = self.S
        cands = list(range(S.nG))
        # Every count is bound before the first change, as a running sum, so the
        # body stays linear in the number of Gs and Ps.
        b_npidle, npidle0 = let("inj_npidle", self.npidle())
        out, rdy, before = [b_npidle], {}, {}
        count = Const(0)
        for g in cands:
            b, rdy[g] = let(f"inj_ready{g}", If(self.net_ready(g) & Neg(lift(skip).eq(g + 1)), 1, 0))
            b_before, before[g] = let(f"inj_before{g}", count)
            out += [b, b_before]
            count = before[g] + rdy[g]
        b_total, total = let("inj_total", count)
        out.append(b_total)
        idle_before = {}
        count = Const(0)
        for q in range(S.nP):
            b, idle_before[q] = let(f"inj_idle{q}", count)
            out.append(b)
            count = idle_before[q] + If(S.pstatus[q].eq(P_IDLE), 1, 0)
        for g in cands:
            to_global = globrunqput(S, g + 1) if p is None else [
                when(before[g] < npidle0, globrunqput(S, g + 1), [runqput(S, p, g + 1, next=False)])]
            out.append(when(rdy[g].eq(1), [set_(S.npoll[g], 0), set_(S.gstatus[g], G_RUNNABLE)] + to_global))
        n = total if p is None else Min(total, npidle0)
        for q in range(S.nP):
            start = [set_(S.pstatus[q], P_RUNNING), set_(S.curg[q], 0), set_(S.spinning[q], 0)]
            out.append(when(S.pstatus[q].eq(P_IDLE) & (idle_before[q] < n), start))
        return out

    def netpoll_found(self, p):
        """findRunnable's non-blocking netpoll would return a G: waiters, no M blocked in netpoll, one ready."""
        S = self.S
        if not S.network:
            return FALSE
        return Neg(self.netpoll_blocked()) & Or(*[self.net_ready(g) for g in range(S.nG)])

    def first_net_ready(self):
        """The G netpoll returns first (index + 1), 0 if none.

        NOTE: netpoll returns ready descriptors in epoll order; the model takes
        the ready Gs in G order, here and in injectglist.
        """
        S = self.S
        first = Const(0)
        for g in reversed(range(S.nG)):
            first = If(self.net_ready(g), g + 1, first)
        return first

    def take_net_ready(self, p):
        """Run the first ready network G on P p and injectglist() the others."""
        S = self.S
        bind, first = let(f"netfirst{p}", self.first_net_ready())
        return ([bind] + self.injectglist(p, first)
                + [set_(S.npoll[first - 1], 0), set_(S.gstatus[first - 1], G_RUNNABLE)]
                + self.execute(p, first, inherit=False))

    def netpoll_rules(self):
        S = self.S
        if not S.network:
            return
        any_ready = Or(*[self.net_ready(g) for g in range(S.nG)])
        for p in range(S.nP):
            ok = self.in_schedule(p) & S.gcwaiting().eq(0) & Neg(self.own_timers_due(p))
            self.add("netpoll(0)", {"p": p},
                     ok & Neg(self.fairness_due(p)) & S.runq_empty(p) & S.gqlen().eq(0)
                     & Neg(self.netpoll_blocked()) & any_ready,
                     self.take_net_ready(p),
                     "findRunnable step 8 (runtime/proc.go, Go 1.19 and 1.27; runtime/netpoll.go: "
                     "netpoll(0)): local and global queues are empty and no M is blocked in netpoll, "
                     "so the P polls without blocking; it runs the first ready G itself and "
                     "injectglist()s the others.")
            lowest_idle = S.pstatus[p].eq(P_IDLE) & And(*[S.pstatus[q].ne(P_IDLE) for q in range(p)])
            self.add("netpoll(block)", {"p": p},
                     lowest_idle & S.gcwaiting().eq(0) & self.netpoll_blocked() & any_ready,
                     [set_(S.pstatus[p], P_RUNNING), set_(S.curg[p], 0), set_(S.spinning[p], 0),
                      set_(S.lastpoll(), 0)] + self.take_net_ready(p),
                     "findRunnable's blocking netpoll (runtime/proc.go, Go 1.19 and 1.27): the M "
                     "blocked in netpoll wakes when a descriptor is ready, takes an idle P "
                     "(pidleget), runs the first ready G and injectglist()s the others.")

    def sysmon_netpoll(self):
        """runtime/proc.go: sysmon polls the network when no M has polled it for 10 ms (forcePreemptNS,
        the same number of ticks as the time slice) and injects what it finds, without a P."""
        S = self.S
        if not S.network:
            return []
        due = Neg(self.netpoll_blocked()) & (S.lastpoll() >= S.timeslice)
        return [set_(S.lastpoll(), Min(S.lastpoll() + 1, S.timeslice)),
                when(due, [set_(S.lastpoll(), 0)] + self.injectglist(None, 0))]

    def run_due_timers(self, heap_p, run_p):
        """Fire every due timer in P heap_p's heap, on P run_p.

        NOTE: timers due at the same tick fire in G order.  The runtime's 4-ary
        heap orders them by when, and equal whens by heap position.
        """
        S = self.S
        return [when(self.due(g, heap_p), [set_(S.tarmed[g], 0), ready(S, run_p, g + 1, self.wakep())])
                for g in range(S.nG)]

    def stw_owner_waiting(self, p):
        S = self.S
        return S.gcwaiting().eq(1) & S.stwowner().eq(p + 1)

    # -- shared statement sequences -------------------------------------------

    def wakep(self):
        """runtime/proc.go: wakep: if a P is idle and no M spins, startm(nil, spinning=true).

        NOTE: pidleget takes the most recently idled P; the model takes the
        lowest-numbered idle P.
        """
        S = self.S
        cond = (self.nmspinning().eq(0)) & (self.npidle() > 0) & S.gcwaiting().eq(0)
        chain = []
        for q in reversed(range(S.nP)):
            start = [set_(S.pstatus[q], P_RUNNING), set_(S.curg[q], 0), set_(S.spinning[q], 1)]
            chain = [when(S.pstatus[q].eq(P_IDLE), start, chain)]
        return [when(cond, chain)]

    def execute(self, p, g, inherit):
        """runtime/proc.go: execute (with schedule's resetspinning): run g on P p.

        schedtick advances only when inheritTime is false, and then sysmon
        records a new slice start.  A spinning M that found work stops spinning and calls wakep.
        """
        S = self.S
        out = [
            set_(S.curg[p], g),
            set_(S.gstatus[g - 1], G_RUNNING),
            set_(S.gpreempt[g - 1], 0),
            set_(S.wait[g - 1], 0),
            set_(S.ppreempt[p], 0),
        ]
        if inherit is not True:
            bump = [set_(S.schedtick[p], If(S.schedtick[p] + 1 < S.period, S.schedtick[p] + 1, 0)),
                    set_(S.slice[p], 0)]
            out += bump if inherit is False else [when(Neg(inherit), bump)]
        out.append(when(S.spinning[p].eq(1), [set_(S.spinning[p], 0), self.wakep()]))
        return out

    def add(self, name, params, guard, body, doc, urgent=True, cite=PROC, tags=()):
        self.rules.append(Rule(name, params, guard, list(body), urgent, doc, cite, tags))

    # -- findRunnable stages ----------------------------------------------------

    def schedule_rules(self):
        S = self.S
        for p in range(S.nP):
            base = self.in_schedule(p)
            self.add("gcstopm", {"p": p}, base & S.gcwaiting().eq(1),
                     [set_(S.pstatus[p], P_GCSTOP), set_(S.spinning[p], 0)],
                     "findRunnable step 1 (runtime/proc.go: gcstopm, Go 1.19 and 1.27): a stop-the-world "
                     "is pending, so the P stops (_Pgcstop) and its M sleeps.")
            self.add("checkTimers", {"p": p},
                     base & S.gcwaiting().eq(0) & self.own_timers_due(p),
                     self.run_due_timers(p, p),
                     "findRunnable step 2 (runtime/proc.go: checkTimers in 1.19; runtime/time.go: "
                     "timers.check in 1.27): the P runs all its due timers in one call; time.Sleep's "
                     "timer callback goready()s each sleeper into this P's runnext, so the last one "
                     "run ends up in runnext and the others in the ring.")
            ok = base & S.gcwaiting().eq(0) & Neg(self.own_timers_due(p))
            g0, pop = globrunqpop(S, "gfair")
            self.add("globrunqget(fairness)", {"p": p}, ok & self.fairness_due(p),
                     pop + self.execute(p, g0, inherit=False),
                     f"findRunnable step 4 (runtime/proc.go, Go 1.19 and 1.27): when schedtick % "
                     f"{S.period} == 0 and the global queue is not empty, take one G from it.")
            bind, rn = let("rnext", S.runnext[p])
            hb, hg = let("rhead", S.runq[p, S.slot(S.runqhead[p])])
            self.add("runqget", {"p": p}, ok & Neg(self.fairness_due(p)) & Neg(S.runq_empty(p)),
                     [when(S.runnext[p].ne(0),
                           [bind, set_(S.runnext[p], 0), self.execute(p, rn, inherit=True)],
                           [hb, set_(S.runq[p, S.slot(S.runqhead[p])], 0),
                            set_(S.runqhead[p], S.advance(S.runqhead[p])),
                            self.execute(p, hg, inherit=False)])],
                     "findRunnable step 6 (runtime/proc.go: runqget, Go 1.19 and 1.27): runnext first, "
                     "run with inheritTime=true (no new time slice); else the ring head, new slice.")
            self.globrunqget_rule(p, ok)
            self.steal_rules(p)
            nothing = self.found_nothing_before_steal(p) & Or(Neg(self.may_spin(p)), self.nothing_to_steal(p))
            self.add("stopm", {"p": p}, nothing & S.spinning[p].eq(0),
                     [set_(S.pstatus[p], P_IDLE)],
                     "findRunnable steps 11-14 (runtime/proc.go: releasep, pidleput, stopm; Go 1.19 and "
                     "1.27): nothing to run, so the P goes idle and the M sleeps.")
            self.add("stopm(spinning)", {"p": p}, nothing & S.spinning[p].eq(1),
                     [set_(S.pstatus[p], P_IDLE), set_(S.spinning[p], 0), set_(S.mspin(), S.mspin() + 1)],
                     "findRunnable (runtime/proc.go: releasep, pidleput; Go 1.19 and 1.27): a spinning M "
                     "found nothing, so it puts its P on the idle list; it still counts in "
                     "sched.nmspinning until it re-checks the run queues.")
        self.netpoll_rules()
        self.spinning_recheck_rule()
        for p in range(S.nP):
            others_sched = Or(*[self.in_schedule(q) for q in range(S.nP)])
            any_due = Or(*[S.tarmed[g].eq(1) & S.tleft[g].eq(0) for g in range(S.nG)])
            self.add("netpoll(timer)", {"p": p},
                     S.pstatus[p].eq(P_IDLE) & S.gcwaiting().eq(0) & any_due & Neg(others_sched),
                     [set_(S.pstatus[p], P_RUNNING), set_(S.curg[p], 0), set_(S.spinning[p], 0)]
                     + ([set_(S.lastpoll(), 0)] if S.network else []),
                     "findRunnable step 13 (runtime/proc.go, Go 1.19 and 1.27): an M blocked in "
                     "netpoll until the earliest timer (pollUntil) wakes when it is due, takes an "
                     "idle P and looks for work again; that M then steals the due timers.")

    def spinning_recheck_rule(self):
        """An M that stopped spinning re-checks every run queue before it sleeps.

        The rule is not urgent: other Ps' goroutines may ready a G between the
        release of the P and the re-check, and a wakep in that window reads
        nmspinning > 0 and so starts no M.  The tick waits for the re-check.
        """
        S = self.S
        work = Or(*[self.has_stealable_work(q) for q in range(S.nP)])
        chain = []
        for q in reversed(range(S.nP)):
            take = [set_(S.pstatus[q], P_RUNNING), set_(S.curg[q], 0), set_(S.spinning[q], 1)]
            chain = [when(S.pstatus[q].eq(P_IDLE), take, chain)]
        self.add("stopm(recheck)", {}, S.mspin() > 0,
                 [set_(S.mspin(), S.mspin() - 1), when(work & (self.npidle() > 0) & S.gcwaiting().eq(0), chain)],
                 "findRunnable (runtime/proc.go: findRunnable, checkRunqsNoP; Go 1.19 and 1.27): the M "
                 "decrements nmspinning and stops spinning, then looks at every P's run queue once more; if one "
                 "has work, it takes an idle P (pidleget: here the lowest-numbered) and spins again, "
                 "otherwise it sleeps in stopm.",
                 urgent=False)

    def globrunqget_rule(self, p, ok):
        S = self.S
        btake, take = let("take", globrunqget_batch_size(S, S.gqlen()))
        g0, pop = globrunqpop(S, "gbatch0")
        body = [btake] + list(pop)
        max_take = min(S.nG // S.nP + 1, S.nG, S.cap // 2)
        for i in range(1, max_take):
            gi, popi = globrunqpop(S, f"gbatch{i}")
            body.append(when(i < take, popi + runqput(S, p, gi, next=False)))
        body += self.execute(p, g0, inherit=False)
        self.add("globrunqget", {"p": p},
                 ok & Neg(self.fairness_due(p)) & S.runq_empty(p) & (S.gqlen() > 0), body,
                 "findRunnable step 7 (runtime/proc.go: globrunqget in 1.19, globrunqgetbatch in "
                 "1.27): take min(n/gomaxprocs+1, n, size/2) Gs from the global queue; run the first, "
                 "put the rest in the local ring.")

    def has_stealable_work(self, q, runnext=True):
        """P q's ring is not empty, or (when ``runnext``) its runnext contains a G (runtime/proc.go: runqempty)."""
        S = self.S
        return Neg(S.runq_empty(q)) if runnext else S.rlen(q) > 0

    def nothing_to_steal(self, p, runnext=True):
        """stealWork found nothing: every other ring is empty, and so is every other
        runnext (when ``runnext``, as stealWork's last round takes it) and every other timer heap."""
        S = self.S
        parts = []
        for v in range(S.nP):
            if v == p:
                continue
            parts.append(Neg(self.has_stealable_work(v, runnext)))
            parts += [Neg(self.due(g, v)) for g in range(S.nG)]
        return And(*parts)

    def steal_rules(self, p):
        """runtime/proc.go: stealWork, runqsteal, runqgrab (Go 1.19 and 1.27)."""
        S = self.S
        for v in range(S.nP):
            if v == p:
                continue
            base = self.found_nothing_before_steal(p) & self.may_spin(p)
            n = S.rlen(v)
            take = grab_count(n)
            vh, pt = S.runqhead[v], S.runqtail[p]
            bvh, lvh = let("vhead", vh)
            bpt, lpt = let("ptail", pt)
            btake, ltake = let("take", take)
            blast, last = let("last", S.runq[v, S.slot(S.advance(lvh, ltake - 1))])
            body = [set_(S.spinning[p], 1), bvh, bpt, btake, blast]
            for i in range(S.cap):
                src = S.runq[v, S.slot(S.advance(lvh, i))]
                body.append(when(i < ltake - 1, [set_(S.runq[p, S.slot(S.advance(lpt, i))], src)]))
                body.append(when(i < ltake, [set_(src, 0)]))
            body += [set_(S.runqhead[v], S.advance(lvh, ltake)),
                     set_(S.runqtail[p], S.advance(lpt, ltake - 1))]
            body += self.execute(p, last, inherit=False)
            self.add("runqsteal", {"p": p, "victim": v}, base & (n > 0), body,
                     "findRunnable step 9 (runtime/proc.go: stealWork, runqsteal, runqgrab; Go 1.19 and "
                     "1.27): the M spins and takes half of a victim's ring (rounded up), in any "
                     "round and in random victim order; the last G taken runs now.")
            last_round = base & self.other_rings_empty(p)
            self.add("stealWork(timers)", {"p": p, "victim": v},
                     last_round & Or(*[self.due(g, v) for g in range(S.nG)]),
                     [set_(S.spinning[p], 1)] + self.run_due_timers(v, p),
                     "stealWork's last round (runtime/proc.go: stealWork, checkTimers on the victim; "
                     "Go 1.19 and 1.27): the spinning M runs another P's due timers; the timer "
                     "callbacks ready the sleepers into the thief's runnext.")
            brn, rn = let("stolen", S.runnext[v])
            self.add("runqsteal(runnext)", {"p": p, "victim": v},
                     last_round & S.runnext[v].ne(0),
                     [set_(S.spinning[p], 1), brn, set_(S.runnext[v], 0)] + self.execute(p, rn, inherit=False),
                     "stealWork's last round (runtime/proc.go: runqgrab with stealRunNextG; Go 1.19 and "
                     "1.27): when every ring was empty for three rounds, the victim's runnext is stolen.")

    # -- goroutine operations ---------------------------------------------------

    def op_rules(self):
        S = self.S
        for p in range(S.nP):
            for g in range(S.nG):
                for node, nd in enumerate(self.bodies[g]):
                    self.op_rule(p, g, node, nd)

    def preempt_request(self, p, g, op):
        S, prof = self.S, self.profile
        sync = S.gpreempt[g].eq(1) if op.prologue else None
        asyn = S.ppreempt[p].eq(1) if (prof.async_enabled and op.async_safe) else None
        return sync, asyn

    def gopreempt(self, p, g):
        """runtime/proc.go: gopreempt_m -> goschedImpl(preempted=true)."""
        S, prof = self.S, self.profile
        body = [set_(S.gstatus[g], G_RUNNABLE), set_(S.gpreempt[g], 0), set_(S.ppreempt[p], 0),
                set_(S.curg[p], 0), set_(S.stepped[p], 1)]
        if prof.stw_preempt_to_runnext:
            body.append(when(S.gcwaiting().eq(1), runqput(S, p, g + 1, next=True), globrunqput(S, g + 1)))
        else:
            body += globrunqput(S, g + 1)
        if prof.gosched_wakep:
            body += self.wakep()
        return body

    def op_rule(self, p, g, node, nd):
        S, prof = self.S, self.profile
        op = nd.op
        base = And(S.pstatus[p].eq(P_RUNNING), S.curg[p].eq(g + 1), S.pc[g].eq(node),
                   S.stepped[p].eq(0), Neg(self.stw_owner_waiting(p)))
        params = {"p": p, "g": g, "pc": node, "op": nd.text}
        sync, asyn = self.preempt_request(p, g, op)
        no_preempt = []
        if sync is not None:
            self.add("newstack→gopreempt_m", params, base & sync, self.gopreempt(p, g),
                     "Cooperative preemption (runtime/stack.go: newstack; runtime/proc.go: gopreempt_m, "
                     "goschedImpl; all versions): the operation's prologue sees stackguard0 = "
                     "stackPreempt; the G goes to the global queue (Go 1.27: to runnext during a "
                     "stop-the-world) and the P schedules.", urgent=False, tags=("preempt",))
            no_preempt.append(Neg(sync))
        if asyn is not None:
            self.add("asyncPreempt→gopreempt_m", params, base & Neg(sync if sync is not None else 0) & asyn,
                     self.gopreempt(p, g),
                     "Asynchronous preemption (runtime/signal_unix.go: doSigPreempt; runtime/preempt.go: "
                     "isAsyncSafePoint, asyncPreempt2; Go 1.14 on unless asyncpreemptoff=1): the "
                     "SIGURG lands at an async safe point; the G goes to the global queue.",
                     urgent=False, tags=("preempt",))
            no_preempt.append(Neg(asyn))
        guard = And(base, *no_preempt)
        nxt = nd.next
        step = [set_(S.stepped[p], 1)]
        advance = [set_(S.pc[g], nxt)]
        kind = op.name
        if kind in ("compute", "call", "inline-call", "range-map"):
            self.add(kind, params, guard, step + advance,
                     "One step of user code (no scheduler effect); its prologue and async-safety "
                     "come from spec/sched/ops.py.", urgent=False)
        elif kind == "gosched":
            body = step + advance + [set_(S.gstatus[g], G_RUNNABLE), set_(S.curg[p], 0)] + globrunqput(S, g + 1)
            if prof.gosched_wakep:
                body += self.wakep()
            self.add("Gosched", params, guard, body,
                     "runtime/proc.go: Gosched -> gosched_m -> goschedImpl (all versions): the G goes to "
                     "the tail of the global queue and the P schedules; Go 1.27 also calls wakep.",
                     urgent=False)
        elif kind == "sleep":
            self.add("time.Sleep", params, guard,
                     step + advance + [set_(S.tarmed[g], 1), set_(S.tleft[g], nd.arg), set_(S.tpp[g], p),
                                       set_(S.gstatus[g], G_WAITING), set_(S.curg[p], 0)],
                     "runtime/time.go: timeSleep (all versions): add a timer to the current P's heap, "
                     "then gopark; the P schedules.", urgent=False)
        elif kind in ("send", "recv"):
            self.chan_rules(p, g, node, nd, guard, step + advance)
        elif kind == "syscall":
            body = step + advance + [set_(S.gstatus[g], G_SYSCALL), set_(S.sysleft[g], nd.arg),
                                     set_(S.sysp[g], p + 1), set_(S.syswhen[p], 0), set_(S.sysseen[p], 0),
                                     when(S.gcwaiting().eq(1), [set_(S.pstatus[p], P_GCSTOP), set_(S.curg[p], 0),
                                                                set_(S.sysp[g], 0)],
                                          [set_(S.pstatus[p], P_SYSCALL)])]
            self.add("entersyscall", params, guard, body,
                     "runtime/proc.go: entersyscall/reentersyscall: the G enters _Gsyscall; Go 1.19 puts "
                     "the P in _Psyscall, Go 1.27 keeps it _Prunning and marks the G; either way sysmon "
                     "may retake it.  A pending stop-the-world takes the P at once.", urgent=False)
        elif kind == "netread":
            self.pollwait_rules(p, g, nd, guard, step, advance, params)
        elif kind == "go":
            self.newproc_rule(p, g, nd, guard, step + advance, params)
        elif kind == "gc":
            self.gc_rule(p, g, nd, guard, params)
        elif kind == "exit":
            self.add("goexit", params, guard,
                     step + [set_(S.gstatus[g], G_DEAD), set_(S.curg[p], 0)],
                     "runtime/proc.go: goexit1 -> goexit0 (all versions): the G is dead, the P schedules.",
                     urgent=False)
        else:
            raise AssertionError(kind)

    def pollwait_rules(self, p, g, nd, guard, step, advance, params):
        """runtime/netpoll.go: poll_runtime_pollWait -> netpollblock -> gopark (all versions):
        the G parks until netpoll finds its descriptor ready; the P schedules."""
        S = self.S
        self.add("pollWait", params, guard,
                 step + advance + [set_(S.npoll[g], 1), set_(S.nleft[g], nd.arg),
                                   set_(S.gstatus[g], G_WAITING), set_(S.curg[p], 0)],
                 "runtime/netpoll.go: poll_runtime_pollWait, netpollblock, gopark (all versions): the "
                 "read would block, so the G parks on its pollDesc and the P schedules.", urgent=False)

    def chan_rules(self, p, g, node, nd, guard, done):
        # NOTE: runtime/chan.go wakes the parked peers of a channel in FIFO order
        # (the sudog queue).  Here any parked peer may be chosen, one rule instance each.
        S = self.S
        c = self.chan_index[nd.arg]
        mine = 0 if nd.op.name == "recv" else 1
        peer_code = 2 * c + (1 - mine) + 1
        peers = [q for q in range(S.nG) if q != g and any(
            n.op.name == ("send" if mine == 0 else "recv") and n.arg == nd.arg for n in self.bodies[q])]
        fn = "chanrecv" if mine == 0 else "chansend"
        for q in peers:
            self.add(fn, dict(p=p, g=g, pc=node, op=nd.text, peer=q), guard & S.parked[q].eq(peer_code),
                     done + [set_(S.parked[q], 0), ready(S, p, q + 1, self.wakep())],
                     f"runtime/chan.go: {fn} (all versions): a peer is parked on the unbuffered "
                     f"channel; hand over and goready it into this P's runnext.", urgent=False)
        no_peer = And(*[S.parked[q].ne(peer_code) for q in peers])
        self.add(f"gopark({fn})", dict(p=p, g=g, pc=node, op=nd.text), guard & no_peer,
                 done + [set_(S.parked[g], 2 * c + mine + 1), set_(S.gstatus[g], G_WAITING), set_(S.curg[p], 0)],
                 f"runtime/chan.go: {fn} -> gopark (all versions): no peer waits, so the G parks on "
                 f"the channel and the P schedules.", urgent=False)

    def newproc_rule(self, p, g, nd, guard, done, params):
        S = self.S
        cands = [q for q in range(S.nG) if self.kinds[q] == nd.arg]
        chain = []
        for q in reversed(cands):
            create = [set_(S.gstatus[q], G_RUNNABLE), set_(S.pc[q], 0),
                      runqput(S, p, q + 1, next=True), self.wakep()]
            chain = [when(S.gstatus[q].eq(0), create, chain)]
        self.add("newproc", params, guard, done + chain,
                 "runtime/proc.go: newproc (all versions): the new G goes to runnext of the creating P, "
                 "then wakep.  NOTE: the goroutine's count bounds how many instances exist; a go "
                 "statement past that creates nothing.", urgent=False)

    def gc_rule(self, p, g, nd, guard, params):
        S, prof = self.S, self.profile
        preempt_all = []
        for q in range(S.nP):
            if q == p:
                continue
            sets = [set_(S.gpreempt[S.curg[q] - 1], 1)]
            if prof.async_enabled:
                sets.append(set_(S.ppreempt[q], 1))
            preempt_all.append(when(S.pstatus[q].eq(P_RUNNING) & S.curg[q].ne(0), sets))
        self.add("stopTheWorld", params, guard,
                 [set_(S.stepped[p], 1),
                  when(S.gcwaiting().eq(0),
                       [set_(S.gcwaiting(), 1), set_(S.stwowner(), p + 1)] + preempt_all)],
                 "runtime/proc.go: stopTheWorldWithSema, preemptall (all versions): set gcwaiting and "
                 "ask every running G to preempt; the requesting G waits until every other P has "
                 "stopped.  If another stop is in progress the G waits a tick.", urgent=False)

    # -- stop-the-world completion ------------------------------------------------

    def stw_rules(self):
        S = self.S
        for q in range(S.nP):
            self.add("stopTheWorld(idle P)", {"p": q}, S.gcwaiting().eq(1) & S.pstatus[q].eq(P_IDLE),
                     [set_(S.pstatus[q], P_GCSTOP)],
                     "runtime/proc.go: stopTheWorldWithSema (all versions): idle Ps are stopped at once.")
            self.add("stopTheWorld(syscall P)", {"p": q}, S.gcwaiting().eq(1) & S.pstatus[q].eq(P_SYSCALL),
                     [set_(S.pstatus[q], P_GCSTOP), set_(S.curg[q], 0)],
                     "runtime/proc.go: stopTheWorldWithSema (all versions): a P whose M is in a system "
                     "call is taken (_Psyscall to _Pgcstop in 1.19).")
        for owner in range(S.nP):
            others_stopped = And(*[S.pstatus[q].eq(P_GCSTOP) for q in range(S.nP) if q != owner])
            g_of_owner = S.curg[owner]
            body = [set_(S.gcwaiting(), 0), set_(S.stwowner(), 0)]
            for q in range(S.nP):
                if q == owner:
                    continue
                body.append(when(S.pstatus[q].eq(P_GCSTOP),
                                 [when(Neg(S.runq_empty(q)),
                                       [set_(S.pstatus[q], P_RUNNING), set_(S.curg[q], 0)],
                                       [set_(S.pstatus[q], P_IDLE)])]))
            # The owner's G finishes its gc operation: pc moves to the node after it.
            for g in range(S.nG):
                for node, nd in enumerate(self.bodies[g]):
                    if nd.op.name == "gc":
                        body.append(when(g_of_owner.eq(g + 1) & S.pc[g].eq(node), [set_(S.pc[g], nd.next)]))
            body += self.wakep()
            self.add("startTheWorld", {"owner": owner},
                     S.gcwaiting().eq(1) & S.stwowner().eq(owner + 1) & others_stopped, body,
                     "runtime/proc.go: stopTheWorldWithSema completes, then startTheWorldWithSema "
                     "(all versions): every other P stopped; the GC work of the stop runs (no time in "
                     "the model); Ps with local work get an M, the rest go idle, then wakep.")

    # -- system call exit -------------------------------------------------------

    def syscall_rules(self):
        S = self.S
        for g in range(S.nG):
            done = S.gstatus[g].eq(G_SYSCALL) & S.sysleft[g].eq(0)
            fast_any = []
            for p in range(S.nP):
                fast = S.sysp[g].eq(p + 1) & S.pstatus[p].eq(P_SYSCALL) & S.curg[p].eq(g + 1)
                fast_any.append(fast)
                self.add("exitsyscall", {"g": g, "p": p}, done & fast,
                         [set_(S.pstatus[p], P_RUNNING), set_(S.gstatus[g], G_RUNNING), set_(S.sysp[g], 0)],
                         "runtime/proc.go: exitsyscall fast path (1.19: exitsyscallfast; 1.27: m.p still "
                         "wired): the P was not retaken, so the G continues on it.")
            slow = done & Neg(Or(*fast_any))
            for q in range(S.nP):
                self.add("exitsyscall(idle P)", {"g": g, "p": q},
                         slow & S.pstatus[q].eq(P_IDLE) & S.gcwaiting().eq(0),
                         [set_(S.pstatus[q], P_RUNNING), set_(S.curg[q], g + 1), set_(S.gstatus[g], G_RUNNING),
                          set_(S.sysp[g], 0), set_(S.stepped[q], 1)],
                         "runtime/proc.go: exitsyscall (1.19: exitsyscallfast_pidle; 1.27: "
                         "exitsyscallTryGetP): the old P was retaken; an idle P is acquired.")
            no_idle = And(*[S.pstatus[q].ne(P_IDLE) for q in range(S.nP)]) | S.gcwaiting().eq(1)
            self.add("exitsyscall0", {"g": g}, slow & no_idle,
                     [set_(S.gstatus[g], G_RUNNABLE), set_(S.sysp[g], 0)] + globrunqput(S, g + 1),
                     "runtime/proc.go: exitsyscall0 (1.19) / exitsyscallNoP (1.27): no P to be had; "
                     "the G goes to the global queue and the M stops.")

    # -- the clock and sysmon ---------------------------------------------------

    def tick_rule(self):
        S = self.S
        body = []
        for g in range(S.nG):
            ready = self.ready_to_run(g)
            body.append(when(ready, [set_(S.wait[g], Min(S.wait[g] + 1, S.bound + 1))]))
            body.append(when(S.tarmed[g].eq(1) & (S.tleft[g] > 0), [set_(S.tleft[g], S.tleft[g] - 1)]))
            body.append(when(S.gstatus[g].eq(G_SYSCALL) & (S.sysleft[g] > 0), [set_(S.sysleft[g], S.sysleft[g] - 1)]))
            if S.network:
                body.append(when(S.npoll[g].eq(1) & (S.nleft[g] > 0), [set_(S.nleft[g], S.nleft[g] - 1)]))
        for p in range(S.nP):
            body += [set_(S.stepped[p], 0), set_(S.slice[p], Min(S.slice[p] + 1, S.timeslice))]
        body += self.sysmon_netpoll()
        body += self.retake()
        stepped_all = And(S.mspin().eq(0), *[Neg(S.pstatus[p].eq(P_RUNNING) & S.curg[p].ne(0) & S.stepped[p].eq(0)
                                & Neg(self.stw_owner_waiting(p))) for p in range(S.nP)])
        self.add("tick", {}, stepped_all, body,
                 "The clock advances one tick after every running P executed one operation and the "
                 "runtime has nothing left to do at once.  sysmon runs once per tick (runtime/proc.go: "
                 "sysmon sleeps 20 us to 10 ms; the model folds that into the tick).  Its retake "
                 "(runtime/proc.go: retake, preemptone, handoffp; Go 1.19 and 1.27) asks the G of a P "
                 "whose schedtick has not changed for forcePreemptNS to preempt, and hands off a P "
                 "seen in the same system call twice unless its run queue is empty, an M spins or a "
                 "P is idle, and the call began less than 10 ms ago.",
                 urgent=False, tags=("tick",))

    def sysmon_preempt(self, p):
        """runtime/proc.go: retake's check of a running P and preemptone: when the P's
        schedtick has not changed for forcePreemptNS (here: the slice counter reached
        timeslice_ticks), set the G's preempt flag (stackguard0 = stackPreempt) and,
        with asynchronous preemption on, signal the M (preemptM)."""
        S, prof = self.S, self.profile
        long_running = S.pstatus[p].eq(P_RUNNING) & S.curg[p].ne(0) & (S.slice[p] >= S.timeslice)
        sets = [set_(S.gpreempt[S.curg[p] - 1], 1)]
        if prof.async_enabled:
            sets.append(set_(S.ppreempt[p], 1))
        return [when(long_running, sets)]

    def retake(self):
        """runtime/proc.go: retake and preemptone, as sysmon runs them each tick."""
        S, prof = self.S, self.profile
        out = []
        for p in range(S.nP):
            out += self.sysmon_preempt(p)
            local_empty = S.runq_empty(p)
            spare = (self.nmspinning() + self.npidle()) > 0
            keep = local_empty & spare & (S.syswhen[p] < S.timeslice)
            # NOTE: "nobody polls the network" (sched.lastpoll != 0) is taken to hold
            # when no sleep timer is armed and no G waits on the network.
            no_timers = And(*[S.tarmed[g].eq(0) for g in range(S.nG)]) & Neg(self.net_waiters())
            handoff_start = Or(Neg(local_empty), S.gqlen() > 0,
                               self.nmspinning().eq(0) & self.npidle().eq(0),
                               self.npidle().eq(S.nP - 1) & no_timers)
            spin = self.nmspinning().eq(0) & self.npidle().eq(0) & local_empty & S.gqlen().eq(0)
            retake_p = [set_(S.curg[p], 0),
                        when(S.gcwaiting().eq(1), [set_(S.pstatus[p], P_GCSTOP)],
                             [when(handoff_start,
                                   [set_(S.pstatus[p], P_RUNNING), set_(S.spinning[p], If(spin, 1, 0))],
                                   [set_(S.pstatus[p], P_IDLE)])])]
            out.append(when(S.pstatus[p].eq(P_SYSCALL), [
                set_(S.syswhen[p], Min(S.syswhen[p] + 1, S.timeslice)),
                when(S.sysseen[p].eq(0), [set_(S.sysseen[p], 1)],
                     [when(Neg(keep), retake_p)]),
            ]))
        return out

