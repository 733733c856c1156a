#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: lint, types, tests.
# Debian packages: redis-server (scale-out tests) and chromium (browser tests);
# Python: the project with its [test] extra, in .venv. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check live tests ops
.venv/bin/ruff format --check live tests ops
.venv/bin/mypy
exec .venv/bin/pytest "$@"
