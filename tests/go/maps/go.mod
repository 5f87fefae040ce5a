module gmpcheck/tests/go/maps

go 1.19
