"""Benchmarks: medians and ratios against references measured in the same process."""
