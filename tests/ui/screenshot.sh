#!/usr/bin/env bash
# Starts folio under Xvfb with a paper open and saves pictures of its main states
# (folio --screenshots; the chat and review are scripted, no model is needed):
#   empty.png          no document yet
#   document.png       the paper open: library, rendered page, page strip, chat pane
#   model-manager.png  the model manager (metadata and plan when a model is found)
#   server.png         its Server page: an OpenAI-compatible server to answer instead
#   reading.png        a question asked: reading progress with tokens, speed, ETA, Cancel
#   answer.png         the streamed answer with page citations; evidence in the page strip
#   review.png         a review along the ICLR form, sections and scores
#   demo-answer.png    a real answer: the bundled demo model on the bundled long sample
#                      (ten times its training context, read with Dual Chunk Attention)
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
states="empty document model-manager server reading answer review"
for state in $states; do rm -f "$out/$state.png"; done
# A private HOME keeps the test away from the user's settings, library and recent files.
run() {
  HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" QT_QPA_PLATFORM=xcb \
    xvfb-run -a -s "-screen 0 1280x860x24" "$folio" "$@"
}
run --screenshots "$out" "$paper"
for state in $states; do
  png="$out/$state.png"
  if [ ! -s "$png" ]; then echo "no screenshot was written to $png" >&2; exit 1; fi
  size=$(stat -c %s "$png")
  # The model manager without a model is mostly empty form; the windows are not.
  min=20000; case $state in model-manager|server|review) min=5000 ;; esac
  if [ "$size" -lt "$min" ]; then echo "screenshot $png is suspiciously small ($size bytes)" >&2; exit 1; fi
  echo "screenshot written to $png ($size bytes)"
done

# The bundled demo model answering for real (folio --ask), through the app's worker,
# store and reading prompt; the answer is printed and must be the planted fact.
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -f "$root/resources/models/folio-demo.gguf" ]; then
  rm -f "$out/demo-answer.png"
  answer=$(run --screenshot "$out/demo-answer.png" --ask "What is the key to the blue cabinet?" \
             "$root/resources/samples/moby-dick-planted-facts.txt")
  if [ ! -s "$out/demo-answer.png" ]; then echo "no screenshot was written to $out/demo-answer.png" >&2; exit 1; fi
  if [ "$answer" != "7431" ]; then echo "the demo model answered '$answer', expected 7431" >&2; exit 1; fi
  echo "screenshot written to $out/demo-answer.png (the demo model answered: $answer)"
fi
