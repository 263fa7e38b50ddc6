# SPDX-License-Identifier: GPL-2.0-or-later
"""udp-health-panel.pcap: every field of the health record of profile section 10 (wmmp.health)."""

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

CAP = "udp-health-panel.pcap"
H = "wmmp.health."
FIELDS = ["wmmp.command", "wmmp.result", "wmmp.crc16.status", "frame.protocols", "_ws.malformed",
          "_ws.expert.severity"] + [H + f for f in (
              "record_id", "time", "subject_id", "ecg.rate", "ecg.lead", "ecg.sample", "heart_rate", "temperature",
              "bp.systolic", "bp.diastolic", "bp.mean", "pulse_rate", "spo2", "resp_rate", "lab.analyte",
              "lab.value", "lab.flag", "reminder.level", "reminder.text")]


class HealthPanel(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(CAP, FIELDS)

    def test_message(self):
        self.assertInt(self.f, 1, "wmmp.command", command_id("TRANSPARENT_DATA"))
        self.assertInt(self.f, 1, "wmmp.crc16.status", 1)
        self.assertIn("wmmp.health", self.value(self.f, 1, "frame.protocols").split(":"))
        self.assertInt(self.f, 2, "wmmp.command", command_id("TRANSPARENT_DATA_ACK"))
        self.assertInt(self.f, 2, "wmmp.result", 0)
        for number in (1, 2):
            self.assertAbsent(self.f, number, "_ws.malformed")
            self.assertNotIn(ws.SEVERITY_ERROR, self.severities(self.f, number))

    def test_record_header(self):
        self.assertInt(self.f, 1, H + "record_id", PANEL_RECORD_ID)
        self.assertTime(self.f, 1, H + "time", PANEL_TIME)
        self.assertField(self.f, 1, H + "subject_id", PANEL_SUBJECT)

    def test_ecg(self):
        self.assertInt(self.f, 1, H + "ecg.rate", ECG_RATE)
        self.assertInt(self.f, 1, H + "ecg.lead", ECG_LEAD_II)
        self.assertInts(self.f, 1, H + "ecg.sample", [ecg_sample(i) for i in range(PANEL_ECG_SAMPLES)])

    def test_vitals(self):
        for name, expected in PANEL_VITALS.items():
            with self.subTest(field=name):
                if isinstance(expected, float):
                    self.assertFloat(self.f, 1, H + name, expected)
                else:
                    self.assertInt(self.f, 1, H + name, expected)

    def test_labs(self):
        self.assertInts(self.f, 1, H + "lab.analyte", [a for a, _, _, _ in PANEL_LABS])
        self.assertInts(self.f, 1, H + "lab.flag", [fl for _, _, _, fl in PANEL_LABS])
        got = [ws.as_float(v) for v in self.values(self.f, 1, H + "lab.value")]
        self.assertEqual(len(got), len(PANEL_LABS))
        for (analyte, _, milli, _), value in zip(PANEL_LABS, got):
            self.assertAlmostEqual(value, milli / 1000.0, places=6, msg="lab analyte %d" % analyte)

    def test_reminders(self):
        self.assertInts(self.f, 1, H + "reminder.level", [lv for lv, _ in PANEL_REMINDERS])
        self.assertFields(self.f, 1, H + "reminder.text", [t for _, t in PANEL_REMINDERS])


if __name__ == "__main__":
    ws.main()
