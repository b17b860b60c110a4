#!/usr/bin/env bash
# Prepare this checkout to run PHS: system packages (only what is missing), the
# virtualenv .venv, and PHS with its test tools installed into it in editable mode.
# Safe to run again and again: every stage checks first and skips when already done.
#
#   bash scripts/setup.sh                 # run, demo
#   bash scripts/setup.sh --with-browser  # also Chromium and fonts for the e2e tests
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) WITH_BROWSER=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.phs-installed"

say() { printf '==> %s / %s\n' "$1" "$2"; }
fail() { printf 'LỖI / ERROR: %s / %s\n' "$1" "$2" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    fail "cần quyền root để cài gói hệ thống" "root is needed to install system packages"
  fi
}

APT_UPDATED=0
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 \
    || fail "thiếu gói ${missing[*]} và không có apt-get" "missing ${missing[*]} and no apt-get"
  # Refresh the package lists only when they cannot name what we need (a fresh image).
  if [ "$APT_UPDATED" -eq 0 ] && ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

say "Kiểm tra Python (cần 3.11 trở lên)" "Checking Python (3.11 or newer)"
command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "$PYTHON quá cũ, cần 3.11 trở lên" "$PYTHON is too old, 3.11 or newer is needed"

if [ ! -x "$VENV/bin/python" ]; then
  # Debian's python3 ships venv without ensurepip until python3-venv is installed.
  if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    say "Cài gói hệ thống: python3-venv python3-dev gcc" "Installing system packages: python3-venv python3-dev gcc"
    apt_install python3-venv python3-dev gcc
  fi
  say "Tạo môi trường ảo $VENV" "Creating the virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# Reinstall only when the dependencies changed (or a previous install did not finish).
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -x "$VENV/bin/phs" ]; then
  say "Cài PHS và công cụ kiểm thử vào $VENV (vài phút)" "Installing PHS and test tools into $VENV (a few minutes)"
  rm -f "$STAMP"
  "$VENV/bin/python" -m pip install -qq --disable-pip-version-check -e '.[test]'
  printf '%s\n' "$want" > "$STAMP"
else
  say "PHS đã được cài, bỏ qua" "PHS already installed, skipping"
fi

if [ "$WITH_BROWSER" -eq 1 ]; then
  if [ ! -x /usr/bin/chromium ]; then
    say "Cài Chromium và phông chữ tiếng Việt" "Installing Chromium and fonts with Vietnamese glyphs"
    apt_install chromium fonts-noto-core || apt_install chromium fonts-dejavu-core
  else
    say "Chromium đã có, bỏ qua" "Chromium already present, skipping"
  fi
fi

if [ "$WITH_BROWSER" -eq 1 ] && [ ! -e /usr/lib/softhsm/libsofthsm2.so ]; then
  # A software PKCS#11 token: the tests of the signature-token adapter run against it.
  say "Cài SoftHSM2 (USB token giả lập cho kiểm thử)" "Installing SoftHSM2 (a software token for the tests)"
  apt_install softhsm2 || say "Không cài được SoftHSM2, bỏ qua" "SoftHSM2 could not be installed, skipping"
fi

say "Sẵn sàng" "Ready"
