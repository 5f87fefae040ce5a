module gmpcheck/tests/go/cases

go 1.19
