package main

// The types in this file mirror the memory layout of Go 1.19's map header,
// buckets and map type descriptor (hmap, mapextra and bmap in
// runtime/map.go, _type and maptype in runtime/type.go, eface in
// runtime/runtime2.go). A dump reads the map only through them and never
// iterates, looks up or writes, so it never calls growWork or changes the map.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"unsafe"
)

const (
	slotsPerBucket = 8 // bucketCnt in runtime/map.go

	flagSameSizeGrow = 8 // sameSizeGrow in runtime/map.go

	// Bits of maptype.flags (runtime/type.go).
	mapTypeIndirectKey   = 1
	mapTypeIndirectElem  = 2
	mapTypeReflexiveKey  = 4
	mapTypeNeedKeyUpdate = 8

	kindMask = 1<<5 - 1 // kindMask in runtime/typekind.go
)

// mapHeader mirrors hmap.
type mapHeader struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      *mapExtra
}

// mapExtra mirrors mapextra.
type mapExtra struct {
	overflow     *[]unsafe.Pointer
	oldoverflow  *[]unsafe.Pointer
	nextOverflow *bucket
}

// bucket mirrors the bucket type that the compiler generates for a map with
// 8-byte keys and 8-byte values that hold no pointers: 8 tophash bytes, 8
// keys, 8 values and the overflow pointer, 144 bytes on 64-bit platforms.
type bucket struct {
	tophash  [slotsPerBucket]uint8
	keys     [slotsPerBucket]uint64
	values   [slotsPerBucket]uint64
	overflow *bucket
}

// typeHeader mirrors _type.
type typeHeader struct {
	size       uintptr
	ptrdata    uintptr
	hash       uint32
	tflag      uint8
	align      uint8
	fieldAlign uint8
	kind       uint8
	equal      func(unsafe.Pointer, unsafe.Pointer) bool
	gcdata     *byte
	str        int32
	ptrToThis  int32
}

// mapType mirrors maptype.
type mapType struct {
	typ        typeHeader
	key        *typeHeader
	elem       *typeHeader
	bucket     *typeHeader
	hasher     func(unsafe.Pointer, uintptr) uintptr
	keysize    uint8
	elemsize   uint8
	bucketsize uint16
	flags      uint32
}

// emptyInterface mirrors eface: the type word and the data word of an any.
// The data word of a map value is the *hmap itself.
type emptyInterface struct {
	typ  *mapType
	data unsafe.Pointer
}

//go:linkname runtimeMapclear runtime.mapclear
func runtimeMapclear(t *mapType, h *mapHeader)

// clearMap removes every entry of m with runtime.mapclear, the function
// that the compiler calls for "for k := range m { delete(m, k) }" when the
// key type is reflexive.
func clearMap(m any) {
	t, h := mapParts(m)
	runtimeMapclear(t, h)
}

// mapParts returns the map type descriptor and header of m, a map value
// stored in an interface.
func mapParts(m any) (*mapType, *mapHeader) {
	iface := (*emptyInterface)(unsafe.Pointer(&m))
	return iface.typ, (*mapHeader)(iface.data)
}

// checkMapType exits with status 2 unless t describes a map with the bucket
// layout that the bucket mirror assumes. floatKeys selects the flags that a
// float64 key type has.
func checkMapType(t *mapType, floatKeys bool) {
	if reflect.Kind(t.typ.kind&kindMask) != reflect.Map {
		fail("mirror check failed: the type word has kind %d, expected map (%d)", t.typ.kind&kindMask, reflect.Map)
	}
	if t.keysize != 8 || t.elemsize != 8 || t.key.size != 8 || t.elem.size != 8 {
		fail("mirror check failed: key/elem sizes %d/%d, expected 8/8", t.keysize, t.elemsize)
	}
	if uintptr(t.bucketsize) != unsafe.Sizeof(bucket{}) || t.bucket.size != unsafe.Sizeof(bucket{}) {
		fail("mirror check failed: bucket size %d, expected %d", t.bucketsize, unsafe.Sizeof(bucket{}))
	}
	if t.bucket.ptrdata != 0 {
		fail("mirror check failed: the bucket type holds pointers, expected none")
	}
	wantFlags := uint32(mapTypeReflexiveKey)
	if floatKeys {
		wantFlags = mapTypeNeedKeyUpdate
	}
	if t.flags&(mapTypeIndirectKey|mapTypeIndirectElem|mapTypeReflexiveKey|mapTypeNeedKeyUpdate) != wantFlags {
		fail("mirror check failed: maptype flags %#x, expected %#x", t.flags, wantFlags)
	}
}

// bucketJSON is one bucket in a dump: the raw contents of all 8 slots.
type bucketJSON struct {
	Tophash [slotsPerBucket]int    `json:"tophash"`
	Keys    [slotsPerBucket]uint64 `json:"keys"`
	Values  [slotsPerBucket]uint64 `json:"values"`
}

