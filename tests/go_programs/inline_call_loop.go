// A loop whose only call is inlined: no call instruction is left, so the loop
// has no cooperative preemption point.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var total uint64

func step(x uint64) uint64 {
	return x*3 + 1
}

func main() {
	runtime.GOMAXPROCS(1)
	go func() {
		for {
			total = step(total)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	fmt.Println("main woke")
}
