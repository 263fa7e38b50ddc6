# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs tshark with the WMMP plugin on the generated captures and turns its output into Python values.

Every test module calls main(); ctest passes the paths:
    python3 test_x.py --tshark TSHARK --plugin-dir BUILD/wireshark-plugins --captures DIR --source-dir SRC

tshark ignores WIRESHARK_PLUGIN_DIR when run as root (CI is root), so as root the plugin tree and the
captures are copied into a fresh world-readable directory under /tmp and tshark runs as user nobody
through setpriv. Either way it runs with a clean environment and an empty HOME, so no personal
preference or plugin gets in.
"""

import argparse
import atexit
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from expected import KEYS_UAT

CONFIG = argparse.Namespace(tshark="tshark", plugin_dir=None, captures=None, source_dir=None)

# Expert severities as tshark prints _ws.expert.severity (epan/proto.h PI_CHAT ... PI_ERROR).
SEVERITY_CHAT = 0x00200000
SEVERITY_NOTE = 0x00400000
SEVERITY_WARN = 0x00600000
SEVERITY_ERROR = 0x00800000
GROUP_SEQUENCE = 0x02000000  # request/response bookkeeping (e.g. "request never answered")


def main():
    """Parses the path options, then runs the unittest module that called it."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--tshark", default="tshark")
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--captures", required=True)
    parser.add_argument("--source-dir", required=True)
    args, rest = parser.parse_known_args()
    for key, value in vars(args).items():
        setattr(CONFIG, key, value)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


class _Sandbox:
    """The directory tshark reads from (and, for exports, writes to)."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="wmmp-tshark-", dir="/tmp")
        atexit.register(shutil.rmtree, self.root, True)
        self.as_nobody = os.geteuid() == 0
        self.home = self._mkdir("home")
        self.no_plugins = self._mkdir("no-plugins")
        if self.as_nobody:
            self.plugins = os.path.join(self.root, "plugins")
            shutil.copytree(CONFIG.plugin_dir, self.plugins)
            self.captures = os.path.join(self.root, "captures")
            shutil.copytree(CONFIG.captures, self.captures)
            os.chmod(self.home, 0o777)  # tshark may create its profile folder
            _make_readable(self.root)
        else:
            self.plugins = CONFIG.plugin_dir
            self.captures = CONFIG.captures

    def _mkdir(self, name):
        path = os.path.join(self.root, name)
        os.mkdir(path)
        return path

    def writable_dir(self, name):
        """A new directory tshark (possibly as nobody) can write into."""
        path = tempfile.mkdtemp(prefix=name + "-", dir=self.root)
        os.chmod(path, 0o777)
        return path

    def command(self, args, plugins=True):
        env = [
            "PATH=/usr/bin:/bin",
            "HOME=" + self.home,
            "XDG_CONFIG_HOME=" + os.path.join(self.home, ".config"),
            "TZ=UTC",
            "LANG=C.UTF-8",
            "WIRESHARK_PLUGIN_DIR=" + (self.plugins if plugins else self.no_plugins),
        ]
        cmd = ["env", "-i"] + env + [CONFIG.tshark] + list(args)
        if self.as_nobody:
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
        return cmd


def _make_readable(root):
    os.chmod(root, 0o755)
    for base, dirs, files in os.walk(root):
        for d in dirs:
            path = os.path.join(base, d)
            os.chmod(path, os.stat(path).st_mode | 0o755)
        for f in files:
            path = os.path.join(base, f)
            os.chmod(path, os.stat(path).st_mode | 0o644)


_sandbox = None


def sandbox():
    global _sandbox
    if _sandbox is None:
        _sandbox = _Sandbox()
    return _sandbox


def capture(name):
    """Path of a generated capture as tshark sees it."""
    return os.path.join(sandbox().captures, name)


def run(args, plugins=True, check=True):
    """Runs tshark; with check, a non-zero exit status fails with tshark's stderr."""
    proc = subprocess.run(sandbox().command(args, plugins), capture_output=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError("tshark %s exited with %d:\n%s" % (" ".join(args), proc.returncode,
                                                                 proc.stderr.decode("utf-8", "replace")))
    return proc


def prefs(keys=True, extra=()):
    """-o options: the example terminal's keys (unless keys is False) and any extra 'name:value'."""
    opts = []
    if keys:
        opts += ["-o", KEYS_UAT]
    for p in extra:
        opts += ["-o", p]
    return opts


_decode_cache = {}


def decode(capture_name, fields, keys=True, options=(), display_filter=None):
    """Two-pass dissection of a capture; returns {frame number: {field: [value, ...]}} for every frame.

    A field absent from a frame is absent from its dict. -T json is used rather than -T fields because
    values (expert messages, strings) may contain the aggregator character.
    """
    key = (capture_name, tuple(fields), keys, tuple(options), display_filter)
    if key not in _decode_cache:
        args = ["-r", capture(capture_name), "-2", "-T", "json", "-e", "frame.number"]
        for f in fields:
            args += ["-e", f]
        args += prefs(keys, options)
        if display_filter:
            args += ["-Y", display_filter]
        out = run(args).stdout.decode("utf-8")
        frames = {}
        for pkt in json.loads(out) if out.strip() else []:
            layers = dict(pkt["_source"]["layers"])
            number = int(layers.pop("frame.number")[0])
            frames[number] = layers
        _decode_cache[key] = frames
    return _decode_cache[key]


def verbose(capture_name, frame, keys=True, options=()):
    """The packet details (-V) of one frame as text."""
    args = ["-r", capture(capture_name), "-2", "-V", "-Y", "frame.number==%d" % frame] + prefs(keys, options)
    return run(args).stdout.decode("utf-8")


# ---- value conversions: tshark prints numbers in the field's base, booleans as 1/0 or True/False ----

def as_int(text):
    return int(text, 0) if not re.fullmatch(r"-?0\d+", text) else int(text, 10)


def as_bool(text):
    if text in ("1", "True", "true"):
        return True
    if text in ("0", "False", "false"):
        return False
    raise ValueError("not a boolean: %r" % text)


def as_float(text):
    return float(text.split()[0])


_MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"], 1)}


def as_epoch(text):
    """An absolute time field as Unix seconds (tshark runs with TZ=UTC)."""
    m = re.match(r"([A-Z][a-z]{2})\s+(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)(\.\d+)?", text)
    if m:
        mon, day, year, hh, mm, ss, frac = m.groups()
        secs = calendar.timegm((int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss)))
        return secs + (float(frac) if frac else 0.0)
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?", text)
    if m:
        y, mo, d, hh, mm, ss, frac = m.groups()
        return calendar.timegm((int(y), int(mo), int(d), int(hh), int(mm), int(ss))) + (float(frac) if frac else 0.0)
    return float(text)


