"""Preview a PDF inside ptdoc, print it through the system dialog, or save it.

PySide6's PyPI wheels do not ship QtPdf, so pages are rendered with PDFium (pypdfium2) into
images: the same pixels for the screen and, at the printer's resolution, for paper.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QRect, QSettings, QStandardPaths, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ptdoc.errors import AccountDisabled
from ptdoc.files import write_private
from ptdoc.ui.widgets import hbox


def show_pdf(make: Callable[[], PdfPreview]) -> None:
    """Make the paper and show its preview; a user disabled meanwhile gets none (the window
    has gone back to the sign-in screen, which says why)."""
    try:
        preview = make()
    except AccountDisabled:
        return
    preview.exec()


def page_count(pdf: bytes) -> int:
    return len(pdfium.PdfDocument(pdf))


def render_pages(pdf: bytes, dpi: float = 96, first: int = 0,
                 last: int | None = None) -> list[QImage]:
    """Pages as images (PDF points are 1/72 inch)."""
    doc = pdfium.PdfDocument(pdf)
    images = []
    for index in range(first, len(doc) if last is None else min(last + 1, len(doc))):
        bitmap = doc[index].render(scale=dpi / 72)
        # PDFium writes BGRA bytes, which is QImage's RGB32 in memory on little-endian CPUs.
        image = QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                       QImage.Format.Format_RGB32 if bitmap.n_channels == 4
                       else QImage.Format.Format_BGR888)
        images.append(image.copy())
    return images


# Paper needs no more: at a printer's 1200 dpi one letter page would be a 540 MB image.
MAX_PRINT_DPI = 300


def chosen_pages(count: int, printer: QPrinter) -> range:
    """The pages the print dialog asked for (all of them unless a range was chosen)."""
    if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
        return range(printer.fromPage() - 1, min(printer.toPage() or count, count))
    return range(count)


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Send the chosen pages to the printer; the number of pages printed.

    Printing to a PDF file writes the document's own pages, so their text stays text; a real
    printer gets each page painted as an image at (up to) its resolution.
    """
    pages = chosen_pages(page_count(pdf), printer)
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
        source = pdfium.PdfDocument(pdf)
        copy = pdfium.PdfDocument.new()
        copy.import_pages(source, list(pages))
        buffer = io.BytesIO()
        copy.save(buffer)
        write_private(Path(printer.outputFileName()), buffer.getvalue())  # patient data
        return len(pages)
    painter = QPainter()
    if not painter.begin(printer):
        return 0
    dpi = min(printer.resolution(), MAX_PRINT_DPI)
    try:
        for number, index in enumerate(pages):
            if number:
                printer.newPage()
            image = render_pages(pdf, dpi, index, index)[0]
            area = painter.viewport()
            size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRect(area.x(), area.y(), size.width(), size.height()), image)
    finally:
        painter.end()
    return len(pages)


