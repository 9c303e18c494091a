#!/usr/bin/env bash
# Idempotent setup of the PyTorch peer environment (torch 2.13.0+cpu, numpy 1.26.4) for
# bench/peers/train_loops.py --framework torch. Creates <repo>/.venv-torch (git-ignored) if missing and
# installs the pins from requirements-torch.txt (PyPI only).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv-torch"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi

if "$VENV/bin/python" - <<'PYEOF' 2>/dev/null
import importlib.metadata as m
want = {"torch": "2.13.0+cpu", "numpy": "1.26.4"}
raise SystemExit(0 if all(m.version(k) == v for k, v in want.items()) else 1)
PYEOF
then
  echo "torch venv already up to date: $VENV" >&2
  exit 0
fi

"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet -r "$HERE/requirements-torch.txt"
echo "torch venv ready: $VENV" >&2
