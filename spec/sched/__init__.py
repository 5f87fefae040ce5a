"""The GMP scheduler model: state, rules, properties and goroutine programs."""
