"""The project's benchmarks."""
