#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turns the JSON lines of reliability_tests.py (WMMP_RELIABILITY_RESULTS) into the Markdown tables of
docs/RELIABILITY.md.

    campaign_report.py RESULTS.jsonl [--runs FILE]

--runs: lines "TEST passed|failed" (the campaign's per-test verdicts) for the pass counts.
"""

import json
import sys
from collections import OrderedDict, defaultdict


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def total(rows, key):
    return sum(r.get(key) or 0 for r in rows)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    rows = load(argv[1])
    verdicts = defaultdict(lambda: [0, 0])
    if "--runs" in argv:
        with open(argv[argv.index("--runs") + 1]) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    verdicts[parts[0]][0 if parts[1] == "passed" else 1] += 1
    by = OrderedDict()
    for r in rows:
        by.setdefault(r["test"], []).append(r)

    out = []
    faults = [t for t in by if any("records_generated" in r for r in by[t])]
    out.append("| test | faults | runs passed | records generated | sent (with re-sends) | stored | duplicated | lost "
               "| retransmissions |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    grand = defaultdict(int)
    for t in faults:
        rs = by[t]
        f = rs[0].get("faults") or ""
        if rs[0].get("loss"):
            f = ("TCP, " if rs[0].get("tcp") else "UDP, ") + f
        elif "restart" in t:
            f = "kill -9 mid-session"
        elif t.startswith("Hostile") or t.startswith("RateLimit"):
            f = "hostile flood"
        elif "login_replay" in t:
            f = "replayed LOGIN mid-session"
        passed, failed = verdicts.get(t, [len(rs), 0])
        vals = [total(rs, k) for k in ("records_generated", "records_sent", "records_stored", "records_duplicated",
                                       "records_lost", "retransmissions")]
        for k, v in zip(("gen", "sent", "stored", "dup", "lost"), vals):
            grand[k] += v
        out.append("| %s | %s | %d/%d | %d | %s | %d | %d | %d | %s |" % (
            t, f, passed, passed + failed, vals[0], vals[1] or "-", vals[2], vals[3], vals[4], vals[5] or "-"))
    out.append("| **total** | | | **%d** | | **%d** | **%d** | **%d** | |" % (grand["gen"], grand["stored"],
                                                                             grand["dup"], grand["lost"]))
    out.append("")

    h = by.get("Hostile.test_flood", [])
    if h:
        out.append("| hostile flood | value |")
        out.append("|---|---|")
        out.append("| runs | %d |" % len(h))
        out.append("| UDP datagrams sent | %d (%.0f MB) |" % (total(h, "udp_datagrams"), total(h, "udp_bytes") / 1e6))
        out.append("| UDP source ports used | %d |" % total(h, "udp_sources"))
        out.append("| hostile TCP connections / framed messages | %d / %d (%.0f MB) |" % (
            total(h, "tcp_connections"), total(h, "tcp_messages"), total(h, "tcp_bytes") / 1e6))
        out.append("| flood time | %.0f s |" % total(h, "duration_s"))
        out.append("| slowloris / idle connections closed after at most | %.1f s / %.1f s |" % (
            max(r["slowloris_closed_after_s"] for r in h), max(r["idle_closed_after_s"] for r in h)))
        out.append("| platform RSS before → after (peak) | %s |" % ", ".join(
            "%.1f → %.1f MB (%.1f)" % (r["rss_before_kb"] / 1024, r["rss_after_kb"] / 1024, r["rss_peak_kb"] / 1024)
            for r in h))
        out.append("| rejected: malformed / unknown terminal / bad digest / not logged in | %d / %d / %d / %d |" % (
            total(h, "rejected_malformed"), total(h, "rejected_unknown"), total(h, "rejected_bad_digest"),
            total(h, "rejected_not_logged_in")))
        out.append("")
    for name, keys in (("Hostile.test_udp_sources_bounded", ("udp_datagrams", "udp_sources", "udp_addresses_forgotten")),
                       ("RateLimit.test_one_source_flood", ("flood_datagrams", "rate_limited", "flood_passed",
                                                            "flood_duration_s", "terminal_session_s")),
                       ("RateLimit.test_tcp_connection_flood", ("connections", "closed_at_once")),
                       ("Security.test_bad_digest_never_stored", ("bad_digests_sent", "bad_digests_stored")),
                       ("Security.test_replay_after_session_end", ("replays", "replays_stored")),
                       ("Security.test_unknown_terminal", ("login_result", "data_result", "register_result", "stored")),
                       ("Security.test_logs_hold_no_secrets", ("log_lines", "secrets_checked", "found"))):
        rs = by.get(name)
        if rs:
            def show(k):
                if k.endswith("_result"):  # result codes: the values seen, not a sum
                    return "/".join(str(v) for v in sorted({r.get(k) for r in rs}, key=str))
                return str(round(total(rs, k), 1))
            out.append("%s (%d runs): %s" % (name, len(rs), ", ".join(
                "%s %s" % (k.replace("_", " "), show(k)) for k in keys)))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
