// A loop whose only call is to a function the compiler may not inline: the
// call's prologue is a cooperative preemption point.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var total uint64

//go:noinline
func mix(x uint64) uint64 {
	return x*3 + 1
}

// step calls mix, so it is not a leaf and keeps its stack-check prologue.
//
//go:noinline
func step(x uint64) uint64 {
	return mix(x) + 1
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
