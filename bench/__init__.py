"""pipeline-tui benchmark suite: `python -m bench.run --scale small|incident` (see bench/run.py)."""
