"""Checks that the window can start here: a display, and the system libraries Qt needs.

Imports no Qt at module level, so it can run (``python -m ptdoc.qtcheck``) where Qt would abort.
Names the Debian/Ubuntu packages to install for every library Qt cannot find.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# Shared library -> Debian/Ubuntu package, for what PySide6's wheels link against.
DEBIAN_PACKAGES = {
    "libGL.so.1": "libgl1", "libEGL.so.1": "libegl1", "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0", "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6", "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0",
    "libX11.so.6": "libx11-6", "libX11-xcb.so.1": "libx11-xcb1", "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libSM.so.6": "libsm6", "libICE.so.6": "libice6", "libpng16.so.16": "libpng16-16",
}


def display_problem(env: Mapping[str, str], platform: str) -> str | None:
    """Why the window cannot open here (no display on Linux), or None."""
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). "
            "Run ptdoc in a desktop session, or set QT_QPA_PLATFORM=offscreen to run without "
            "a screen, or use the command line: ptdoc --help")


def _pyside_dir() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None:
        return None
    if spec.origin is not None:
        return Path(spec.origin).parent
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]) if locations else None


def unresolved_libraries(platform_plugin: str = "xcb") -> list[str]:
    """Shared libraries that Qt's widgets module or the platform plugin cannot find (ldd)."""
    if _pyside_dir() is None or not sys.platform.startswith("linux"):
        return []
    missing: list[str] = []
    for path in _checked_files(platform_plugin):
        if not path.exists():
            continue
        try:
            out = subprocess.run(["ldd", str(path)], capture_output=True, text=True,
                                 timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        for line in out.splitlines():
            if "not found" in line:
                lib = line.split("=>")[0].strip()
                if lib not in missing:
                    missing.append(lib)
    return missing


def packages_for(libraries: list[str]) -> list[str]:
    return sorted({DEBIAN_PACKAGES.get(lib, lib) for lib in libraries})


def _checked_files(platform_plugin: str) -> list[Path]:
    base = _pyside_dir()
    if base is None:
        return []
    return [*sorted(base.glob("QtWidgets*.so")),
            base / "Qt" / "plugins" / "platforms" / f"libq{platform_plugin}.so"]


def _fingerprint(platform_plugin: str) -> str:
    """The Qt files checked, as installed now: a new PySide6 is checked again."""
    parts = [platform_plugin]
    for path in _checked_files(platform_plugin):
        with contextlib.suppress(OSError):
            stat = path.stat()
            parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts)


def missing_qt_libraries(platform_plugin: str | None = None,
                         remember: Path | None = None) -> str | None:
    """A one-line message naming what to install, or None when Qt's libraries are all there.

    With ``remember`` (a file), a check that found everything is written there and not run
    again (two ``ldd`` processes, a tenth of the start) until PySide6 changes."""
    if _pyside_dir() is None:
        return "PySide6 is not installed in this Python; install ptdoc with pip first"
    import os

    plugin = platform_plugin or os.environ.get("QT_QPA_PLATFORM", "xcb").split(":")[0]
    fingerprint = _fingerprint(plugin)
    with contextlib.suppress(OSError):
        if remember is not None and remember.read_text() == fingerprint:
            return None
    libs = unresolved_libraries(plugin)
    if not libs:
        if remember is not None:
            with contextlib.suppress(OSError):
                remember.parent.mkdir(parents=True, exist_ok=True)
                remember.write_text(fingerprint)
        return None
    return (f"Qt cannot start: missing system libraries {', '.join(libs)}. On Debian/Ubuntu "
            f"install them with: sudo apt-get install {' '.join(packages_for(libs))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ptdoc.qtcheck",
                                     description="Check Qt's system libraries.")
    parser.add_argument("--platform", default="xcb", help="Qt platform plugin (xcb, offscreen)")
    parser.add_argument("--packages", action="store_true",
                        help="print only the Debian package names to install")
    args = parser.parse_args(argv)
    libs = unresolved_libraries(args.platform)
    if args.packages:
        print(" ".join(packages_for(libs)))
        return 0
    message = missing_qt_libraries(args.platform)
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
