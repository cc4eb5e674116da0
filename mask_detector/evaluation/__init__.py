"""Measuring the classifier, the face detectors and the whole pipeline against annotated data,
and showing the results (figures.py: every chart, and the one percent format)."""
