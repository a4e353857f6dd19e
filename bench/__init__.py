"""capi-relay benchmarks: `python -m bench.relay_bench` (see docs/benchmarks.md)."""
