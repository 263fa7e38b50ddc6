# SPDX-License-Identifier: GPL-2.0-or-later
"""What the Info column and the expert items tell a user (issue 14, item 9):

- CONFIG_GET/SET/TRAP/REQ and their ACKs name the tags of their body ("tags=", "rejected=" in an error ACK),
  at most four and then "…"; REMOTE_CTRL says its command ("cmd=Reboot");
- a message that raised an expert item of group Malformed ends with " [MALFORMED]" (and only such a one),
  a CRC-16 that does not match with " [BAD CRC-16]";
- a container that could not be decrypted says why: " [UNDECRYPTED: wmmp_keys empty]",
  " [UNDECRYPTED: terminal not in wmmp_keys]", " [UNDECRYPTED: session key unknown]";
- with no wmmp_keys entries at all, the expert items say how to add keys instead of "Session key unknown";
- tag 0x0002 read as the APN that is no APN (the seed paper's signal level) gets an expert note naming the
  preference wmmp.dialect: paper;
- the Info column is the same in one pass and in two.

On the generated captures (expected.py) and on the reference captures of captures/.
"""

import os
import shutil

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

ELLIPSIS = "\u2026"
INFO_ONLY = ["-T", "tabs", "-o", 'gui.column.format:"No.","%m","Info","%i"']
GROUP_MALFORMED = 0x07000000
NO_KEYS_MESSAGE = ("No wmmp_keys entries: add your keys (Edit \u2192 Preferences \u2192 Protocols \u2192 WMMP, "
                   "or -o uat:wmmp_keys:...)")
OTHER_SERIAL = "A00MS8011390009S"
# keys for another terminal only: the table is not empty, but has no entry for SERIAL
OTHER_KEYS_UAT = KEYS_UAT.replace(SERIAL, OTHER_SERIAL)

_info_cache = {}


def reference(name):
    """A reference capture of captures/, copied where tshark (possibly as nobody) can read it."""
    path = os.path.join(ws.sandbox().root, "reference", name)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.chmod(os.path.dirname(path), 0o755)
        shutil.copyfile(os.path.join(ws.CONFIG.source_dir, "captures", name), path)
        os.chmod(path, 0o644)
    return path


def info(capture_name, keys=True, options=(), two_pass=True):
    """{frame number: Info column text}, from tshark's one-line summaries (the same on every release)."""
    key = (capture_name, keys, tuple(options), two_pass)
    if key not in _info_cache:
        args = ["-r", ws.capture(capture_name)] + (["-2"] if two_pass else []) + INFO_ONLY
        args += ws.prefs(keys, options)
        frames = {}
        for line in ws.run(args).stdout.decode("utf-8").splitlines():
            number, _, text = line.lstrip().partition("\t")
            frames[int(number)] = text
        _info_cache[key] = frames
    return _info_cache[key]


class ConfigSummary(ws.DecodeTest):
    """udp-every-command.pcap: the tags of CONFIG_* bodies and the REMOTE_CTRL command."""

    CAP = "udp-every-command.pcap"

    def test_config_and_remote_ctrl(self):
        f = info(self.CAP)
        s = SERIAL
        expected = {
            9: "CONFIG_GET seq=1001 %s tags=apn,platform_ip,platform_port,report_period,%s (12 tags)" % (s, ELLIPSIS),
            10: "CONFIG_GET_ACK seq=1001 %s result=Success tags=apn,platform_ip,platform_port,report_period,%s "
                "(12 tags)" % (s, ELLIPSIS),
            11: "CONFIG_SET seq=1002 %s tags=heartbeat_interval,platform_port" % s,
            12: "CONFIG_SET_ACK seq=1002 %s result=Unsupported or rejected parameter rejected=platform_port" % s,
            13: "CONFIG_TRAP seq=5 %s tags=cell,signal_level,system_time,alarm_code" % s,
            14: "CONFIG_TRAP_ACK seq=5 %s result=Success" % s,
            15: "CONFIG_REQ seq=6 %s tags=apn,heartbeat_interval" % s,
            16: "CONFIG_REQ_ACK seq=6 %s result=Success tags=apn,heartbeat_interval" % s,
            17: "REMOTE_CTRL seq=1003 %s cmd=Reboot" % s,
            18: "REMOTE_CTRL_ACK seq=1003 %s result=Success" % s,
        }
        for number, text in expected.items():
            with self.subTest(frame=number):
                self.assertEqual(f[number], text)

    def test_other_commands_unchanged(self):
        """Only CONFIG_* and REMOTE_CTRL get a tag summary; the clean capture has no problem marker."""
        f = info(self.CAP)
        for number, text in f.items():
            with self.subTest(frame=number):
                if not 9 <= number <= 18 and number != UNKNOWN_TAG_FRAME:
                    self.assertNotIn("tags=", text)
                    self.assertNotIn("cmd=", text)
                self.assertNotIn("[MALFORMED]", text)
                self.assertNotIn("[UNDECRYPTED", text)

    def test_reference_config_capture(self):
        """captures/config.pcap (emulated): the platform's requests and the terminal's reports."""
        f = info(reference("config.pcap"))
        self.assertTrue(f[11].startswith("REMOTE_CTRL seq="), f[11])
        self.assertTrue(f[11].endswith(" cmd=Report communication settings"), f[11])
        for number, text in f.items():
            if text.startswith(("CONFIG_GET ", "CONFIG_SET ", "CONFIG_TRAP ", "CONFIG_REQ ")):
                with self.subTest(frame=number):
                    self.assertRegex(text, r" tags=[a-z_.]+(,[a-z_.]+){0,3}(,%s \(\d+ tags\))?$" % ELLIPSIS)