def as_hex(text):
    """A bytes field as lower-case hex without separators."""
    return re.sub(r"[:\s]", "", text).lower()


class DecodeTest(unittest.TestCase):
    """Assertions on decoded frames with messages that name the frame and the field."""

    maxDiff = None

    def values(self, frames, number, field):
        self.assertIn(number, frames, "frame %d is missing from the output" % number)
        return frames[number].get(field, [])

    def value(self, frames, number, field):
        """The single occurrence of field in the frame (fails if absent or repeated)."""
        vals = self.values(frames, number, field)
        self.assertEqual(len(vals), 1, "frame %d: %s should occur once, got %r" % (number, field, vals))
        return vals[0]

    def assertField(self, frames, number, field, expected, conv=str):
        got = conv(self.value(frames, number, field))
        self.assertEqual(got, expected, "frame %d: %s" % (number, field))

    def assertFields(self, frames, number, field, expected, conv=str):
        """All occurrences, in order."""
        got = [conv(v) for v in self.values(frames, number, field)]
        self.assertEqual(got, list(expected), "frame %d: %s" % (number, field))

    def assertInt(self, frames, number, field, expected):
        self.assertField(frames, number, field, expected, as_int)

    def assertInts(self, frames, number, field, expected):
        self.assertFields(frames, number, field, expected, as_int)

    def assertBool(self, frames, number, field, expected):
        self.assertField(frames, number, field, expected, as_bool)

    def assertFloat(self, frames, number, field, expected, places=6):
        got = as_float(self.value(frames, number, field))
        self.assertAlmostEqual(got, expected, places=places, msg="frame %d: %s" % (number, field))

    def assertTime(self, frames, number, field, expected_epoch):
        got = as_epoch(self.value(frames, number, field))
        self.assertAlmostEqual(got, expected_epoch, places=6, msg="frame %d: %s" % (number, field))

    def assertHex(self, frames, number, field, expected_bytes):
        self.assertField(frames, number, field, expected_bytes.hex(), as_hex)

    def assertAbsent(self, frames, number, field):
        self.assertEqual(self.values(frames, number, field), [], "frame %d: %s should be absent" % (number, field))

    def severities(self, frames, number):
        return [as_int(s) for s in self.values(frames, number, "_ws.expert.severity")]

    def assertProblemFlagged(self, frames, number, what):
        """A warning or error expert item outside the Sequence group (needs _ws.expert.severity and
        _ws.expert.group among the decoded fields): a defect, not mere request/response bookkeeping."""
        groups = [as_int(g) for g in self.values(frames, number, "_ws.expert.group")]
        items = list(zip(self.severities(frames, number), groups))
        self.assertTrue(any(sev >= SEVERITY_WARN and grp != GROUP_SEQUENCE for sev, grp in items),
                        "frame %d (%s): no warning or error expert item for it; got %r"
                        % (number, what, self.values(frames, number, "_ws.expert")))
