"""Quality metrics: small pure functions, usable alone and from the benchmarks, tabs and training."""
