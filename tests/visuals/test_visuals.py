#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Tests of the pictures: scripts/wmmp-plot.sh (tshark + the plugin + gnuplot) on emulator captures, checked
against the platform's own database, and scripts/screenshot.sh (the Wireshark GUI on Xvfb).

    test_visuals.py --emulate PATH --source-dir DIR --build-dir DIR --work DIR TEST
TEST is a unittest name such as Plots.test_session. Exit 77 (ctest: skipped) when the screenshot's tools
are missing and cannot be installed.
"""
import argparse
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import unittest
import zlib

ARGS = None
SERIAL = "A00MS8011390002S"
GUI_TOOLS = ["wireshark", "xvfb-run", "xauth", "xdotool"]


def gui_missing():
    return [t for t in GUI_TOOLS if shutil.which(t) is None]


def png_info(path):
    """(width, height, size in bytes) of a PNG; fails the test on a bad signature or IHDR."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise AssertionError(f"{path}: not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    if zlib.crc32(data[12:29]) & 0xFFFFFFFF != struct.unpack(">I", data[29:33])[0]:
        raise AssertionError(f"{path}: IHDR CRC wrong")
    if b"IEND" not in data[-12:]:
        raise AssertionError(f"{path}: no IEND chunk")
    return width, height, len(data)


def png_rgb_rows(path):
    """The RGB rows of an 8-bit RGB PNG with filter 0 (what screenshot.sh writes)."""
    with open(path, "rb") as f:
        data = f.read()
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    rows = [raw[y * stride + 1:(y + 1) * stride] for y in range(height)]
    assert all(raw[y * stride] == 0 for y in range(height)), "unexpected PNG row filter"
    return width, height, rows


