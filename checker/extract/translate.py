"""Translate a Go syntax tree (tree-sitter-go) into goroutine bodies of scenario operations.

The result is an intermediate form: lists of ``Op`` and ``Loop`` items, each
with the Go source position it came from, and one ``GSpec`` per goroutine.
checker/extract/__init__.py turns it into scenario TOML.  docs/extract.md
describes every abstraction made here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from checker.extract.inlining import InlineInfo, guess_inlined

Pos = tuple[int, int]  # 1-based line and byte column, as the Go compiler prints them

REAL_TIMESLICE_NS = 10_000_000  # forcePreemptNS in runtime/proc.go
MAX_TICKS = 16                  # the largest tick count an operation takes (spec/scenario.py)
MAX_TIMES = 8                   # iterations the model unrolls of a longer constant loop
REPRESENTATIVES = 2             # goroutines kept of a loop of symmetric go statements
MAX_COUNT = 64                  # the largest goroutine count a scenario takes
NETREAD_TICKS = 2               # data arrival after a blocking network read, in ticks
SYSCALL_TICKS = 2               # length of a blocking system call, in ticks

DURATION_UNITS = {"Nanosecond": 1, "Microsecond": 1_000, "Millisecond": 1_000_000,
                  "Second": 1_000_000_000, "Minute": 60_000_000_000, "Hour": 3_600_000_000_000}
BUILTINS = {"append", "cap", "clear", "complex", "copy", "delete", "imag", "len", "make", "max", "min",
            "new", "panic", "print", "println", "real", "recover", "close"}
BASIC_TYPES = {"bool", "byte", "rune", "string", "int", "int8", "int16", "int32", "int64", "uint", "uint8",
               "uint16", "uint32", "uint64", "uintptr", "float32", "float64", "complex64", "complex128",
               "any", "error"}
OS_SYSCALLS = {"ReadFile", "WriteFile", "Open", "Create", "OpenFile", "Stat", "Lstat", "Remove", "Mkdir",
               "MkdirAll", "ReadDir", "Rename", "Truncate", "Chdir", "Getwd"}
MUTEX_METHODS = {"Lock", "Unlock", "RLock", "RUnlock", "TryLock"}
NET_DIALS = {"Dial", "DialTCP", "DialUDP", "DialUnix", "DialTimeout", "FileConn"}
NET_LISTENS = {"Listen", "ListenTCP", "ListenUnix"}
NET_READS = {"Read", "ReadFrom", "ReadFromUDP", "ReadMsgUDP"}
FILE_CALLS = {"Read", "Write", "ReadAt", "WriteAt", "Sync", "Close", "Seek", "ReadDir", "Stat"}


class ExtractError(Exception):
    """A Go file that cannot be extracted: the message is one diagnostic line."""


@dataclass
class Op:
    text: str     # a scenario operation, e.g. "sleep 2"
    pos: Pos
    origin: str   # the Go code it stands for, shortened


@dataclass
class Loop:
    body: list
    times: int | None  # None: the loop never ends
    pos: Pos
    origin: str


def never_returns(items: list) -> bool:
    """Return whether operations end their body: a call of os.Exit, or an inlined call's loop without end."""
    return any(isinstance(it, Op) and it.text == "exit" or isinstance(it, Loop) and it.times is None
               for it in items)


@dataclass
class GSpec:
    """One goroutine kind: the function it runs and the go statement that starts it."""

    name: str
    body: list
    function: Pos
    created: Pos | None   # None for the entry goroutine
    origin: str
    parent: str | None
    multiplier: int | None  # go statements executed per parent instance; None: without end
    count: int = 1


@dataclass
class Ctx:
    func: str           # enclosing function, for naming function literals
    goroutine: str      # goroutine kind whose body is being built
    multiplier: int | None = 1


def pos(node) -> Pos:
    return node.start_point[0] + 1, node.start_point[1] + 1


def text(node) -> str:
    return node.text.decode("utf-8", errors="replace")


def short(node, limit: int = 40) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def statements(block) -> list:
    """Return the statements of a block (tree-sitter-go wraps them in a statement_list)."""
    out = []
    for c in block.named_children:
        if c.type == "statement_list":
            out.extend(s for s in c.named_children if s.type != "comment")
        elif c.type != "comment":
            out.append(c)
    return out


def descendants(node, stop=("func_literal",)):
    for c in node.named_children:
        yield c
        if c.type not in stop:
            yield from descendants(c, stop)


