#!/usr/bin/env bash
# Idempotent setup of the Python peer environment (neural-tangents 0.6.5 on CPU).
# Creates <repo>/.venv-peers (git-ignored) if missing and installs the pins.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv-peers"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi

if "$VENV/bin/python" - <<'PYEOF' 2>/dev/null
import importlib.metadata as m
want = {"jax": "0.4.25", "jaxlib": "0.4.25", "numpy": "1.26.4", "scipy": "1.12.0",
        "neural-tangents": "0.6.5"}
ok = all(m.version(k) == v for k, v in want.items())
m.version("frozendict")
raise SystemExit(0 if ok else 1)
PYEOF
then
  echo "peer venv already up to date: $VENV" >&2
  exit 0
fi

"$VENV/bin/pip" install --quiet --upgrade pip
REQ="$HERE/requirements-nt.txt"
NT_LINE="$(grep -E '^neural-tangents' "$REQ")"
"$VENV/bin/pip" install --quiet -r <(grep -vE '^neural-tangents' "$REQ")
"$VENV/bin/pip" install --quiet --no-deps "$NT_LINE"
echo "peer venv ready: $VENV" >&2
