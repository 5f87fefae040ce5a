// A call-free loop and a sleeping main on one P: main wakes only if the loop
// can be preempted asynchronously.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var counter, limit uint64 = 0, ^uint64(0)

func main() {
	runtime.GOMAXPROCS(1)
	go func() {
		for {
			counter++
			if counter == limit {
				counter = 0
			}
		}
	}()
	time.Sleep(10 * time.Millisecond)
	fmt.Println("main woke")
}
