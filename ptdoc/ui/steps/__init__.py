"""The six steps of the session editor, one module each."""
