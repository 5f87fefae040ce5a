// Command cases runs one scheduler-fairness case against the real Go runtime.
//
// The program builds a map of 1e6 ints, parks 100 goroutines in
// time.Sleep(10ms), and then starts one spinner goroutine whose body depends
// on the case. When every sleeper has woken, it prints one JSON line on
// stdout with the sleepers' lateness (measured sleep minus 10 ms) and exits
// with status 0. The spinner never returns, so a runtime that cannot take the
// processor away from the spinner never prints that line, and neither does
// main. The caller must detect that with a timeout.
//
// Just after the spinner goroutine is started, the program writes one line
// beginning with "spinner started" to stderr, so the caller can start its
// timeout there and not count the time spent building the map.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"
)

const (
	mapSize      = 1000000
	sleeperCount = 100
	sleepFor     = 10 * time.Millisecond
)

// spinCounter is a package-level variable so that the compiler has to load,
// increment and store it on every iteration and cannot delete the loop.
var spinCounter uint64

// spinLimit is never equal to spinCounter in practice. Comparing against it
// gives the tight loop a compare and a branch without making it finite.
var spinLimit uint64 = ^uint64(0)

// spinSum receives the values computed by the map-ranging spinners.
var spinSum int

var intMap map[int]int

// A spinCase is one spinner body and the GOMAXPROCS value it runs under.
type spinCase struct {
	gomaxprocs int
	spin       func()
}

var spinCases = map[string]spinCase{
	"tight-loop-p1":         {gomaxprocs: 1, spin: spinTightLoop},
	"tight-loop-p2":         {gomaxprocs: 2, spin: spinTightLoop},
	"range-map-p1":          {gomaxprocs: 1, spin: spinRangeMap},
	"range-map-p2":          {gomaxprocs: 2, spin: spinRangeMap},
	"inline-call-loop-p1":   {gomaxprocs: 1, spin: spinInlineCallLoop},
	"noinline-call-loop-p1": {gomaxprocs: 1, spin: spinNoinlineCallLoop},
	"gosched-loop-p1":       {gomaxprocs: 1, spin: spinGoschedLoop},
}

// spinTightLoop loops forever without calling any function, so only
// asynchronous (signal-based) preemption can stop it.
func spinTightLoop() {
	for {
		spinCounter++
		if spinCounter == spinLimit {
			spinCounter = 0
		}
	}
}

// spinRangeMap ranges over the map forever. Each iteration step calls into
// the runtime's map iterator, whose function prologue is a cooperative
// preemption point.
func spinRangeMap() {
	for {
		for range intMap {
		}
	}
}

// addOneInlined is small enough that the compiler inlines it.
func addOneInlined(k int) int {
	return k + 1
}

//go:noinline
func addOneNotInlined(k int) int {
	return k + 1
}

func spinInlineCallLoop() {
	for {
		for k := range intMap {
			spinSum += addOneInlined(k)
		}
	}
}

func spinNoinlineCallLoop() {
	for {
		for k := range intMap {
			spinSum += addOneNotInlined(k)
		}
	}
}

// spinGoschedLoop has a call-free body apart from runtime.Gosched, which
// yields the processor on every iteration.
func spinGoschedLoop() {
	for {
		spinCounter++
		if spinCounter == spinLimit {
			spinCounter = 0
		}
		runtime.Gosched()
	}
}

// A report is the JSON line printed on stdout after every sleeper woke.
type report struct {
	Case            string  `json:"case"`
	Go              string  `json:"go"`
	Gomaxprocs      int     `json:"gomaxprocs"`
	Sleepers        int     `json:"sleepers"`
	WorstLatenessMs float64 `json:"worst_lateness_ms"`
	MeanLatenessMs  float64 `json:"mean_lateness_ms"`
}

func caseIDs() []string {
	ids := make([]string, 0, len(spinCases))
	for id := range spinCases {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func main() {
	caseID := flag.String("case", "", "case id to run (see -list)")
	list := flag.Bool("list", false, "print the case ids, one per line, and exit")
	flag.Parse()

	if *list {
		for _, id := range caseIDs() {
			fmt.Println(id)
		}
		return
	}
	c, ok := spinCases[*caseID]
	if !ok {
		fmt.Fprintf(os.Stderr, "invalid -case %q: expected one of %v\n", *caseID, caseIDs())
		os.Exit(2)
	}

	runtime.GOMAXPROCS(c.gomaxprocs)

	intMap = make(map[int]int, mapSize)
	for i := 0; i < mapSize; i++ {
		intMap[i] = i
	}

	// Each sleeper reports ready just before it records its start time and
	// calls time.Sleep, and the spinner starts only after all of them are
	// ready. Under GOMAXPROCS=1 every timer is therefore armed before the
	// spinner runs. Under GOMAXPROCS=2 a sleeper can still be on its way into
	// time.Sleep, which does not change its measured lateness.
	var ready, woke sync.WaitGroup
	ready.Add(sleeperCount)
	woke.Add(sleeperCount)
	lateness := make([]time.Duration, sleeperCount)
	for i := 0; i < sleeperCount; i++ {
		go func(i int) {
			ready.Done()
			start := time.Now()
			time.Sleep(sleepFor)
			lateness[i] = time.Since(start) - sleepFor
			woke.Done()
		}(i)
	}
	ready.Wait()

	go c.spin()
	fmt.Fprintf(os.Stderr, "spinner started: case=%s go=%s gomaxprocs=%d\n",
		*caseID, runtime.Version(), runtime.GOMAXPROCS(0))

	woke.Wait()

	var worst, total time.Duration
	for _, d := range lateness {
		total += d
		if d > worst {
			worst = d
		}
	}
	line, err := json.Marshal(report{
		Case:            *caseID,
		Go:              runtime.Version(),
		Gomaxprocs:      runtime.GOMAXPROCS(0),
		Sleepers:        sleeperCount,
		WorstLatenessMs: float64(worst) / float64(time.Millisecond),
		MeanLatenessMs:  float64(total) / float64(sleeperCount) / float64(time.Millisecond),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "encoding the report failed: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(string(line))
	// os.Exit ends the process although the spinner goroutine never returns.
	os.Exit(0)
}
