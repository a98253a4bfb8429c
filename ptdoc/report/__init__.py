"""PDFs with reportlab: the only package that imports it. Takes plain data, returns bytes."""

from ptdoc.report.note import render_note
from ptdoc.report.summary import render_day_sheet, render_summaries
from ptdoc.report.superbill import render_superbills

__all__ = ["render_day_sheet", "render_note", "render_summaries", "render_superbills"]
