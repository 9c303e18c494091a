#!/usr/bin/env bash
# Check an Overparam report as a person would see it: load DIR/index.html in headless Chromium, let the page's
# own check script (run on window.load) verify that every figure image loaded and every experiment section has
# text and a figure or an error box, and read its verdict from <body data-check="...">.
# Also writes DIR/screenshot.png for humans.
#
# Usage: scripts/check-report.sh DIR
# Exit 0 and print "report check: ok (N sections, M figures)" on success; print the problems and exit 1 otherwise.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 REPORT_DIR" >&2
    exit 2
fi
DIR=$1
if [ ! -d "$DIR" ]; then
    echo "report check: $DIR: no such folder" >&2
    exit 1
fi
ABS=$(cd "$DIR" && pwd)
if [ ! -f "$ABS/index.html" ]; then
    echo "report check: $ABS/index.html: missing (run overparam report first)" >&2
    exit 1
fi

# Find or install Chromium (Debian package `chromium`).
CHROME=""
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then CHROME=$(command -v "$c"); break; fi
done
if [ -z "$CHROME" ]; then
    echo "report check: installing chromium (apt-get)..." >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y -q chromium >/dev/null 2>&1; then
        $SUDO apt-get update -q >/dev/null 2>&1
        if ! $SUDO apt-get install -y -q chromium >/dev/null 2>&1; then
            echo "report check: cannot install chromium (apt-get install chromium failed)" >&2
            exit 1
        fi
    fi
    CHROME=$(command -v chromium)
fi

# Chromium's stderr without the D-Bus noise of a machine without a session bus.
show_stderr() { grep -v -e 'dbus/' -e 'Failed to connect to the bus' -e 'unexpected operator' "$1" | tail -n 30 | sed 's/^/  chromium: /' >&2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# A throwaway profile keeps runs independent and avoids touching the user's profile.
FLAGS=(--headless --no-sandbox --disable-gpu --allow-file-access-from-files --virtual-time-budget=10000
       --user-data-dir="$TMP/profile" --no-first-run --no-default-browser-check --disable-extensions
       --disable-background-networking --disable-sync --mute-audio --hide-scrollbars)
URL="file://${ABS// /%20}/index.html"

timeout 60 "$CHROME" "${FLAGS[@]}" --dump-dom "$URL" >"$TMP/dom.html" 2>"$TMP/stderr.txt"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$TMP/dom.html" ]; then
    echo "report check: chromium could not load $URL (exit $rc)" >&2
    show_stderr "$TMP/stderr.txt"
    exit 1
fi

# Screenshot for humans (failure here is reported but does not change the verdict).
if ! timeout 60 "$CHROME" "${FLAGS[@]}" --screenshot="$ABS/screenshot.png" --window-size=1280,2000 "$URL" \
        >/dev/null 2>"$TMP/shot-stderr.txt"; then
    echo "report check: warning: screenshot failed" >&2
fi

unescape() { sed -e 's/&quot;/"/g' -e "s/&#39;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'; }

# The verdict written by the page: <body data-check="ok"> (or "fail: ..."); fall back to <pre id="report-check">.
CHECK=$(tr '\n' ' ' <"$TMP/dom.html" | grep -o '<body[^>]*data-check="[^"]*"' | head -n 1 \
        | sed -e 's/.*data-check="\([^"]*\)"/\1/' | unescape)
if [ -z "$CHECK" ]; then
    CHECK=$(tr '\n' ' ' <"$TMP/dom.html" | grep -o '<pre id="report-check"[^>]*>[^<]*</pre>' | head -n 1 \
            | sed -e 's/<pre[^>]*>\(.*\)<\/pre>/\1/' | unescape)
fi

SECTIONS=$(grep -o '<section [^>]*class="experiment"' "$TMP/dom.html" | wc -l | tr -d ' ')
FIGURES=$(grep -o '<img [^>]*data-figure=' "$TMP/dom.html" | wc -l | tr -d ' ')

if [ "$CHECK" = "ok" ]; then
    echo "report check: ok ($SECTIONS sections, $FIGURES figures)"
    exit 0
fi

if [ -z "$CHECK" ]; then
    echo "report check: FAILED: the page's check did not run (no data-check on <body>; is $ABS/index.html an Overparam report?)" >&2
    show_stderr "$TMP/stderr.txt"
else
    echo "report check: FAILED ($SECTIONS sections, $FIGURES figures)" >&2
    echo "${CHECK#fail: }" | tr ';' '\n' | sed -e 's/^ *//' -e 's/^/  - /' >&2
fi
exit 1
