#!/usr/bin/env bash
# Starts folio under Xvfb with a paper open and saves a picture of the main window.
# Usage: screenshot.sh FOLIO_BINARY OUTPUT_DIR SHARED_DIR
set -euo pipefail
folio=$1 out=$2 shared=$3
paper="$shared/papers/longlora.pdf"
if [ ! -f "$paper" ]; then
  if [ "${CI:-}" = true ]; then echo "CI=true but $paper is missing" >&2; exit 1; fi
  echo "skipped: shared test data not found ($paper); it is only present beside the project's own checkout"
  exit 77
fi
if ! command -v xvfb-run >/dev/null; then
  if [ "${CI:-}" = true ]; then echo "CI=true but xvfb-run is not installed" >&2; exit 1; fi
  echo "skipped: xvfb-run is not installed (apt-get install xvfb xauth)"
  exit 77
fi
mkdir -p "$out"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
png="$out/main-window-paper.png"
rm -f "$png"
# A private HOME keeps the test away from the user's settings and recent files.
HOME="$home" XDG_CONFIG_HOME="$home/.config" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1280x860x24" "$folio" --screenshot "$png" "$paper"
if [ ! -s "$png" ]; then echo "no screenshot was written to $png" >&2; exit 1; fi
size=$(stat -c %s "$png")
if [ "$size" -lt 20000 ]; then echo "screenshot $png is suspiciously small ($size bytes)" >&2; exit 1; fi
echo "screenshot written to $png ($size bytes)"