// extraJSON describes h.extra. Overflow and Oldoverflow are the lengths of
// the slices that keep overflow buckets alive (null for a nil slice
// pointer). NextOverflow is the number of preallocated overflow buckets
// still free at the end of the bucket array, counted from
// h.extra.nextOverflow (0 when it is nil).
type extraJSON struct {
	Overflow     *int `json:"overflow"`
	Oldoverflow  *int `json:"oldoverflow"`
	NextOverflow int  `json:"nextOverflow"`
}

// dumpJSON is one line of output. Buckets and Oldbuckets contain, for each
// bucket index, the chain of buckets in overflow order, and are null when the
// runtime pointer is nil. Hashes maps each key of the input (decimal
// uint64 key, or decimal float64 bits) to its hash under Hash0.
type dumpJSON struct {
	OpIndex    int               `json:"op_index"`
	B          uint8             `json:"B"`
	Count      int               `json:"count"`
	Flags      uint8             `json:"flags"`
	Noverflow  uint16            `json:"noverflow"`
	Nevacuate  uint64            `json:"nevacuate"`
	Hash0      string            `json:"hash0"`
	Buckets    [][]bucketJSON    `json:"buckets"`
	Oldbuckets [][]bucketJSON    `json:"oldbuckets"`
	Extra      *extraJSON        `json:"extra"`
	Hashes     map[string]string `json:"hashes"`
}

// readTable returns the chains of the n buckets that start at array.
func readTable(array unsafe.Pointer, n uintptr, bucketSize uintptr) [][]bucketJSON {
	if array == nil {
		return nil
	}
	table := make([][]bucketJSON, n)
	for i := uintptr(0); i < n; i++ {
		for b := (*bucket)(unsafe.Add(array, i*bucketSize)); b != nil; b = b.overflow {
			var out bucketJSON
			for slot := 0; slot < slotsPerBucket; slot++ {
				out.Tophash[slot] = int(b.tophash[slot])
			}
			out.Keys = b.keys
			out.Values = b.values
			table[i] = append(table[i], out)
		}
	}
	return table
}

func sliceLength(s *[]unsafe.Pointer) *int {
	if s == nil {
		return nil
	}
	n := len(*s)
	return &n
}

// countFreeOverflow counts the preallocated overflow buckets from next to
// the end of the bucket array. makeBucketArray marks the last one by giving
// it a non-nil overflow pointer, and every other free one has a nil pointer.
func countFreeOverflow(next *bucket, bucketSize uintptr) int {
	if next == nil {
		return 0
	}
	n := 1
	for b := next; b.overflow == nil; b = (*bucket)(unsafe.Add(unsafe.Pointer(b), bucketSize)) {
		n++
	}
	return n
}

// writeDump writes the layout of m, a map[uint64]uint64 or
// map[float64]uint64, as one JSON line. length is len(m), which checks the
// header mirror. keys lists the keys to hash: uint64 keys, or float64 bits
// when floatKeys is set.
func writeDump(out *bufio.Writer, opIndex int, m any, length int, keys []uint64, floatKeys bool) {
	t, h := mapParts(m)
	checkMapType(t, floatKeys)
	if h.count != length {
		fail("mirror check failed: hmap.count is %d but len(m) is %d", h.count, length)
	}
	bucketSize := uintptr(t.bucketsize)

	d := dumpJSON{
		OpIndex:   opIndex,
		B:         h.B,
		Count:     h.count,
		Flags:     h.flags,
		Noverflow: h.noverflow,
		Nevacuate: uint64(h.nevacuate),
		Hash0:     strconv.FormatUint(uint64(h.hash0), 10),
		Hashes:    make(map[string]string, len(keys)),
	}
	d.Buckets = readTable(h.buckets, uintptr(1)<<h.B, bucketSize)
	if h.oldbuckets != nil {
		// noldbuckets in runtime/map.go: half as many buckets, unless the
		// map grows to the same size.
		oldB := h.B
		if h.flags&flagSameSizeGrow == 0 {
			oldB--
		}
		d.Oldbuckets = readTable(h.oldbuckets, uintptr(1)<<oldB, bucketSize)
	}
	if h.extra != nil {
		d.Extra = &extraJSON{
			Overflow:     sliceLength(h.extra.overflow),
			Oldoverflow:  sliceLength(h.extra.oldoverflow),
			NextOverflow: countFreeOverflow(h.extra.nextOverflow, bucketSize),
		}
	}

	seed := uintptr(h.hash0)
	for _, bits := range keys {
		var hash uintptr
		if floatKeys {
			f := math.Float64frombits(bits)
			hash = t.hasher(unsafe.Pointer(&f), seed)
		} else {
			k := bits
			hash = t.hasher(unsafe.Pointer(&k), seed)
		}
		d.Hashes[strconv.FormatUint(bits, 10)] = strconv.FormatUint(uint64(hash), 10)
	}

	line, err := json.Marshal(d)
	if err != nil {
		fail("encoding dump of op %d failed: %v", opIndex, err)
	}
	line = append(line, '\n')
	if _, err := out.Write(line); err != nil {
		fmt.Fprintf(os.Stderr, "maps: writing stdout failed: %v\n", err)
		os.Exit(1)
	}
}
