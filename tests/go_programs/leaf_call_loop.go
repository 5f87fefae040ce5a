// A loop whose only call is to a leaf function the compiler may not inline:
// the amd64 back end drops the stack check of a leaf with a small frame, so
// the call has no prologue and the loop no cooperative preemption point.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var total uint64

//go:noinline
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
