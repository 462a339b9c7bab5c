#!/usr/bin/env bash
# JupyterLab as this project runs it (`make lab` runs this script): with the project's settings in jupyter/
# first on the configuration path, so that a first launch shows no news pop-up and checks for no update.
# Nothing is written into the user's home. Arguments go to `jupyter lab` (a notebook to open, options).
# LAB_PYTHON: the Python whose JupyterLab runs (default: the project's .venv).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JUPYTER_CONFIG_PATH="$repo/jupyter${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
exec "${LAB_PYTHON:-$repo/.venv/bin/python}" -m jupyterlab "$@"
