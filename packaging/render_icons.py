"""Renders ptdoc's SVG icon to the PNG sizes desktops ask for (run by packaging/build).

Usage: python render_icons.py ICON.svg OUT_DIR NAME. Writes OUT_DIR/hicolor/NxN/apps/NAME.png for
each size (the layout of an icon theme) and OUT_DIR/NAME.png at 256 pixels (the Windows and
macOS builds convert that one). Uses Qt's SVG renderer
from the build's own environment, so building needs no image tool from the system.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main(svg: Path, out: Path, name: str) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"render_icons: {svg} is not a valid SVG file", file=sys.stderr)
        return 2
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        folder = out / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        if not image.save(str(folder / f"{name}.png")):
            print(f"render_icons: cannot write {folder / name}.png", file=sys.stderr)
            return 1
        if size == 256:
            image.save(str(out / f"{name}.png"))
    del app
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: render_icons.py ICON.svg OUT_DIR NAME", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
