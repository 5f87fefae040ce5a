// Main starts 100 sleepers in a loop, then a call-free loop, and waits until
// every sleeper woke.
package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

const sleepers = 100

var woke int32
var counter, limit uint64 = 0, ^uint64(0)

func sleeper() {
	time.Sleep(10 * time.Millisecond)
	atomic.AddInt32(&woke, 1)
}

func main() {
	runtime.GOMAXPROCS(1)
	for i := 0; i < sleepers; i++ {
		go sleeper()
	}
	go func() {
		for {
			counter++
			if counter == limit {
				counter = 0
			}
		}
	}()
	for atomic.LoadInt32(&woke) < sleepers {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("all sleepers woke")
}
