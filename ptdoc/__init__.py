"""ptdoc: document a supervised therapeutic-exercise session completely before it is billed."""

__version__ = "0.1.0"
