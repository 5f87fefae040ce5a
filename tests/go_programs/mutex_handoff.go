// Two goroutines take turns on a sync.Mutex in a loop while main sleeps on the
// same P and then takes the mutex once.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

var mu sync.Mutex
var shared uint64

func worker() {
	for {
		mu.Lock()
		shared++
		mu.Unlock()
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	go worker()
	go worker()
	time.Sleep(10 * time.Millisecond)
	mu.Lock()
	fmt.Println("main has the lock", shared > 0)
	mu.Unlock()
}
