"""Measuring detectors and the whole pipeline against annotated data."""
