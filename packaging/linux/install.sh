#!/bin/sh
# Installs ptdoc for the current user (no root, no Python needed): the application folder in
# ~/.local/lib/ptdoc, the command in ~/.local/bin/ptdoc, and the menu entry, icons and
# AppStream data in ~/.local/share. Run it from the unpacked tarball:
#
#     ./install.sh              install, or upgrade in place
#     ./install.sh --uninstall  remove the application (never the clinic's data)
#
# The clinic's database is not here: it stays in the per-user data folder
# (~/.local/share/ptdoc/ptdoc.sqlite3, or wherever --db or PTDOC_DB point).
set -eu

HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APP_DIR="${PTDOC_INSTALL_DIR:-$HOME/.local/lib/ptdoc}"
BIN_DIR="$HOME/.local/bin"
ID=org.ptdoc.ptdoc

say() { printf 'ptdoc install: %s\n' "$*"; }

refresh_caches() {
    # The menu and icon caches; desktops without these tools read the folders directly.
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$DATA/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true
    fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$APP_DIR"
    [ -L "$BIN_DIR/ptdoc" ] && rm -f "$BIN_DIR/ptdoc"
    rm -f "$DATA/applications/$ID.desktop" "$DATA/metainfo/$ID.metainfo.xml"
    find "$DATA/icons/hicolor" -name "$ID.png" -path '*/apps/*' -exec rm -f {} + 2>/dev/null || true
    rm -f "$DATA/icons/hicolor/scalable/apps/$ID.svg"
    refresh_caches
    say "removed. The clinic's data was left where it is."
    exit 0
elif [ $# -gt 0 ]; then
    echo "usage: $0 [--uninstall]" >&2
    exit 2
fi

if [ ! -x "$HERE/ptdoc/ptdoc" ]; then
    echo "ptdoc install: $HERE/ptdoc/ptdoc is missing: run install.sh from the unpacked tarball" >&2
    exit 2
fi

# The new folder is copied beside the old one and swapped in, so an interrupted upgrade
# leaves a working ptdoc.
mkdir -p "$(dirname "$APP_DIR")" "$BIN_DIR" "$DATA/applications" "$DATA/metainfo"
rm -rf "$APP_DIR.new"
cp -R "$HERE/ptdoc" "$APP_DIR.new"
if [ -e "$APP_DIR" ]; then
    rm -rf "$APP_DIR.old"
    mv "$APP_DIR" "$APP_DIR.old"
fi
mv "$APP_DIR.new" "$APP_DIR"
rm -rf "$APP_DIR.old"

ln -sfn "$APP_DIR/ptdoc" "$BIN_DIR/ptdoc"
# Exec takes the full path: a menu does not read the login shell's PATH.
sed "s|@EXEC@|$APP_DIR/ptdoc|g" "$HERE/share/applications/$ID.desktop" \
    > "$DATA/applications/$ID.desktop"
cp "$HERE/share/metainfo/$ID.metainfo.xml" "$DATA/metainfo/"
(cd "$HERE/share/icons" && find hicolor -type f) | while read -r icon; do
    mkdir -p "$DATA/icons/$(dirname "$icon")"
    cp "$HERE/share/icons/$icon" "$DATA/icons/$icon"
done
refresh_caches

say "installed $("$APP_DIR/ptdoc" --version)"
say "start it from the applications menu (ptdoc), or run: $BIN_DIR/ptdoc"
case ":$PATH:" in
    *":$BIN_DIR:"*) ;;
    *) say "$BIN_DIR is not on your PATH; add it to run 'ptdoc' by name" ;;
esac
