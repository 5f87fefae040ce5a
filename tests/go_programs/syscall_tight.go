// Main makes blocking system calls while a call-free loop runs: when main
// returns from a system call it needs the P back from the loop.
package main

import (
	"fmt"
	"runtime"
	"syscall"
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
	ts := syscall.Timespec{Nsec: 2000000}
	for i := 0; i < 3; i++ {
		syscall.Nanosleep(&ts, nil)
	}
	fmt.Println("main done")
}