class PdfPreview(QDialog):
    """The document's pages, with Print (Ctrl+P) and Save as PDF (Ctrl+S)."""

    def __init__(self, pdf: bytes, title: str, suggested_name: str,
                 on_output: Callable[[str], None], parent: QWidget | None = None,
                 option: tuple[str, Callable[[bool], bytes]] | None = None):
        """``option``: a check box's label and how the document is made with it checked or
        not (summaries one per page): the pages shown, printed and saved follow it."""
        super().__init__(parent)
        self.pdf = pdf
        self.suggested_name = suggested_name
        self.on_output = on_output  # told "print" or "save", for the audit log
        self.setWindowTitle(title)
        self.setObjectName("pdf_preview")
        self.scroll = QScrollArea(objectName="preview_pages")
        self.scroll.setAccessibleName("Pages")
        self.scroll.setWidgetResizable(True)
        self.status = QLabel(objectName="preview_status")
        self.images: list[QImage] = []
        self._show_pages()
        self.option: QCheckBox | None = None
        if option is not None:
            label, remake = option
            self.option = QCheckBox(label, objectName="preview_option")
            self.option.toggled.connect(lambda checked: self._remake(remake(checked)))
        self.print_button = QPushButton("&Print…", objectName="preview_print")
        self.save_button = QPushButton("&Save as PDF…", objectName="preview_save")
        self.close_button = QPushButton("&Close", objectName="preview_close")
        for button, keys, slot in ((self.print_button, QKeySequence.StandardKey.Print,
                                    self.print_document),
                                   (self.save_button, QKeySequence.StandardKey.Save,
                                    self.save_document)):
            action = QAction(button.text(), self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _checked=False, slot=slot: slot())
            self.addAction(action)
            button.clicked.connect(action.trigger)
            button.setToolTip(action.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
        self.close_button.clicked.connect(self.accept)
        extra = [self.option] if self.option is not None else []
        row = hbox(self.status, *extra, self.print_button, self.save_button,
                   self.close_button, grow=self.status)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(row)
        screen = self.screen().availableGeometry() if self.screen() else None
        self.resize(760, min(900, screen.height() - 60) if screen else 700)

    def _show_pages(self) -> None:
        pages = QWidget()
        column = QVBoxLayout(pages)
        self.images = render_pages(self.pdf, 80)
        for number, image in enumerate(self.images, start=1):
            label = QLabel(objectName=f"preview_page_{number}")
            label.setPixmap(QPixmap.fromImage(image))
            label.setAccessibleName(f"Page {number} of {len(self.images)}")
            column.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.scroll.setWidget(pages)  # the previous pages widget is deleted
        self.status.setText(f"{len(self.images)} page{'s' * (len(self.images) != 1)}")

    def _remake(self, pdf: bytes) -> None:
        self.pdf = pdf
        self._show_pages()

    # The two slots take no argument: a QAction's triggered(bool) and a button's
    # clicked(bool) pass `checked` to any parameter a slot offers.
    def print_document(self) -> None:
        """Print… (Ctrl+P): the system print dialog, then the pages it asks for."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.suggested_name)
        if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
            return
        try:
            printed = print_pdf(self.pdf, printer)
        except OSError as exc:
            self.status.setText(f"Could not print to {printer.outputFileName()}: "
                                f"{exc.strerror}")
            return
        if not printed:
            self.status.setText("The printer could not be opened; nothing was printed")
            return
        self.on_output("print")
        pages = f"{printed} page{'s' * (printed != 1)}"
        if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and \
                printer.outputFileName():  # "Print to file": no paper, a file to find
            self.status.setText(f"Wrote {pages} to {printer.outputFileName()}")
        else:
            self.status.setText(f"Sent {pages} to the printer")

    def save_document(self) -> None:
        """Save as PDF… (Ctrl+S): ask where, then write the document as it is."""
        path, _ = QFileDialog.getSaveFileName(self, "Save as PDF",
                                              str(save_folder() / self.suggested_name),
                                              "PDF (*.pdf)")
        if not path:
            return
        try:
            write_private(Path(path), self.pdf)  # patient data: 0600
        except OSError as exc:
            self.status.setText(f"Could not save {path}: {exc.strerror}")
            return
        QSettings().setValue(LAST_FOLDER, str(Path(path).parent))
        self.on_output("save")
        self.status.setText(f"Saved {path}")


LAST_FOLDER = "paper/last_folder"


def save_folder() -> Path:
    """Where Save as PDF starts: the folder last saved to, else the user's documents folder
    (made when the system names one that is not there yet: a dialog given a folder that does
    not exist opens in the working folder, ptdoc's own), else the home folder."""
    last = QSettings().value(LAST_FOLDER)
    if isinstance(last, str) and last and Path(last).is_dir():
        return Path(last)
    documents = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation)
    if documents:
        try:
            Path(documents).mkdir(parents=True, exist_ok=True)
            return Path(documents)
        except OSError:
            pass
    return Path.home()
