// This file is empty on purpose. A package with an assembly file may
// declare functions without a body, which mapclear.go needs for its
// go:linkname declaration of runtime.mapclear.