class Problems(ws.DecodeTest):
    """[MALFORMED] exactly where an expert item of group Malformed is raised; [BAD CRC-16]."""

    def check_malformed_marks(self, capture_name):
        frames = ws.decode(capture_name, ["_ws.expert.group"])
        f = info(capture_name)
        self.assertEqual(sorted(f), sorted(frames))
        marked = 0
        for number in sorted(f):
            groups = [ws.as_int(g) for g in self.values(frames, number, "_ws.expert.group")]
            with self.subTest(capture=capture_name, frame=number):
                if GROUP_MALFORMED in groups:
                    self.assertIn(" [MALFORMED]", f[number])
                    marked += 1
                else:
                    self.assertNotIn("[MALFORMED]", f[number])
        return marked

    def test_reference_malformed(self):
        marked = self.check_malformed_marks(reference("malformed.pcap"))
        self.assertGreaterEqual(marked, 18)

    def test_generated_malformed(self):
        marked = self.check_malformed_marks("udp-malformed.pcap")
        self.assertGreaterEqual(marked, 8)

    def test_clean_captures_unmarked(self):
        for name in CAPTURES:
            if name == "udp-malformed.pcap":
                continue
            with self.subTest(capture=name):
                self.assertFalse([n for n, t in info(name).items() if "[MALFORMED]" in t], name)

    def test_examples(self):
        f = info(reference("malformed.pcap"))
        self.assertEqual(f[4], "Truncated WMMP header [MALFORMED]")
        self.assertEqual(f[5], "HEART_BEAT seq=5 %s [MALFORMED]" % SERIAL)  # Total_Length below the header
        self.assertEqual(f[15], "HEART_BEAT seq=14 %s [BAD DIGEST]" % SERIAL)
        self.assertEqual(f[17], "TRANSPARENT_DATA seq=15 %s [BAD CRC-16]" % SERIAL)
        self.assertEqual(f[25], "CONFIG_TRAP seq=21 %s tags=signal_level,login_sync_tags [MALFORMED]" % SERIAL)
        self.assertEqual(f[31], "TRANSPARENT_DATA seq=27 %s | HT #9002 SpO2 97 %% [MALFORMED]" % SERIAL)

    def test_one_pass_same_as_two(self):
        for name in (reference("malformed.pcap"), "udp-malformed.pcap", "udp-every-command.pcap"):
            with self.subTest(capture=name):
                self.assertEqual(info(name, two_pass=False), info(name))


