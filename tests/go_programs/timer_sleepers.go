// A goroutine sleeps five times in a row while a CPU-bound goroutine with
// calls in its loop runs on the same P; main waits for the sleeper.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var total uint64

//go:noinline
func mix(x uint64) uint64 {
	return x*7 + 3
}

// work calls mix, so it is not a leaf and keeps its stack-check prologue.
//
//go:noinline
func work(x uint64) uint64 {
	return mix(x) + 1
}

func main() {
	runtime.GOMAXPROCS(1)
	done := make(chan bool)
	go func() {
		for i := 0; i < 5; i++ {
			time.Sleep(2 * time.Millisecond)
		}
		done <- true
	}()
	go func() {
		for {
			total = work(total)
		}
	}()
	<-done
	fmt.Println("sleeper done")
}
