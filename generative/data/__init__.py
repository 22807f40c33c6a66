"""Datasets, read from a data root given by flag or environment, never bundled with the code."""
