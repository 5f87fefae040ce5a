// Two goroutines hand a token back and forth over unbuffered channels while a
// CPU-bound goroutine shares their only P. Main exits once the hog has run.
package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

var hogRan uint32
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
	a := make(chan int)
	b := make(chan int)
	go func() {
		for {
			a <- 1
			<-b
		}
	}()
	go func() {
		for {
			<-a
			b <- 1
		}
	}()
	go func() {
		for {
			total = work(total)
			atomic.StoreUint32(&hogRan, 1)
		}
	}()
	for atomic.LoadUint32(&hogRan) == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("hog ran")
}
