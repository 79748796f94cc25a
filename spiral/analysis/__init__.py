"""Analysis: a run's records turned into metrics, regimes, comparisons and checks against theory."""
