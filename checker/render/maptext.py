"""Text views of a map trace: the narrative, per-step hmap lines and a Mermaid sequence diagram."""

from __future__ import annotations

from checker import maptrace
from checker.render.mermaid import escape
from checker.render.mapview import MapTraceView


def trace_of(view: MapTraceView) -> list[tuple]:
    """The trace as (rule index or None, state) pairs, as BMC returns it."""
    index = {id(r): k for k, r in enumerate(view.model.rules)}
    return [(None if r is None else index[id(r)], s) for r, s in zip(view.rules, view.states)]


def render(view: MapTraceView) -> str:
    """Return the narrative that ``gmpcheck check`` writes next to a map trace."""
    from checker.bmc import Result
    m = view.meta
    res = Result(view.prop, m.get("verdict", "violated"), m.get("length", view.last), 0.0)
    head = maptrace.header(view.model, view.prop, res.summary())
    return maptrace.narrative(view.model, trace_of(view), view.prop if view.violated else None, head)


def hmap_line(view: MapTraceView, i: int) -> str:
    """Print state i as one line in the spirit of GODEBUG output: hmap fields, entries per bucket, iterators.

    ``buckets=[ ... ]`` lists the full slots of each bucket's chain (like
    schedtrace's per-P run queue lengths), ``oldbuckets=[ ... ]`` the same for
    each old bucket, with ``e`` for an evacuated one.
    """
    d = view.layout(i)

    def counts(chains):
        out = []
        for chain in chains:
            if chain and chain[0].evacuated:
                out.append("e")
            else:
                out.append(str(sum(1 for b in chain for t in b.tophash if t >= maptrace.MIN_TOP_HASH)))
        return "[ " + " ".join(out) + " ]"

    old = counts(d.old) if d.growing else "nil"
    line = (f"HMAP step {i} {view.step_label(i)}: B={d.B} count={d.count} noverflow={d.noverflow} "
            f"nevacuate={d.nevacuate} flags={'|'.join(d.flags) or '0'} buckets={counts(d.table) if d.buckets else 'nil'} "
            f"oldbuckets={old}")
    for it in d.iterators:
        if it.state == "idle":
            continue
        line += (f" it{it.index}=[ {it.state.replace(' ', '-')} bucket={it.bucket} i={it.i} "
                 f"start={it.start} wrapped={it.wrapped} ]")
    return line


def hmap_lines(view: MapTraceView) -> str:
    """Return one hmap line per state of the trace."""
    return "\n".join(hmap_line(view, i) for i in range(len(view.states))) + "\n"


ITER_RULES = ("mapiterinit", "mapiternext")


def mermaid(view: MapTraceView) -> str:
    """Return a Mermaid sequence diagram: the program calls the map and its iterators; iterators return keys."""
    lines = ["sequenceDiagram", f"    title {escape(view.title())}", "    participant prog as program",
             "    participant hmap"]
    its = sorted({r.params["it"] for r in view.rules[1:] if r is not None and r.name in ITER_RULES})
    lines += [f"    participant it{n} as iterator {n}" for n in its]
    lines.append(f"    Note over prog,hmap: state 0: {escape('; '.join(view.layout(0).summary_lines()))}")
    for i in range(1, len(view.states)):
        rule = view.rules[i]
        target = f"it{rule.params['it']}" if rule.name in ITER_RULES else "hmap"
        lines.append(f"    prog->>{target}: {escape(f'{i}: {rule.label()}')}")
        for ev in view.events(i):
            if " returns " in ev:
                lines.append(f"    {target}-->>prog: {escape(ev.split(' returns ', 1)[1])}")
            else:
                lines.append(f"    Note over {target}: {escape(ev)}")
    if view.violated:
        for why in view.violation() or [view.prop]:
            lines.append(f"    Note over prog,hmap: state {view.last} violates {escape(view.prop)}: {escape(why)}")
    return "\n".join(lines) + "\n"
