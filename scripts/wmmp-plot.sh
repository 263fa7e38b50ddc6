#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Plots the WMMP health records of a capture as PNG files: the ECG waveform of every record that has one
# (ecg-<terminal>-<record>.png) and each terminal's vitals over time (vitals-<terminal>.png), with tshark
# + the WMMP plugin (field extraction) and gnuplot. Prints the path of every file written.
#   scripts/wmmp-plot.sh [-B BUILD_DIR | --installed] [-k KEYS_FILE] [-o OUT_DIR] CAPTURE
# scripts/wmmp-plot.sh --help lists every option; docs/VISUALS.md explains the plots.
set -euo pipefail
exec python3 -B "$(dirname "$0")/../tools/plot/wmmp_plot.py" "$@"
