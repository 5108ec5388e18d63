"""Console entry points: wiring only."""
