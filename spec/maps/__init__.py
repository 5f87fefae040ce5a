"""The classic Go map (runtime/map.go, Go 1.0 to 1.23 design) as a transition system."""
