"""Goroutine operations and their yield-point attributes.

A goroutine body is a control-flow graph whose nodes are operations.  What the
scheduler cares about is captured by two attributes of each operation:

* ``prologue``: executing it enters a function with a stack-check prologue, a
  cooperative preemption point (runtime/stack.go: newstack sees stackPreempt in
  g.stackguard0, set by runtime/proc.go: preemptone).  Inlined calls and
  call-free code have none (cmd/compile inlining; loop back-edges get no check).
* ``async_safe``: an asynchronous preemption signal (SIGURG, Go 1.14 on) that
  lands while it runs can be acted on (runtime/preempt.go: isAsyncSafePoint).
  User code is; runtime code such as mapiternext's body is not.

This table is the single source for both the yield-point cycle query
(checker/cfg.py) and the op rules of the model (spec/sched/model.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpKind:
    name: str
    prologue: bool
    async_safe: bool
    arg: str | None  # None, "ticks", "channel" or "goroutine"
    doc: str


OPS: dict[str, OpKind] = {k.name: k for k in [
    OpKind("compute", False, True, None,
           "call-free computation (a loop body the compiler leaves without calls)"),
    OpKind("call", True, True, None,
           "call of a function that keeps its stack-check prologue (not inlined, not nosplit)"),
    OpKind("inline-call", False, True, None,
           "call that the compiler inlined: no call instruction, no prologue"),
    OpKind("range-map", True, False, None,
           "one step of a range over a map: a call of runtime.mapiternext (Go 1.19) or "
           "runtime.mapIterNext (Go 1.24+), which has a prologue; its body is runtime code, "
           "never an async safe point"),
    OpKind("gosched", True, True, None, "runtime.Gosched: the G goes to the global run queue"),
    OpKind("sleep", True, True, "ticks", "time.Sleep(N ticks): a timer on the current P, then gopark"),
    OpKind("send", True, True, "channel", "send on an unbuffered channel: ready a parked receiver or park"),
    OpKind("recv", True, True, "channel", "receive from an unbuffered channel: ready a parked sender or park"),
    OpKind("syscall", True, True, "ticks", "a blocking system call lasting N ticks (entersyscall/exitsyscall)"),
    OpKind("netread", True, True, "ticks",
           "a blocking network read whose data arrives N ticks later: runtime_pollWait parks the G "
           "in netpollblock until netpoll reports the descriptor ready"),
    OpKind("go", True, True, "goroutine", "go statement: newproc puts the new G in runnext"),
    OpKind("gc", True, True, None, "an allocation that starts a GC cycle: stop-the-world"),
    OpKind("exit", True, True, None, "the goroutine returns (goexit)"),
]}


def is_preemption_point(op: OpKind, async_preempt: bool) -> bool:
    """Whether a pending preemption request can land at ``op`` under a profile."""
    return op.prologue or (async_preempt and op.async_safe)
