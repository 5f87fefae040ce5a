// A call-free loop and a sleeping main on two Ps: the second P runs main.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var counter, limit uint64 = 0, ^uint64(0)

func spin() {
	for {
		counter++
		if counter == limit {
			counter = 0
		}
	}
}

func main() {
	runtime.GOMAXPROCS(2)
	go spin()
	time.Sleep(10 * time.Millisecond)
	fmt.Println("main woke")
}
