"""Folder-per-class data sets, near-duplicate grouping and leak-free splits."""
