"""Measurements behind ``bsgbat-gui benchmark``: reproducible numbers, never timed tests."""