class Translator:
    """Walk one Go file from its entry function and collect goroutine kinds."""

    def __init__(self, display: str, root, inline: InlineInfo, timeslice_ticks: int = 2):
        self.display = display
        self.root = root
        self.inline = inline
        self.tick_ns = REAL_TIMESLICE_NS / timeslice_ticks
        self.funcs: dict[str, object] = {}
        self.methods: dict[str, object] = {}
        self.pragmas: dict[int, set[str]] = {}
        self.imports: dict[str, str] = {}
        self.consts: dict[str, int] = {}
        self.maps: set[str] = set()
        self.chans: dict[str, int | None] = {}
        self.conns: set[str] = set()
        self.listeners: set[str] = set()
        self.files: set[str] = set()
        self.types: set[str] = set()
        self.gomaxprocs: int | None = None
        self.gomaxprocs_pos: Pos | None = None
        self.warnings: list[str] = []
        self.guesses: list[str] = []
        self.specs: list[GSpec] = []
        self.call_stack: list[str] = []
        self.literal_counter: dict[str, int] = {}
        self.ctx: Ctx | None = None  # context of the statement being translated
        self._collect()

    # ---- file-level facts -------------------------------------------------

    def warn(self, where: Pos, msg: str) -> None:
        line = f"{self.display}:{where[0]}:{where[1]}: {msg}"
        if line not in self.warnings:
            self.warnings.append(line)

    def _collect(self) -> None:
        pending_pragmas: set[str] = set()
        for node in self.root.named_children:
            if node.type == "comment":
                t = text(node)
                if t.startswith("//go:"):
                    pending_pragmas.add(t[2:].split()[0])
                continue
            if node.type == "function_declaration":
                self.funcs[text(node.child_by_field_name("name"))] = node
                self.pragmas[node.id] = pending_pragmas
            elif node.type == "method_declaration":
                self.methods[text(node.child_by_field_name("name"))] = node
                self.pragmas[node.id] = pending_pragmas
            elif node.type == "import_declaration":
                for spec in (n for n in descendants(node) if n.type == "import_spec"):
                    path = text(spec.child_by_field_name("path")).strip('"`')
                    alias = spec.child_by_field_name("name")
                    self.imports[text(alias) if alias else path.rsplit("/", 1)[-1]] = path
            elif node.type == "type_declaration":
                for spec in (n for n in descendants(node) if n.type == "type_spec"):
                    self.types.add(text(spec.child_by_field_name("name")))
            pending_pragmas = set()
        for node in descendants(self.root, stop=()):
            if node.type == "const_spec":
                self._const_spec(node)
            elif node.type in ("var_spec", "parameter_declaration"):
                self._typed_names(node)
            elif node.type in ("short_var_declaration", "assignment_statement"):
                self._assigned_names(node)

    def _const_spec(self, node) -> None:
        names = [c for c in node.named_children if c.type == "identifier"]
        value = node.child_by_field_name("value")
        if value is None:
            return
        for name, v in zip(names, value.named_children):
            n = self.const_value(v)
            if n is not None:
                self.consts[text(name)] = n

    def _typed_names(self, node) -> None:
        t = node.child_by_field_name("type")
        names = [text(c) for c in node.named_children if c.type == "identifier"]
        if t is not None:
            self._classify(names, type_node=t)
        value = node.child_by_field_name("value")
        if value is not None and value.named_children:
            self._classify(names[:1], value=value.named_children[0])

    def _assigned_names(self, node) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None or not right.named_children:
            return
        names = [text(c) for c in left.named_children]
        self._classify(names[:1], value=right.named_children[0])

    def _classify(self, names: list[str], type_node=None, value=None) -> None:
        """Record names that hold maps, channels, network connections or files."""
        kind, buffered = None, None
        if type_node is not None:
            t = text(type_node).replace(" ", "")
            if type_node.type == "map_type":
                kind = "map"
            elif type_node.type == "channel_type":
                kind = "chan"
            elif t in ("net.Conn", "*net.TCPConn", "*net.UnixConn", "*net.UDPConn"):
                kind = "conn"
            elif t in ("net.Listener", "*net.TCPListener"):
                kind = "listener"
            elif t == "*os.File":
                kind = "file"
        if value is not None:
            if value.type == "composite_literal" and value.child_by_field_name("type") is not None \
                    and value.child_by_field_name("type").type == "map_type":
                kind = "map"
            elif value.type == "call_expression":
                fn = value.child_by_field_name("function")
                args = value.child_by_field_name("arguments")
                args = args.named_children if args is not None else []
                if text(fn) == "make" and args:
                    if args[0].type == "map_type":
                        kind = "map"
                    elif args[0].type == "channel_type":
                        kind = "chan"
                        buffered = self.const_value(args[1]) if len(args) > 1 else 0
                elif fn.type == "selector_expression":
                    pkg, name = self.selector(fn)
                    if pkg == "net" and name in NET_DIALS:
                        kind = "conn"
                    elif pkg == "net" and name in NET_LISTENS:
                        kind = "listener"
                    elif pkg == "os" and name in ("Open", "Create", "OpenFile"):
                        kind = "file"
                    elif pkg is None and name == "Accept" and self.root_name(fn) in self.listeners:
                        kind = "conn"
        for n in names:
            if kind == "map":
                self.maps.add(n)
            elif kind == "chan":
                self.chans[n] = buffered
            elif kind == "conn":
                self.conns.add(n)
            elif kind == "listener":
                self.listeners.add(n)
            elif kind == "file":
                self.files.add(n)

    def selector(self, fn) -> tuple[str | None, str]:
        """Return (imported package path or None, selected name) of a selector expression."""
        operand, fld = fn.child_by_field_name("operand"), fn.child_by_field_name("field")
        name = text(fld) if fld is not None else ""
        if operand is not None and operand.type == "identifier" and text(operand) in self.imports:
            return self.imports[text(operand)], name
        return None, name

    def root_name(self, fn) -> str:
        operand = fn.child_by_field_name("operand")
        while operand is not None and operand.type in ("selector_expression", "parenthesized_expression"):
            operand = operand.child_by_field_name("operand") or (operand.named_children or [None])[0]
        return text(operand) if operand is not None else ""

    def const_value(self, node) -> int | None:
        """Evaluate an integer or time.Duration constant expression; None when not constant."""
        t = node.type
        if t == "int_literal":
            try:
                return int(text(node).replace("_", ""), 0)
            except ValueError:
                return None
        if t == "float_literal":
            try:
                v = float(text(node).replace("_", ""))
            except ValueError:
                return None
            return int(v) if v == int(v) else None
        if t == "identifier":
            return self.consts.get(text(node))
        if t == "parenthesized_expression" and node.named_children:
            return self.const_value(node.named_children[0])
        if t == "selector_expression":
            pkg, name = self.selector(node)
            if pkg == "time" and name in DURATION_UNITS:
                return DURATION_UNITS[name]
            return None
        if t == "call_expression":
            fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
            if text(fn) in ("time.Duration", "int", "int64") and args is not None and len(args.named_children) == 1:
                return self.const_value(args.named_children[0])
            return None
        if t == "binary_expression":
            a = self.const_value(node.child_by_field_name("left"))
            b = self.const_value(node.child_by_field_name("right"))
            op = text(node.child_by_field_name("operator"))
            if a is None or b is None:
                return None
            if op == "*":
                return a * b
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "/" and b:
                return a // b
            if op == "<<":
                return a << b
        return None

    # ---- goroutines -----------------------------------------------------------

    def entry(self, name: str) -> GSpec:
        fnode = self.funcs.get(name)
        if fnode is None:
            raise ExtractError(f"{self.display}: entry function {name!r} not found; "
                               f"give --entry with one of: {', '.join(sorted(self.funcs)) or 'none declared'}")
        self.call_stack.append(name)
        body, _ = self.block(fnode.child_by_field_name("body"), Ctx(name, name))
        self.call_stack.pop()
        spec = GSpec(name, body or [Op("compute", pos(fnode), "empty function")], pos(fnode), None,
                     f"func {name}", None, 1)
        self.specs.insert(0, spec)
        self._count_goroutines()
        return spec

    def _count_goroutines(self) -> None:
        """Set each goroutine kind's count: its go statement's runs times its creator's count."""
        by_name = {s.name: s for s in self.specs}

        def count(s: GSpec) -> int:
            if s.parent is None:
                return 1
            parent = count(by_name[s.parent])
            if s.multiplier is None:
                self.warn(s.created, f"go statement inside a loop without end: the model keeps "
                                     f"{REPRESENTATIVES} instances of {s.name}")
                return REPRESENTATIVES
            n = parent * s.multiplier
            if n > MAX_COUNT:
                self.warn(s.created, f"{n} instances of {s.name} reduced to {MAX_COUNT}")
                return MAX_COUNT
            return n

        for s in self.specs:
            s.count = count(s)

    def _unique(self, name: str) -> str:
        name = name.replace(" ", "")
        taken = {s.name for s in self.specs} | set(self.call_stack[:1])
        if name not in taken:
            return name
        k = 2
        while f"{name}_{k}" in taken:
            k += 1
        return f"{name}_{k}"

    def go_statement(self, node, ctx: Ctx) -> list:
        call = node.named_children[0]
        if call.type != "call_expression":
            self.warn(pos(node), "go statement without a call: kept as compute")
            return [Op("compute", pos(node), short(node))]
        fn, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
        ops = self.args(args)
        target, fname = None, None
        if fn.type == "func_literal":
            k = self.literal_counter.get(ctx.func, 0) + 1
            self.literal_counter[ctx.func] = k
            fname = f"{ctx.func}.func{k}"
            target = fn
        elif fn.type == "identifier" and text(fn) in self.funcs:
            fname = text(fn)
            target = self.funcs[fname]
        elif fn.type == "selector_expression" and self.selector(fn)[0] is None \
                and self.selector(fn)[1] in self.methods:
            fname = self.selector(fn)[1]
            target = self.methods[fname]
        name = self._unique(fname or short(fn, 30).replace(".", "_"))
        if target is None:
            self.warn(pos(node), f"go {short(fn)}: function not declared in this file, so its body "
                                 f"is modelled as one call")
            body = [Op("call", pos(call), short(call))]
        elif fname in self.call_stack:
            self.warn(pos(node), f"go {fname}: recursive go statement, so the new goroutine's body "
                                 f"is modelled as one call")
            body = [Op("call", pos(call), short(call))]
        else:
            self.call_stack.append(fname)
            body, _ = self.block(target.child_by_field_name("body"), Ctx(fname, name))
            self.call_stack.pop()
            body = body or [Op("compute", pos(target), "empty function")]
        spec = GSpec(name, body, pos(target) if target is not None else pos(call), pos(node),
                     f"go {short(call)}", ctx.goroutine, ctx.multiplier)
        self.specs.append(spec)
        return ops + [Op(f"go {name}", pos(node), f"go {short(call)}")]

    # ---- statements -----------------------------------------------------------

    def block(self, node, ctx: Ctx) -> tuple[list, bool]:
        """Translate a block; the flag is True when control never leaves it."""
        items: list = []
        stmts = statements(node) if node.type == "block" else [node]
        outer, self.ctx = self.ctx, ctx
        try:
            for i, s in enumerate(stmts):
                part, ends = self.statement(s, ctx)
                items.extend(part)
                if ends:
                    rest = [t for t in stmts[i + 1:] if t.type != "empty_statement"]
                    if rest:
                        self.warn(pos(rest[0]), "not modelled: control never gets here in the model, "
                                                "because the statement before it runs forever or exits")
                    return merge(items), True
            return merge(items), False
        finally:
            self.ctx = outer

    def statement(self, node, ctx: Ctx) -> tuple[list, bool]:
        t = node.type
        if t == "expression_statement":
            ops = self.expr(node.named_children[0])
            return self.compute_if_empty(ops, node), never_returns(ops)
        if t == "send_statement":
            ch, value = node.named_children[0], node.child_by_field_name("value")
            ops = self.expr(value)
            if never_returns(ops):
                return ops, True
            return ops + [self.chan_op("send", ch, node)], False
        if t in ("short_var_declaration", "assignment_statement", "var_declaration", "inc_statement",
                 "dec_statement"):
            ops = self.expr(node)
            return self.compute_if_empty(ops, node), never_returns(ops)
        if t == "const_declaration":
            for spec in (n for n in descendants(node) if n.type == "const_spec"):
                self._const_spec(spec)
            return [], False
        if t in ("type_declaration", "empty_statement"):
            return [], False
        if t == "go_statement":
            return self.go_statement(node, ctx), False
        if t == "for_statement":
            return self.for_statement(node, ctx)
        if t == "if_statement":
            return self.if_statement(node, ctx)
        if t in ("expression_switch_statement", "type_switch_statement"):
            return self.switch_statement(node, ctx)
        if t == "select_statement":
            return self.select_statement(node, ctx)
        if t == "block":
            return self.block(node, ctx)
        if t == "labeled_statement":
            inner = [c for c in node.named_children if c.type != "label_name"]
            return self.statement(inner[0], ctx) if inner else ([], False)
        if t == "return_statement":
            ops = self.expr(node)
            return ops, never_returns(ops)
        if t == "defer_statement":
            self.warn(pos(node), "defer: the deferred call runs when the function returns, which the "
                                 "model does not follow; kept as compute")
            return [Op("compute", pos(node), short(node))], False
        if t in ("break_statement", "continue_statement", "goto_statement", "fallthrough_statement"):
            self.warn(pos(node), f"{text(node).split()[0]}: jumps are not modelled and are ignored")
            return [], False
        self.warn(pos(node), f"{t.replace('_', ' ')} is not modelled; kept as compute")
        return [Op("compute", pos(node), short(node))], False

    def compute_if_empty(self, ops: list, node) -> list:
        return ops or [Op("compute", pos(node), short(node))]

    def for_statement(self, node, ctx: Ctx) -> tuple[list, bool]:
        body_node = node.child_by_field_name("body")
        clause = next((c for c in node.named_children if c.id != body_node.id and c.type != "comment"), None)
        starts_goroutines = any(d.type == "go_statement" for d in descendants(body_node))
        times, prefix = None, []
        if clause is None:
            pass  # `for {}` has no bound
        elif clause.type == "for_clause":
            times = self.trip_count(clause)
            if times is None:
                self.warn(pos(node), f"loop bound of `for {short(clause)}` is not a constant: modelled "
                                     f"as a loop without end")
        elif clause.type == "range_clause":
            right = clause.child_by_field_name("right")
            rname = text(right)
            if rname in self.maps or right.type == "composite_literal" and "map[" in text(right)[:4]:
                prefix = [Op("range-map", pos(node), f"for range {short(right)}")]
                self.warn(pos(node), f"range over map {rname}: its length is not known, so the loop is "
                                     f"modelled without end, one mapiternext call per iteration")
            elif rname in self.chans:
                prefix = [self.chan_op("recv", right, node)]
                self.warn(pos(node), f"range over channel {rname}: the model has no close, so the loop is "
                                     f"modelled without end, one receive per iteration")
            else:
                times = self.const_value(right)
                if times is None and right.type == "composite_literal":
                    body = right.child_by_field_name("body")
                    times = len(body.named_children) if body is not None else None
                if times is None:
                    self.warn(pos(node), f"range over {short(right)}: its length is not known, so the "
                                         f"loop is modelled without end")
        else:
            if text(clause) != "true":
                self.warn(pos(node), f"loop condition `{short(clause)}` is not a constant: modelled as a "
                                     f"loop without end")

        if times is not None and times <= 0:
            self.warn(pos(node), f"loop runs {times} times: left out")
            return [], False
        origin = f"for {short(clause)}" if clause is not None else "for"
        if times is not None and starts_goroutines and times > REPRESENTATIVES:
            self.warn(pos(node), f"loop starts goroutines {times} times: reduced to {REPRESENTATIVES} "
                                 f"representatives, because the goroutines it starts are symmetric")
            origin += f" ({times} iterations reduced to {REPRESENTATIVES})"
            times = REPRESENTATIVES
        if times is None and clause is not None:
            exits = [d for d in descendants(body_node) if d.type in ("return_statement", "break_statement")]
            if exits and clause.type != "range_clause":
                self.warn(pos(exits[0]), f"{exits[0].type.split('_')[0]} leaves the loop at line {pos(node)[0]}, "
                                         f"which the model runs without end")
        inner_multiplier = None
        if times is not None and ctx.multiplier is not None:
            inner_multiplier = ctx.multiplier * times
        inner = Ctx(ctx.func, ctx.goroutine, inner_multiplier)
        items, ends = self.block(body_node, inner)
        body = merge(prefix + items)
        if not body:
            body = [Op("compute", pos(body_node), "empty loop body")]
        if times is not None and all(isinstance(it, Op) and it.text == "compute" for it in body):
            # A compute step has no length in the model, so a loop that ends and
            # only computes is one step, whatever its iteration count.
            return [Op("compute", pos(node), f"{origin} ({times} iterations of computation)")], False
        if times is not None and times > MAX_TIMES:
            self.warn(pos(node), f"loop runs {times} times: the model unrolls {MAX_TIMES} iterations")
            origin += f" ({times} iterations reduced to {MAX_TIMES})"
            times = MAX_TIMES
        loop = Loop(body, times, pos(node), origin)
        return [loop], times is None or ends

    def trip_count(self, clause) -> int | None:
        """Iterations of `for i := A; i < B; i++` (or <=, or i += 1) with constant A and B."""
        init = clause.child_by_field_name("initializer")
        cond = clause.child_by_field_name("condition")
        update = clause.child_by_field_name("update")
        if init is None or cond is None or update is None or init.type != "short_var_declaration":
            return None
        left, right = init.child_by_field_name("left"), init.child_by_field_name("right")
        if len(left.named_children) != 1 or len(right.named_children) != 1:
            return None
        var, start = text(left.named_children[0]), self.const_value(right.named_children[0])
        if cond.type != "binary_expression" or start is None:
            return None
        op = text(cond.child_by_field_name("operator"))
        a, b = cond.child_by_field_name("left"), cond.child_by_field_name("right")
        if text(a) != var:
            return None
        end = self.const_value(b)
        step_ok = (update.type == "inc_statement" and text(update.named_children[0]) == var) or \
            text(update).replace(" ", "") == f"{var}+=1"
        if end is None or not step_ok:
            return None
        if op == "<":
            return max(0, end - start)
        if op == "<=":
            return max(0, end - start + 1)
        return None

    def if_statement(self, node, ctx: Ctx) -> tuple[list, bool]:
        ops = []
        init = node.child_by_field_name("initializer")
        if init is not None:
            ops += self.statement(init, ctx)[0]
        ops += self.expr(node.child_by_field_name("condition"))
        branches = [self.block(node.child_by_field_name("consequence"), ctx)]
        alt = node.child_by_field_name("alternative")
        if alt is None:
            branches.append(([], False))
        elif alt.type == "if_statement":
            branches.append(self.if_statement(alt, ctx))
        else:
            branches.append(self.block(alt, ctx))
        return self.choose(node, "if", ops, branches)

    def switch_statement(self, node, ctx: Ctx) -> tuple[list, bool]:
        ops = []
        value = node.child_by_field_name("value")
        if value is not None:
            ops += self.expr(value)
        branches, has_default = [], False
        for case in node.named_children:
            if case.type in ("expression_case", "type_case", "default_case"):
                has_default |= case.type == "default_case"
                branches.append(self.block_of_case(case, ctx))
        if not has_default:
            branches.append(([], False))
        return self.choose(node, "switch", ops, branches)

    def block_of_case(self, case, ctx: Ctx) -> tuple[list, bool]:
        """Translate the statements of a switch or select case (not its value or communication)."""
        items: list = []
        body = next((c for c in case.named_children if c.type == "statement_list"), None)
        for s in body.named_children if body is not None else []:
            if s.type == "comment":
                continue
            part, ends = self.statement(s, ctx)
            items.extend(part)
            if ends:
                return merge(items), True
        return merge(items), False

    def select_statement(self, node, ctx: Ctx) -> tuple[list, bool]:
        cases = [c for c in node.named_children if c.type in ("communication_case", "default_case")]
        if not cases:
            self.warn(pos(node), "select {} blocks forever: modelled as a receive nobody sends on")
            return [Op("recv select-forever", pos(node), "select {}")], False
        comm = [c for c in cases if c.type == "communication_case"]
        if any(c.type == "default_case" for c in cases):
            branches = []
            for c in cases:
                branches.append(self.block_of_case(c, ctx))
            self.warn(pos(node), "select with default never blocks: modelled by its branch with the "
                                 "fewest operations other than compute")
            return self.choose(node, "select", [], branches, quiet=True)
        first = comm[0]
        if len(comm) > 1:
            self.warn(pos(node), f"select: the model has no choice between channels, so it follows the "
                                 f"first case (line {pos(first)[0]})")
        communication = first.child_by_field_name("communication")
        if communication is not None and communication.type == "send_statement":
            ops, _ = self.statement(communication, ctx)
        else:
            ops = self.expr(communication)
        items, ends = self.block_of_case(first, ctx)
        return merge(ops + items), ends

    def choose(self, node, what: str, ops: list, branches, quiet: bool = False) -> tuple[list, bool]:
        """Keep one branch: the one with the fewest operations other than compute (first on a tie).

        The model has no branches.  Keeping the branch with the fewest
        operations keeps a loop's missing preemption point visible when a
        rarely taken branch holds the only call.
        """
        def weight(branch):
            return sum(1 for it in flatten(branch[0]) if it.text != "compute")

        best = min(range(len(branches)), key=lambda i: weight(branches[i]))
        if not quiet and any(weight(b) for b in branches):
            self.warn(pos(node), f"{what}: the model has no branches; it keeps the branch with the fewest "
                                 f"operations other than compute ({'no branch taken' if not branches[best][0] else 'branch ' + str(best + 1)})")
        items, ends = branches[best]
        return merge(ops + (items or [Op("compute", pos(node), what)])), ends

    # ---- expressions and calls ---------------------------------------------

    def args(self, args) -> list:
        out = []
        if args is not None:
            for a in args.named_children:
                out += self.expr(a)
        return out

    def expr(self, node) -> list:
        """Operations an expression performs, in evaluation order."""
        if node is None:
            return []
        t = node.type
        if t == "call_expression":
            return self.call(node)
        if t == "func_literal":
            return []
        if t == "unary_expression" and text(node.child_by_field_name("operator")) == "<-":
            operand = node.child_by_field_name("operand")
            if operand.type == "call_expression":
                fn = operand.child_by_field_name("function")
                if fn.type == "selector_expression" and self.selector(fn) in (("time", "After"), ("time", "Tick")):
                    return self.sleep(operand, node)
            return self.expr(operand) + [self.chan_op("recv", operand, node)]
        out = []
        for c in node.named_children:
            out += self.expr(c)
        return out

    def chan_op(self, kind: str, ch, node) -> Op:
        name = "".join(c if c.isalnum() or c in "_." else "_" for c in text(ch))
        if self.chans.get(text(ch)):
            self.warn(pos(node), f"channel {text(ch)} is buffered: modelled as unbuffered")
        elif text(ch) not in self.chans:
            self.warn(pos(node), f"channel {text(ch)} is not declared with make(chan ...) in this file: "
                                 f"modelled as an unbuffered channel named {name}")
        return Op(f"{kind} {name}", pos(node), short(node))

    def sleep(self, call, node) -> list:
        args = call.child_by_field_name("arguments").named_children
        d = self.const_value(args[0]) if args else None
        if d is None:
            self.warn(pos(node), f"duration of {short(call)} is not a constant: modelled as 1 tick")
            ticks = 1
        elif d <= 0:
            return [Op("compute", pos(node), short(call))]
        else:
            ticks = max(1, math.ceil(d / self.tick_ns))
            if ticks > MAX_TICKS:
                self.warn(pos(node), f"{short(call)} is {ticks} ticks: cut to {MAX_TICKS}, the longest "
                                     f"sleep the model takes")
                ticks = MAX_TICKS
        return [Op(f"sleep {ticks}", pos(node), short(call))]

    def call_kind(self, call, name: str, local_node=None) -> tuple[str, str]:
        """Return ("call" | "inline-call", note) for a call site."""
        pragmas = self.pragmas.get(local_node.id, set()) if local_node is not None else set()
        if "go:nosplit" in pragmas:
            return "inline-call", "go:nosplit, so no prologue"
        args = call.child_by_field_name("arguments")
        site = pos(args) if args is not None else pos(call)
        if not self.inline.guessed:
            if site in self.inline.sites:
                return "inline-call", "inlined by the compiler"
            if local_node is not None and self.is_leaf(local_node):
                return "inline-call", "not inlined, but a leaf function: no stack check"
            return "call", "not inlined by the compiler"
        if local_node is not None and self.is_leaf(local_node):
            self.guesses.append(f"{self.display}:{site[0]}:{site[1]}: {name}: inline-call (leaf function: "
                                f"no stack check)")
            return "inline-call", "leaf function: no stack check"
        if local_node is None:
            kind = "call"
        else:
            body = local_node.child_by_field_name("body")
            stmts = statements(body) if body is not None else []
            inner = list(descendants(body)) if body is not None else []
            kind = "inline-call" if guess_inlined(len(stmts), any(d.type == "call_expression" for d in inner),
                                                  any(d.type == "for_statement" for d in inner),
                                                  pragmas) else "call"
        self.guesses.append(f"{self.display}:{site[0]}:{site[1]}: {name}: {kind} (guessed)")
        return kind, "guessed"

    def is_leaf(self, fnode) -> bool:
        """Whether a function makes no calls, so the amd64 back end drops its stack check.

        cmd/internal/obj/x86/obj6.go: preprocess marks a function NOSPLIT when
        its frame is under StackSmall (128 bytes) and it contains no CALL.  The
        frame size is not known from source: a leaf is taken to have a small
        frame.  Builtins that allocate, map indexing and channel operations
        call into the runtime, so they make a function a non-leaf.
        """
        body = fnode.child_by_field_name("body")
        if body is None:
            return False
        for d in descendants(body, stop=()):
            if d.type in ("go_statement", "defer_statement", "send_statement", "select_statement",
                          "func_literal"):
                return False
            if d.type == "unary_expression" and text(d.child_by_field_name("operator")) == "<-":
                return False
            if d.type == "index_expression" and text(d.child_by_field_name("operand")) in self.maps:
                return False
            if d.type == "call_expression":
                fn = text(d.child_by_field_name("function"))
                if fn not in ("len", "cap", "min", "max", "real", "imag", "complex") and fn not in BASIC_TYPES:
                    return False
        return True

    def call(self, node) -> list:
        fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        ops = self.args(args) if fn.type != "selector_expression" or self.selector(fn) != ("time", "Sleep") else []
        where = pos(node)
        if fn.type == "func_literal":
            kind, _ = self.call_kind(node, "func literal", fn)
            return ops + self.expand(kind, node, fn, "func literal")
        if fn.type in ("identifier", "parenthesized_type", "array_type", "slice_type", "map_type",
                       "pointer_type", "qualified_type", "generic_type", "type_identifier"):
            name = text(fn)
            if name in BUILTINS:
                if name == "close":
                    self.warn(where, "close of a channel is not modelled; kept as compute")
                return ops
            if name in BASIC_TYPES or name in self.types or fn.type != "identifier":
                return ops
            if name in self.funcs:
                kind, _ = self.call_kind(node, name, self.funcs[name])
                return ops + self.expand(kind, node, self.funcs[name], name)
            self.warn(where, f"call of {name}, a function value: modelled as a call with a prologue")
            return ops + [Op("call", where, short(node))]
        if fn.type == "selector_expression":
            pkg, name = self.selector(fn)
            if pkg is not None:
                return ops + self.package_call(node, pkg, name)
            recv = self.root_name(fn)
            if name in MUTEX_METHODS:
                # The uncontended fast path of sync.Mutex (a CAS) is inlined since
                # Go 1.14; blocking on a held mutex is not modelled.
                if self.inline.guessed:
                    self.guesses.append(f"{self.display}:{where[0]}:{where[1]}: {short(fn)}: inline-call "
                                        f"(guessed: the fast path is inlined)")
                    kind = "inline-call"
                else:
                    kind, _ = self.call_kind(node, short(fn))
                return ops + [Op(kind, where, f"{short(node)} (mutex fast path; contention not modelled)")]
            if recv in self.conns and name in NET_READS or recv in self.listeners and name == "Accept":
                return ops + [Op(f"netread {NETREAD_TICKS}", where, short(node))]
            if recv in self.files and name in FILE_CALLS:
                return ops + [Op(f"syscall {SYSCALL_TICKS}", where, short(node))]
            if name == "Wait":
                self.warn(where, f"{short(node)}: waiting is not modelled; kept as a call")
            if name in self.methods:
                kind, _ = self.call_kind(node, name, self.methods[name])
                return ops + self.expand(kind, node, self.methods[name], name)
            kind, _ = self.call_kind(node, short(fn))
            return ops + [Op(kind, where, short(node))]
        self.warn(where, f"call of {short(fn)} is not modelled; kept as compute")
        return ops + [Op("compute", where, short(node))]

    def package_call(self, node, pkg: str, name: str) -> list:
        where = pos(node)
        if pkg == "runtime":
            if name == "Gosched":
                return [Op("gosched", where, short(node))]
            if name == "GC":
                return [Op("gc", where, short(node))]
            if name == "GOMAXPROCS":
                args = node.child_by_field_name("arguments").named_children
                n = self.const_value(args[0]) if args else None
                if n is None:
                    self.warn(where, "runtime.GOMAXPROCS with a value that is not a constant is ignored")
                elif n >= 1 and self.gomaxprocs is None:
                    self.gomaxprocs, self.gomaxprocs_pos = n, where
                return []
        if pkg == "sync/atomic":
            # The compiler turns sync/atomic functions into single instructions
            # (cmd/compile/internal/ssagen intrinsics on amd64 and arm64): no call.
            return []
        if pkg == "time" and name == "Sleep":
            return self.sleep(node, node)
        if pkg == "syscall":
            return [Op(f"syscall {SYSCALL_TICKS}", where, short(node))]
        if pkg == "os" and name == "Exit":
            return [Op("exit", where, short(node))]
        if pkg == "os" and name in OS_SYSCALLS:
            return [Op(f"syscall {SYSCALL_TICKS}", where, short(node))]
        kind, _ = self.call_kind(node, f"{pkg}.{name}")
        return [Op(kind, where, short(node))]

    def expand(self, kind: str, call, fnode, name: str) -> list:
        """Return the call op followed by the callee's operations when it does more than compute."""
        here = Op(kind, pos(call), short(call))
        if name in self.call_stack:
            self.warn(pos(call), f"recursive call of {name}: modelled as one {kind}")
            return [here]
        self.call_stack.append(name)
        ctx = Ctx(self.ctx.func if fnode.type == "func_literal" else name, self.ctx.goroutine,
                  self.ctx.multiplier)
        body, _ = self.block(fnode.child_by_field_name("body"), ctx) \
            if fnode.child_by_field_name("body") is not None else ([], False)
        self.call_stack.pop()
        if all(isinstance(it, Op) and it.text == "compute" for it in body):
            return [here]
        return merge([here] + body)


def flatten(items):
    for it in items:
        if isinstance(it, Loop):
            yield from flatten(it.body)
        else:
            yield it


def merge(items: list) -> list:
    """Merge consecutive compute ops: straight-line code between two operations is one step."""
    out: list = []
    for it in items:
        if isinstance(it, Op) and it.text == "compute" and out and isinstance(out[-1], Op) \
                and out[-1].text == "compute":
            continue
        out.append(it)
    return out
