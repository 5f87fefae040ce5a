// A call-free loop that yields with runtime.Gosched on every iteration.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var counter uint64

func main() {
	runtime.GOMAXPROCS(1)
	go func() {
		for {
			counter++
			runtime.Gosched()
		}
	}()
	time.Sleep(10 * time.Millisecond)
	fmt.Println("main woke")
}
