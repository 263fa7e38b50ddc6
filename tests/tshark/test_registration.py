# SPDX-License-Identifier: GPL-2.0-or-later
"""The plugin loads and registers every display-filter field of the contract (profile section 12 and the
names the other decode tests use), including one typed field per tag of codec/wmmp_tags.def."""

import os
import re

import wmmp_tshark as ws

# Profile section 12, verbatim: these names never change once released.
PROFILE_FIELDS = """
wmmp.length wmmp.command wmmp.sequence wmmp.version wmmp.safe_flag wmmp.safe_flag.security
wmmp.safe_flag.encryption wmmp.safe_flag.digest wmmp.safe_flag.encrypted_or_fragment wmmp.reserved
wmmp.terminal_id wmmp.class
wmmp.result wmmp.tlv.tag wmmp.tlv.length wmmp.tlv.value wmmp.logout.reason wmmp.login.timestamp
wmmp.register.operation wmmp.imei wmmp.imsi wmmp.apn wmmp.signal_level wmmp.heartbeat_interval
wmmp.remote_ctrl.command wmmp.user_data
wmmp.digest wmmp.digest.status wmmp.decrypted
wmmp.response_in wmmp.response_to wmmp.response_time wmmp.retransmission
wmmp.health.record_id wmmp.health.time wmmp.health.subject_id wmmp.health.ecg.rate wmmp.health.ecg.lead
wmmp.health.ecg.sample wmmp.health.heart_rate wmmp.health.temperature wmmp.health.bp.systolic
wmmp.health.bp.diastolic wmmp.health.bp.mean wmmp.health.pulse_rate wmmp.health.spo2 wmmp.health.resp_rate
wmmp.health.lab.analyte wmmp.health.lab.value wmmp.health.lab.flag wmmp.health.reminder.level
wmmp.health.reminder.text
""".split()

# The further names of the plugin's contract that the decode tests rely on.
CONTRACT_FIELDS = """
wmmp.login.software_version wmmp.login.sync_crc wmmp.register.serial wmmp.crc16 wmmp.crc16.status
wmmp.file.transaction_id wmmp.file.status wmmp.file.offset wmmp.file.block_size wmmp.file.length
wmmp.file.data wmmp.security.operation
wmmp.signal_dbm wmmp.cell.lac wmmp.cell.ci
wmmp.tlv.uint wmmp.tlv.string wmmp.tlv.ipv4 wmmp.tlv.value
wmmp.fragment.transaction_id wmmp.fragment.total wmmp.fragment.part wmmp.fragment.operation
wmmp.fragment.data wmmp.fragment_control wmmp.reassembled_in wmmp.reassembled.length
""".split()


def tag_fields():
    """'wmmp.' + the last column of every WMMP_TAG(...) line of codec/wmmp_tags.def."""
    path = os.path.join(ws.CONFIG.source_dir, "codec", "wmmp_tags.def")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    names = re.findall(r'^WMMP_TAG\(.*"([^"]*)"\)\s*$', text, re.M)
    assert names, "no WMMP_TAG line found in " + path
    return ["wmmp." + n for n in names]


class Registration(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.plugins = ws.run(["-G", "plugins"]).stdout.decode("utf-8")
        fields = ws.run(["-G", "fields"]).stdout.decode("utf-8")
        cls.fields = {line.split("\t")[2] for line in fields.splitlines() if line.startswith("F\t")}
        protocols = ws.run(["-G", "protocols"]).stdout.decode("utf-8")
        cls.protocols = {line.split("\t")[2] for line in protocols.splitlines() if line.count("\t") >= 2}

    def test_1_plugin_loaded(self):
        lines = [l for l in self.plugins.splitlines() if l.split("\t")[0].strip() == "wmmp.so"]
        self.assertTrue(lines, "tshark -G plugins does not list wmmp.so:\n" + self.plugins)
        self.assertIn("dissector", lines[0])

    def test_2_protocols(self):
        self.assertIn("wmmp", self.protocols)
        self.assertIn("wmmp.health", self.protocols)

    def test_3_profile_fields(self):
        missing = [f for f in PROFILE_FIELDS if f not in self.fields]
        self.assertEqual(missing, [], "section 12 fields not registered")

    def test_4_contract_fields(self):
        missing = [f for f in CONTRACT_FIELDS if f not in self.fields]
        self.assertEqual(missing, [], "contract fields not registered")

    def test_5_tag_fields(self):
        missing = [f for f in tag_fields() if f not in self.fields]
        self.assertEqual(missing, [], "typed tag fields of wmmp_tags.def not registered")

    def test_6_preferences(self):
        out = ws.run(["-G", "currentprefs"]).stdout.decode("utf-8")
        self.assertRegex(out, r"(?m)^#?\s*wmmp\.dialect:", "preference wmmp.dialect missing")

    def test_7_documented(self):
        """docs/PLUGIN.md lists every registered field (regenerate with scripts/plugin-fields.sh)."""
        path = os.path.join(ws.CONFIG.source_dir, "docs", "PLUGIN.md")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        start, end = text.find("<!-- fields:begin -->"), text.find("<!-- fields:end -->")
        self.assertTrue(0 <= start < end, "docs/PLUGIN.md lacks the fields:begin/end markers")
        documented = set(re.findall(r"^\| `(wmmp[^`]*)`", text[start:end], re.M))
        ours = {f for f in self.fields if f == "wmmp" or f.startswith("wmmp.")}
        self.assertEqual(sorted(ours - documented), [], "fields missing from docs/PLUGIN.md")
        self.assertEqual(sorted(documented - ours), [], "docs/PLUGIN.md lists fields the plugin lacks")


if __name__ == "__main__":
    ws.main()
