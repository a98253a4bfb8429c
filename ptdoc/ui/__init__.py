"""The Qt layer: shows the core and feeds it edits. The only package that imports PySide6."""
