// Main asks for a garbage collection while a call-free loop runs on the other
// P: the collection's stop-the-world must stop the loop first.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var counter, limit uint64 = 0, ^uint64(0)

func main() {
	runtime.GOMAXPROCS(2)
	go func() {
		for {
			counter++
			if counter == limit {
				counter = 0
			}
		}
	}()
	time.Sleep(5 * time.Millisecond)
	runtime.GC()
	fmt.Println("gc done")
}