class Base(unittest.TestCase):
    def work(self, name):
        d = os.path.join(ARGS.work, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d

    def emulate(self, d, *opts):
        pcap, db = os.path.join(d, "capture.pcap"), os.path.join(d, "platform.db")
        res = subprocess.run([ARGS.emulate, "--pcap", pcap, "--db", db, *opts], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(res.returncode, 0, res.stdout)
        return pcap, db

    def plot(self, *args, expect=0):
        cmd = [os.path.join(ARGS.source_dir, "scripts", "wmmp-plot.sh"), "-B", ARGS.build_dir, *args]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(res.returncode, expect, f"{cmd}\n{res.stdout}\n{res.stderr}")
        return res

    def check_against_db(self, out, db, ecg_records, seconds=1.0):
        """The files are exactly the expected ones, valid PNGs, and their values are the stored ones."""
        names = {f"ecg-{SERIAL}-{r}.png" for r in ecg_records} | {f"vitals-{SERIAL}.png"}
        names |= {n[:-4] + ".csv" for n in names}
        self.assertEqual(set(os.listdir(out)), names)
        for n in names:
            if n.endswith(".png"):
                w, h, size = png_info(os.path.join(out, n))
                self.assertGreater(size, 10000, f"{n}: {size} bytes, too small to be a plot")
                if n.startswith("vitals"):
                    self.assertEqual((w, h), (1000, 1100))
                else:                        # the width grows with the ECG's length (320 px per second)
                    self.assertEqual(w, int(min(4000, max(900, 320 * seconds + 160))), n)
        con = sqlite3.connect(db)
        stored = con.execute("SELECT record_id, measured_at, heart_rate, spo2, temperature, bp_systolic, "
                             "bp_diastolic, ecg_rate, ecg_resolution_nv, ecg FROM records WHERE terminal = ? "
                             "ORDER BY record_id", (SERIAL,)).fetchall()
        with open(os.path.join(out, f"vitals-{SERIAL}.csv")) as f:
            rows = [line.strip().split(",") for line in f][1:]
        self.assertEqual(len(rows), len(stored))
        for row, rec in zip(rows, stored):
            rid, measured, hr, spo2, temp, sys_, dia = rec[:7]
            self.assertEqual(int(row[0]), rid)
            self.assertEqual(int(row[1]), measured)
            self.assertEqual([int(row[3]), int(row[4]), int(row[6]), int(row[7])], [hr, spo2, sys_, dia])
            self.assertAlmostEqual(float(row[5]), temp, places=2)
        with_ecg = [r for r in stored if r[9]]
        self.assertEqual([r[0] for r in with_ecg], list(ecg_records))
        for rec in with_ecg:
            rate, res_nv, blob = rec[7], rec[8], rec[9]
            raw = struct.unpack(f">{len(blob) // 2}h", blob)
            self.assertAlmostEqual(len(raw) / rate, seconds)
            with open(os.path.join(out, f"ecg-{SERIAL}-{rec[0]}.csv")) as f:
                rows = [line.strip().split(",") for line in f][1:]
            self.assertEqual([int(r[2]) for r in rows], list(raw))
            for i in (0, len(rows) // 2, len(rows) - 1):
                self.assertAlmostEqual(float(rows[i][0]), i / rate, places=5)
                self.assertAlmostEqual(float(rows[i][1]), raw[i] * res_nv / 1e6, places=5)


class Plots(Base):
    def test_session(self):
        """ECG on every 5th record (1 and 6 of 8), vitals of all 8, digests on."""
        d = self.work("session")
        pcap, db = self.emulate(d, "--scenario", "session", "--records", "8", "--seed", "3")
        out = os.path.join(d, "plots")
        res = self.plot("--csv", "-o", out, pcap)
        self.assertEqual(sorted(res.stdout.split()), sorted(os.path.join(out, n) for n in os.listdir(out)))
        self.check_against_db(out, db, [1, 6])

    def test_encrypted(self):
        """Fully encrypted bodies: nothing without keys (and a hint), everything with them."""
        d = self.work("encrypted")
        pcap, db = self.emulate(d, "--scenario", "session", "--records", "6", "--seed", "2", "--security", "full")
        out = os.path.join(d, "plots")
        res = self.plot("-o", out, pcap, expect=1)
        self.assertIn("pass -k", res.stderr)
        self.plot("--csv", "-k", os.path.join(ARGS.source_dir, "captures", "wmmp-keys.txt"), "-o", out, pcap)
        self.check_against_db(out, db, [1, 6])

    def test_fragmented(self):
        """A 10 s ECG sent in 0x4008 parts: plotted whole from the reassembled record."""
        d = self.work("fragmented")
        pcap, db = self.emulate(d, "--scenario", "fragmented", "--seed", "1")
        out = os.path.join(d, "plots")
        self.plot("--csv", "-o", out, pcap)
        self.check_against_db(out, db, [1], seconds=10.0)

    def test_usage(self):
        d = self.work("usage")
        self.plot(os.path.join(d, "missing.pcap"), expect=2)
        res = self.plot("--help")
        self.assertIn("ecg", res.stdout.lower())


class Screenshot(Base):
    def test_gui(self):
        """The real Wireshark GUI with the plugin: a 1400x1250 picture whose packet details are expanded."""
        env = dict(os.environ)
        if not gui_missing():
            env["WMMP_SKIP_APT"] = "1"       # else screenshot.sh installs them (root, apt-get)
        d = self.work("screenshot")
        png = os.path.join(d, "wireshark-wmmp.png")
        res = subprocess.run([os.path.join(ARGS.source_dir, "scripts", "screenshot.sh"), "-B", ARGS.build_dir,
                              "-o", png, "--keep", os.path.join(d, "work")], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
        print(res.stdout)
        self.assertEqual(res.returncode, 0)
        self.assertIn("subtrees opened", res.stdout)
        w, h, size = png_info(png)
        self.assertEqual((w, h), (1400, 1250))
        self.assertGreater(size, 60000)
        # Collapsed, the packet details hold five rows; opened, the WMMP tree fills the lower half with
        # text. Count dark (text) pixels in a band of the lower half, left part of the window.
        width, height, rows = png_rgb_rows(png)
        dark = 0
        for y in range(int(height * 0.55), int(height * 0.75)):
            row = rows[y]
            for x in range(0, int(width * 0.4) * 3, 3):
                if row[x] + row[x + 1] + row[x + 2] < 300:
                    dark += 1
        self.assertGreater(dark, 2000, "the packet details look collapsed: WMMP subtrees not opened")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--emulate", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("test")
    ARGS = p.parse_args()
    os.makedirs(ARGS.work, exist_ok=True)
    missing = gui_missing()
    if ARGS.test.startswith("Screenshot") and missing and (
            os.geteuid() != 0 or shutil.which("apt-get") is None or os.environ.get("WMMP_SKIP_APT") == "1"):
        print(f"skipped: {' '.join(missing)} missing and not installable here "
              "(apt-get install wireshark-qt xvfb xauth xdotool)")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], "-v", ARGS.test])


if __name__ == "__main__":
    main()
