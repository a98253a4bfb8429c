# Shared by packaging/run and packaging/test (sourced, not run): finds Python 3.11+, makes the
# virtual environment in .venv, installs ptdoc into it when pyproject.toml changed, and checks
# the system libraries Qt needs. With PTDOC_AUTO_APT=1 and root, missing Debian packages are
# installed; otherwise the exact apt-get command is printed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PTDOC_VENV:-$ROOT/.venv}"

say() { printf 'ptdoc setup: %s\n' "$*" >&2; }

can_apt() { [ "${PTDOC_AUTO_APT:-0}" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
    if can_apt; then
        say "installing Debian packages: $*"
        if [ -z "${PTDOC_APT_UPDATED:-}" ]; then
            apt-get update -qq >&2
            PTDOC_APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
    else
        say "missing system packages. Install them with:"
        say "    sudo apt-get install $*"
        return 1
    fi
}

find_python() {
    local candidate
    for candidate in "${PTDOC_PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    say "ptdoc needs Python 3.11 or newer (set PTDOC_PYTHON to its path)."
    return 1
}

ensure_venv() {  # $1: the extras to install, e.g. "[test]" or ""
    local extras="$1" python stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        python="$(find_python)" || return 1
        say "creating the environment in $VENV"
        if ! "$python" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            apt_install python3-venv || return 1
            "$python" -m venv "$VENV"
        fi
    fi
    stamp="$VENV/.ptdoc-installed"
    want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)$extras"
    # An install with the test extra serves the app too: packaging/run after packaging/test
    # must not reinstall (and packaging/test after run adds the extra only).
    if [ -z "$extras" ] && [ -f "$stamp" ] && grep -qxF -- "${want}[test]" "$stamp"; then
        return 0
    fi
    if [ ! -f "$stamp" ] || ! grep -qxF -- "$want" "$stamp"; then
        say "installing ptdoc$extras and its dependencies (first run takes a minute)"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -e "$ROOT$extras" >&2
        echo "$want" > "$stamp"
    fi
}

ensure_qt_libraries() {  # $1: the Qt platform plugin that will be used (xcb, offscreen)
    local packages
    packages="$("$VENV/bin/python" -m ptdoc.qtcheck --platform "$1" --packages)"
    [ -z "$packages" ] && return 0
    # shellcheck disable=SC2086  # one word per package
    apt_install $packages
}
