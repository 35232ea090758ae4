"""Metrics, premiums, vocabulary sweeps, domain comparisons and plots."""
