// Command maps applies a list of operations to a classic (bucket-based) Go
// map and prints the map's internal layout at each "dump" operation.
//
// It reads one JSON object on stdin:
//
//	{"key": "u64" | "f64", "hint": 0, "ops": [{"op": "assign", "k": K, "v": V}, ...]}
//
// "u64" selects map[uint64]uint64, whose assignments and deletions the
// compiler lowers to runtime.mapassign_fast64 and runtime.mapdelete_fast64.
// "f64" selects map[float64]uint64, which uses the generic runtime.mapassign
// and runtime.mapdelete. "hint" is the size hint passed to make. The
// operations are "assign" (m[k] = v), "delete" (delete(m, k)), "clear"
// (runtime.mapclear) and "dump". For "f64", K is a JSON number or one of the
// strings "NaN", "+Inf", "Inf" and "-Inf".
//
// Each dump prints one JSON line on stdout; dump.go describes its fields.
// Invalid input makes the program print one line on stderr and exit with
// status 2. The layout mirrors in dump.go match Go 1.19 only, so the program
// exits with status 2 under any other release.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Maps that the program operates on. Package-level variables make each map
// escape to the heap, so make() calls runtime.makemap with a nil *hmap. A
// map that stays on the stack may get a stack-allocated first bucket instead
// of the lazily allocated one that the dumps are meant to show.
var (
	u64Map map[uint64]uint64
	f64Map map[float64]uint64
)

type opKind int

const (
	opAssign opKind = iota
	opDelete
	opClear
	opDump
)

var opKinds = map[string]opKind{
	"assign": opAssign,
	"delete": opDelete,
	"clear":  opClear,
	"dump":   opDump,
}

// An inputOp is one element of the "ops" array as it appears in the input.
type inputOp struct {
	Op string          `json:"op"`
	K  json.RawMessage `json:"k"`
	V  *uint64         `json:"v"`
}

// An input is the JSON object read from stdin.
type input struct {
	Key  string    `json:"key"`
	Hint int       `json:"hint"`
	Ops  []inputOp `json:"ops"`
}

// An op is a validated operation. keyBits holds the uint64 key, or the bits
// of the float64 key of an "f64" map.
type op struct {
	kind    opKind
	keyBits uint64
	value   uint64
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "maps: "+format+"\n", args...)
	os.Exit(2)
}

// parseU64Key parses a JSON number that is an integer in [0, 2^64).
func parseU64Key(raw json.RawMessage) (uint64, error) {
	text := string(bytes.TrimSpace(raw))
	k, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid u64 key %s: expected an integer from 0 to %d", text, uint64(math.MaxUint64))
	}
	return k, nil
}

// parseF64Key parses a JSON number or one of the strings "NaN", "+Inf",
// "Inf" and "-Inf", and returns the bits of the float64. "NaN" gives the bits
// of math.NaN().
func parseF64Key(raw json.RawMessage) (uint64, error) {
	text := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(text, `"`) {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return 0, fmt.Errorf("invalid f64 key %s: %v", text, err)
		}
		switch name {
		case "NaN":
			return math.Float64bits(math.NaN()), nil
		case "+Inf", "Inf":
			return math.Float64bits(math.Inf(1)), nil
		case "-Inf":
			return math.Float64bits(math.Inf(-1)), nil
		}
		return 0, fmt.Errorf(`invalid f64 key %s: expected a number, "NaN", "+Inf", "Inf" or "-Inf"`, text)
	}
	if text == "" || !json.Valid(raw) || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) {
		return 0, fmt.Errorf("invalid f64 key %s: expected a JSON number or a string", text)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid f64 key %s: %v", text, err)
	}
	return math.Float64bits(f), nil
}

