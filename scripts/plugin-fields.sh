#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Prints the plugin's display-filter fields as a Markdown table (for docs/PLUGIN.md), from what the built
# plugin registers: scripts/plugin-fields.sh [-B BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/wmmp-tshark.sh "$@" -G fields |
  awk -F'\t' 'BEGIN { print "| field | type | name | description |"; print "|---|---|---|---|" }
              $1 == "F" && $3 ~ /^wmmp/ && !seen[$3]++ { printf "| `%s` | %s | %s | %s |\n", $3, $4, $2, $8 }'
