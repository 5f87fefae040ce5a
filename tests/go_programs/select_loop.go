// Main receives five values through a select over two channels while a
// CPU-bound goroutine with calls in its loop shares the P.
package main

import (
	"fmt"
	"runtime"
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
	a := make(chan int)
	b := make(chan int)
	go func() {
		for {
			a <- 1
		}
	}()
	go func() {
		for {
			total = work(total)
		}
	}()
	got := 0
	for i := 0; i < 5; i++ {
		select {
		case v := <-a:
			got += v
		case v := <-b:
			got += v
		}
	}
	fmt.Println("received", got)
}
