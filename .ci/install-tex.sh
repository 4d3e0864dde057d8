#!/usr/bin/env bash
# Installs the TeX toolchain the cheat sheet needs (pdflatex, multicol, fonts) and poppler-utils
# (pdftotext, pdftoppm for the tests), from Debian's packages. Idempotent: when every tool is
# already on PATH it does nothing. Quiet: apt's output goes to a log, shown only on failure.
set -euo pipefail

needed=(pdflatex pdftotext pdftoppm kpsewhich)
missing=0
for tool in "${needed[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 0 ] && kpsewhich multicol.sty >/dev/null 2>&1 && kpsewhich amsmath.sty >/dev/null 2>&1; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-tex: apt-get not found; install pdflatex (TeX Live) and poppler-utils by hand" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" != 0 ]; then
  as_root=(sudo)
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -qq \
  && "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    texlive-latex-base texlive-latex-recommended texlive-fonts-recommended poppler-utils; } \
  >"$log" 2>&1; then
  echo "install-tex: apt-get failed:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
