#!/usr/bin/env bash
# Optional Rasa 3.6 NLU server for Guichet (GUICHET_NLU=rasa). The embedded default needs none of this.
#   scripts/rasa.sh setup   create the Python 3.10 venv and install rasa==3.6.21 (~2.7 GB, ~2 min)
#   scripts/rasa.sh train   train an NLU model from nlu/data with nlu/rasa/config.yml into var/rasa/models
#   scripts/rasa.sh serve   serve the latest model: rasa run --enable-api on 127.0.0.1:$GUICHET_RASA_PORT
#   scripts/rasa.sh wait    poll GET /status until a model is loaded (timeout $GUICHET_RASA_WAIT s)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GUICHET_RASA_VENV:-$ROOT/.rasa-venv}"
PORT="${GUICHET_RASA_PORT:-5005}"
HOST="${GUICHET_RASA_HOST:-127.0.0.1}"
MODELS="${GUICHET_RASA_MODELS:-$ROOT/var/rasa/models}"
RASA_VERSION="${GUICHET_RASA_VERSION:-3.6.21}"
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

rasa() { "$VENV/bin/rasa" "$@"; }

need_venv() {
  if [[ ! -x "$VENV/bin/rasa" ]]; then
    echo "rasa is not installed in $VENV: run scripts/rasa.sh setup" >&2
    exit 1
  fi
}

case "${1:-}" in
  setup)
    if [[ ! -x "$VENV/bin/python" ]]; then
      if command -v pyenv >/dev/null 2>&1; then
        PYENV_VERSION="${PYENV_VERSION:-3.10.13}" pyenv exec python -m venv "$VENV"
      else
        PYENV_VERSION="${PYENV_VERSION:-3.10.13}" python3.10 -m venv "$VENV"
      fi
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "rasa==$RASA_VERSION"
    rasa --version
    ;;
  train)
    need_venv
    mkdir -p "$MODELS"
    cd "$ROOT"
    rasa train nlu --config nlu/rasa/config.yml --nlu nlu/data --out "$MODELS" --fixed-model-name guichet-nlu
    ;;
  serve)
    need_venv
    model="$MODELS/guichet-nlu.tar.gz"
    [[ -f "$model" ]] || { echo "no model at $model: run scripts/rasa.sh train" >&2; exit 1; }
    mkdir -p "$ROOT/var/rasa"
    cd "$ROOT"
    exec "$VENV/bin/rasa" run --enable-api --model "$model" -i "$HOST" -p "$PORT" --log-file "$ROOT/var/rasa/rasa.log"
    ;;
  wait)
    url="${GUICHET_RASA_URL:-http://$HOST:$PORT}"
    deadline=$(( $(date +%s) + ${GUICHET_RASA_WAIT:-180} ))
    until curl -fsS "$url/status" 2>/dev/null | grep -q '"model_file"'; do
      if (( $(date +%s) > deadline )); then
        echo "Rasa at $url not ready after ${GUICHET_RASA_WAIT:-180} s" >&2
        exit 1
      fi
      sleep 2
    done
    echo "Rasa ready at $url"
    ;;
  *)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
