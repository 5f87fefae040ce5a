// Main blocks reading a loopback TCP connection (a netpoll wait) while a
// CPU-bound goroutine holds the only P.
package main

import (
	"fmt"
	"net"
	"runtime"
	"time"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		c, _ := ln.Accept()
		time.Sleep(5 * time.Millisecond)
		c.Write([]byte("x"))
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			total = work(total)
		}
	}()
	buf := make([]byte, 1)
	conn.Read(buf)
	fmt.Println("read", string(buf))
}
