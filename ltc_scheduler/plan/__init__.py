"""Plan objects, the pure pipeline and the independent validator."""
