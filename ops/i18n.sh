#!/usr/bin/env bash
# Re-extract every translatable string and merge it into the three catalogues.
# Then fill the empty msgstr entries; tests/test_i18n.py fails while any is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
    -o live/locale/messages.pot . >/dev/null 2>&1
for language in nb nn en; do
    .venv/bin/pybabel update -i live/locale/messages.pot -d live/locale -l "$language" \
        --no-wrap --no-fuzzy-matching --ignore-obsolete >/dev/null 2>&1
done