class Undecrypted(ws.DecodeTest):
    """udp-encrypted.pcap: encrypted TLVs (0xE040) and bodies (0xE042) without the keys to open them."""

    CAP = "udp-encrypted.pcap"
    FIELDS = ["wmmp.command", "_ws.expert.message", "wmmp.decrypted"]
    CONTAINER_FRAMES = [n for n, _, _, flag, cls in ENCRYPTED_FRAMES if cls >= 2]

    def test_with_keys(self):
        f = info(self.CAP)
        for number, text in f.items():
            with self.subTest(frame=number):
                self.assertNotIn("UNDECRYPTED", text)

    def test_no_keys_at_all(self):
        f = info(self.CAP, keys=False)
        frames = ws.decode(self.CAP, self.FIELDS, keys=False)
        for number, name, seq, flag, cls in ENCRYPTED_FRAMES:
            with self.subTest(frame=number):
                messages = self.values(frames, number, "_ws.expert.message")
                if cls >= 2:
                    self.assertTrue(f[number].endswith(" [UNDECRYPTED: wmmp_keys empty]"), f[number])
                    self.assertIn(NO_KEYS_MESSAGE, messages)
                else:
                    self.assertNotIn("UNDECRYPTED", f[number])
                # every signed message says how to add keys; none blames a session key
                self.assertTrue(messages and all(m == NO_KEYS_MESSAGE for m in messages), messages)
                self.assertFalse([m for m in messages if "Session key unknown" in m])
        self.assertEqual(f[2], "LOGIN_ACK seq=1 %s result=Success [UNDECRYPTED: wmmp_keys empty]" % SERIAL)

    def test_terminal_not_in_table(self):
        f = info(self.CAP, keys=False, options=[OTHER_KEYS_UAT])
        frames = ws.decode(self.CAP, self.FIELDS, keys=False, options=[OTHER_KEYS_UAT])
        want = "No keys for terminal %s in the wmmp_keys table" % SERIAL
        for number in self.CONTAINER_FRAMES:
            with self.subTest(frame=number):
                self.assertTrue(f[number].endswith(" [UNDECRYPTED: terminal not in wmmp_keys]"), f[number])
                self.assertIn(want, self.values(frames, number, "_ws.expert.message"))
                self.assertNotIn(NO_KEYS_MESSAGE, self.values(frames, number, "_ws.expert.message"))

    def test_session_key_unknown(self):
        """captures/malformed.pcap frame 2: a fully encrypted body before any LOGIN_ACK, keys present."""
        cap = reference("malformed.pcap")
        f = info(cap)
        self.assertEqual(f[2], "HEART_BEAT seq=2 %s [UNDECRYPTED: session key unknown]" % SERIAL)
        frames = ws.decode(cap, self.FIELDS)
        self.assertIn("Session key unknown (no decryptable LOGIN_ACK of this session)",
                      self.values(frames, 2, "_ws.expert.message"))
        # the terminal the table does not know (frame 54)
        self.assertEqual(f[54], "CONFIG_TRAP seq=44 %s [UNDECRYPTED: terminal not in wmmp_keys]" % OTHER_SERIAL)

    def test_reference_full_without_keys(self):
        f = info(reference("full.pcap"), keys=False)
        undecrypted = [n for n, t in f.items() if t.endswith(" [UNDECRYPTED: wmmp_keys empty]")]
        self.assertGreaterEqual(len(undecrypted), 8, f)
        self.assertFalse([t for t in info(reference("full.pcap")).values() if "UNDECRYPTED" in t])


class DialectHint(ws.DecodeTest):
    """Tag 0x0002 read as the APN: a note naming the preference when it is no APN, nothing when it is."""

    FIELDS = ["wmmp.apn", "_ws.expert.message", "_ws.expert.severity"]
    HINT = "decode with the preference wmmp.dialect: paper"

    def hints(self, frames, number):
        return [m for m in self.values(frames, number, "_ws.expert.message") if "wmmp.dialect: paper" in m]

    def test_paper_capture_default_dialect(self):
        frames = ws.decode("udp-paper-dialect.pcap", self.FIELDS)
        for number in (1, 3):
            with self.subTest(frame=number):
                self.assertEqual(self.hints(frames, number),
                                 ["Tag 0x0002 holds the single byte %d, not an APN: in the seed paper's dialect it "
                                  "is the signal level, CSQ %d (%d dBm); %s"
                                  % (PAPER_SIGNAL, PAPER_SIGNAL, signal_dbm(PAPER_SIGNAL), self.HINT)])
                self.assertIn(ws.SEVERITY_NOTE, self.severities(frames, number))
        for number in (2, 4):
            self.assertEqual(self.hints(frames, number), [])

    def test_paper_dialect_set(self):
        frames = ws.decode("udp-paper-dialect.pcap", self.FIELDS, options=["wmmp.dialect:paper"])
        for number in frames:
            self.assertEqual(self.hints(frames, number), [])

    def test_real_apn(self):
        frames = ws.decode("udp-every-command.pcap", self.FIELDS)
        apn_frames = [n for n in frames if self.values(frames, n, "wmmp.apn")]
        self.assertEqual(sorted(apn_frames), [9, 10, 15, 16])  # CONFIG_GET/REQ list it, their ACKs give "CMNET"
        for number in apn_frames:
            self.assertEqual(self.hints(frames, number), [])

    def test_reference_paper_capture(self):
        """captures/paper-dialect.pcap read with the default dialect: every 0x0002 TLV gets the note."""
        frames = ws.decode(reference("paper-dialect.pcap"), self.FIELDS)
        with_apn = [n for n in frames if self.values(frames, n, "wmmp.apn")]
        self.assertTrue(with_apn)
        for number in with_apn:
            with self.subTest(frame=number):
                self.assertEqual(len(self.hints(frames, number)), len(self.values(frames, number, "wmmp.apn")))


if __name__ == "__main__":
    ws.main()
