// Ranging over a map forever: every iteration calls the runtime's map
// iterator, whose prologue is a cooperative preemption point.
package main

import (
	"fmt"
	"runtime"
	"time"
)

const size = 100000

var sum int

func main() {
	runtime.GOMAXPROCS(1)
	m := make(map[int]int, size)
	for i := 0; i < size; i++ {
		m[i] = i
	}
	go func() {
		for {
			for k := range m {
				sum += k
			}
		}
	}()
	time.Sleep(10 * time.Millisecond)
	fmt.Println("main woke")
}
