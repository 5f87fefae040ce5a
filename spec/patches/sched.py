"""Built-in scheduler mutations: each removes one real mechanism of runtime/proc.go.

They exist to show why the mechanism is there: ``gmpcheck compare SCENARIO
--patch NAME`` reports which properties the removal breaks, with a minimal
counterexample.  Each is written with the same patch interface a user's patch
file has (spec.patch).
"""

from __future__ import annotations

from spec.lang import FALSE
from spec.patch import Patch


def _no_inherit_time(model):
    # runqget runs a G taken from runnext with inheritTime = true; here every G
    # starts a new slice, so schedtick advances on every hand-off.
    model.wrap("execute", lambda original, p, g, inherit: original(p, g, inherit=False))


def _no_fairness_61(model):
    # schedule checks the global queue first when schedtick % 61 == 0; here never.
    model.wrap("fairness_due", lambda original, p: FALSE)
    model.remove("globrunqget(fairness)")


def _no_sysmon_preempt(model):
    # retake never requests preemption of a long-running G; the syscall retake stays.
    model.wrap("sysmon_preempt", lambda original, p: [])


def _no_runnext_steal(model):
    # stealWork's last round never takes another P's runnext, so a P whose only
    # work in sight is another P's runnext goes idle, and a spinning M's re-check
    # does not count a runnext as work it could take.
    model.remove("runqsteal(runnext)")
    model.wrap("has_stealable_work", lambda original, q, runnext=True: original(q, runnext=False))


def _no_runqputslow(model):
    # A full ring sends only the new G to the global queue.  The ring keeps its
    # oldest Gs instead of moving half of them to where other Ps can take them.
    from spec.sched.queues import globrunqput
    model.wrap("runqputslow", lambda original, S, p, g: globrunqput(S, g))


def _no_spinning_recheck(model):
    # An M that stops spinning goes to sleep at once, without looking at the run
    # queues again.
    from spec.lang import Rule, set_
    S = model.S

    def sleep_at_once(rule):
        body = [set_(S.mspin(), S.mspin() - 1)]
        return Rule(rule.name, rule.params, rule.guard, body, rule.urgent,
                    "The M stops spinning and sleeps without re-checking the run queues.", rule.cite, rule.tags)
    model.replace("stopm(recheck)", sleep_at_once)


def _gosched_in_pollwait(model):
    # runtime_pollWait calls Gosched once before it parks in netpollblock: the G
    # first goes to the global queue, and parks when it runs again.
    from spec.lang import set_
    from spec.sched.queues import globrunqput
    from spec.sched.state import G_RUNNABLE
    S, b = model.S, model.builder

    def pollwait_rules(original, p, g, nd, guard, step, advance, params):
        body = step + [set_(S.pollyield[g], 1), set_(S.gstatus[g], G_RUNNABLE), set_(S.curg[p], 0)]
        body += globrunqput(S, g + 1)
        if b.profile.gosched_wakep:
            body += b.wakep()
        b.add("Gosched(pollWait)", params, guard & S.pollyield[g].eq(0), body,
              "The patched runtime_pollWait calls Gosched before netpollblock: the G goes to the "
              "tail of the global queue and the P schedules.", urgent=False)
        original(p, g, nd, guard & S.pollyield[g].eq(1), step + [set_(S.pollyield[g], 0)], advance, params)

    model.wrap("pollwait_rules", pollwait_rules)


PATCHES = [
    Patch("no-inherit-time",
          "a G taken from runnext starts a new time slice (runqget's inheritTime is always false)",
          _no_inherit_time, "built-in"),
    Patch("no-fairness-61",
          "schedule never takes a G from the global queue before the local one (no schedtick % 61 check)",
          _no_fairness_61, "built-in"),
    Patch("no-sysmon-preempt",
          "sysmon never preempts a G that has run longer than the time slice",
          _no_sysmon_preempt, "built-in"),
    Patch("no-runnext-steal",
          "stealWork's last round does not steal another P's runnext",
          _no_runnext_steal, "built-in"),
    Patch("no-spinning-recheck",
          "an M that stops spinning sleeps without re-checking every run queue",
          _no_spinning_recheck, "built-in"),
    Patch("gosched-in-pollwait",
          "runtime_pollWait calls Gosched once before it parks the G in netpollblock",
          _gosched_in_pollwait, "built-in"),
    Patch("no-runqputslow",
          "a full local ring sends only the new G to the global queue, not half the ring with it",
          _no_runqputslow, "built-in"),
]