// parseOps validates the input operations. It returns them together with
// every distinct non-NaN key they use, in order of first use.
func parseOps(keyType string, rawOps []inputOp) ([]op, []uint64) {
	parseKey := parseU64Key
	if keyType == "f64" {
		parseKey = parseF64Key
	}

	ops := make([]op, 0, len(rawOps))
	var keys []uint64
	seen := make(map[uint64]bool)
	for i, raw := range rawOps {
		kind, ok := opKinds[raw.Op]
		if !ok {
			fail("op %d: invalid op %q: expected assign, delete, clear or dump", i, raw.Op)
		}
		parsed := op{kind: kind}

		needsKey := kind == opAssign || kind == opDelete
		if needsKey && raw.K == nil {
			fail("op %d (%s): missing field \"k\"", i, raw.Op)
		}
		if !needsKey && raw.K != nil {
			fail("op %d (%s): unexpected field \"k\"", i, raw.Op)
		}
		if kind == opAssign && raw.V == nil {
			fail("op %d (assign): missing field \"v\"", i)
		}
		if kind != opAssign && raw.V != nil {
			fail("op %d (%s): unexpected field \"v\"", i, raw.Op)
		}

		if needsKey {
			bits, err := parseKey(raw.K)
			if err != nil {
				fail("op %d (%s): %v", i, raw.Op, err)
			}
			parsed.keyBits = bits
			isNaN := keyType == "f64" && math.IsNaN(math.Float64frombits(bits))
			if !isNaN && !seen[bits] {
				seen[bits] = true
				keys = append(keys, bits)
			}
		}
		if raw.V != nil {
			parsed.value = *raw.V
		}
		ops = append(ops, parsed)
	}
	return ops, keys
}

// runU64 applies ops to a map[uint64]uint64.
func runU64(out *bufio.Writer, hint int, ops []op, keys []uint64) {
	u64Map = make(map[uint64]uint64, hint)
	m := u64Map
	for i, o := range ops {
		switch o.kind {
		case opAssign:
			m[o.keyBits] = o.value
		case opDelete:
			delete(m, o.keyBits)
		case opClear:
			// The compiler turns this loop into one call of runtime.mapclear
			// (isMapClear in cmd/compile/internal/walk/range.go), because
			// uint64 keys are reflexive. No iterator is created.
			for k := range m {
				delete(m, k)
			}
		case opDump:
			writeDump(out, i, m, len(m), keys, false)
		}
	}
}

// runF64 applies ops to a map[float64]uint64.
func runF64(out *bufio.Writer, hint int, ops []op, keys []uint64) {
	f64Map = make(map[float64]uint64, hint)
	m := f64Map
	for i, o := range ops {
		k := math.Float64frombits(o.keyBits)
		switch o.kind {
		case opAssign:
			m[k] = o.value
		case opDelete:
			delete(m, k)
		case opClear:
			// Go 1.19 has no clear builtin, and the compiler does not turn
			// "for k := range m { delete(m, k) }" into runtime.mapclear for
			// float keys (NaN != NaN), so runtime.mapclear is called directly.
			clearMap(m)
		case opDump:
			writeDump(out, i, m, len(m), keys, true)
		}
	}
}

func main() {
	if v := runtime.Version(); v != "go1.19" && !strings.HasPrefix(v, "go1.19.") {
		fail("built with %s, but the layout mirrors match Go 1.19 only: build with Go 1.19", v)
	}

	decoder := json.NewDecoder(os.Stdin)
	decoder.DisallowUnknownFields()
	var in input
	if err := decoder.Decode(&in); err != nil {
		fail("invalid input on stdin: %v", err)
	}
	if decoder.More() {
		fail("invalid input on stdin: expected one JSON object, found more data after it")
	}
	if in.Key != "u64" && in.Key != "f64" {
		fail(`invalid "key" %q: expected "u64" or "f64"`, in.Key)
	}
	if in.Hint < 0 {
		fail(`invalid "hint" %d: expected a non-negative integer`, in.Hint)
	}
	ops, keys := parseOps(in.Key, in.Ops)

	out := bufio.NewWriter(os.Stdout)
	if in.Key == "u64" {
		runU64(out, in.Hint, ops, keys)
	} else {
		runF64(out, in.Hint, ops, keys)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "maps: writing stdout failed: %v\n", err)
		os.Exit(1)
	}
}
