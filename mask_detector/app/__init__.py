"""Streamlit glue shared by the pages in pages/: settings sidebar, cached models, result helpers.

Pages stay thin; detection, drawing, video and evaluation live in the rest of the package.
"""
