#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turns a capture of WMMP health records into PNG plots, with tshark + the WMMP plugin and gnuplot.

    scripts/wmmp-plot.sh [-B BUILD_DIR] [-k KEYS] [-o OUT_DIR] [--terminal SERIAL] CAPTURE

Writes into OUT_DIR (default: plots/ in the current directory):
  ecg-<terminal>-<record>.png   the ECG waveform of every record that has one, in mV over seconds
                                (samples x resolution at the record's sample rate) on ECG paper
  vitals-<terminal>.png         heart rate, SpO2, temperature and blood pressure over the records'
                                measurement time (wmmp.health.time), one panel each
and prints the path of every file written. The values come from the plugin's fields
(tshark -T fields: wmmp.health.*), so whatever the plugin decodes can be plotted: reassembled fragments,
decrypted bodies (with -k, the keys file of profile section 11 = the wmmp_keys table) and retransmitted
records (plotted once).
"""
import argparse
import calendar
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WMMP_TSHARK = os.path.join(ROOT, "scripts", "wmmp-tshark.sh")

FIELDS = [
    "frame.number",
    "wmmp.terminal_id",
    "wmmp.health.record_id",
    "wmmp.health.time",
    "wmmp.health.heart_rate",
    "wmmp.health.spo2",
    "wmmp.health.temperature",
    "wmmp.health.bp.systolic",
    "wmmp.health.bp.diastolic",
    "wmmp.health.ecg.rate",
    "wmmp.health.ecg.lead",
    "wmmp.health.ecg.resolution",
    "wmmp.health.ecg.count",
    "wmmp.health.ecg.sample",
]
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def die(msg, code=1):
    print(f"wmmp-plot: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="wmmp-plot.sh",
        description="Plot the ECG waveforms and vitals of the WMMP health records in a capture (PNG, gnuplot).",
        epilog="Examples:\n"
               "  scripts/wmmp-plot.sh build/release/demo/session.pcap\n"
               "  scripts/wmmp-plot.sh -B build/release -k captures/wmmp-keys.txt -o /tmp/plots full.pcap\n"
               "  scripts/wmmp-plot.sh --installed --terminal A00MS8011390002S --no-ecg load.pcap\n"
               "Needs tshark, the WMMP plugin and gnuplot (apt-get install tshark gnuplot-nox).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("capture", help="capture file (pcap or pcapng) with WMMP traffic")
    p.add_argument("-B", "--build-dir", help="take the plugin from this build tree (via scripts/wmmp-tshark.sh; "
                   "default build/release when it has the plugin, else the installed plugin)")
    p.add_argument("--installed", action="store_true", help="run plain tshark with the installed plugin")
    p.add_argument("-k", "--keys", help="keys file (profile section 11, the wmmp_keys table) to verify and decrypt")
    p.add_argument("-o", "--out", help="output directory (default: plots/ in the current directory)")
    p.add_argument("--terminal", action="append", default=[], help="only this terminal serial (repeatable)")
    p.add_argument("--no-ecg", action="store_true", help="no ECG plots")
    p.add_argument("--no-vitals", action="store_true", help="no vitals plots")
    p.add_argument("--max-ecg", type=int, default=100, help="at most this many ECG plots (default 100)")
    p.add_argument("--ecg-seconds", type=float, help="plot only the first S seconds of each ECG")
    p.add_argument("--csv", action="store_true", help="also write the plotted values: ecg-*.csv (seconds, mV) "
                   "and vitals-*.csv (one row per record)")
    p.add_argument("--gnuplot", default="gnuplot", help="gnuplot program (default gnuplot)")
    return p.parse_args(argv)


def tshark_command(args):
    if args.installed:
        return ["tshark"]
    build = args.build_dir
    if build is None:
        default = os.path.join(ROOT, "build", "release")
        if glob.glob(os.path.join(default, "wireshark-plugins", "*", "epan", "wmmp.so")):
            build = default
    if build is None:
        return ["tshark"]
    return [WMMP_TSHARK, "-B", build]


def key_options(path):
    opts = []
    if not path:
        return opts
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    opts += ["-o", f"uat:wmmp_keys:{line}"]
    except OSError as e:
        die(f"keys file {path}: {e.strerror}", 2)
    return opts


def run_tshark(args):
    cmd = tshark_command(args) + key_options(args.keys) + [
        "-r", args.capture, "-Y", "wmmp.health", "-T", "fields", "-E", "separator=/t",
        "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    env = dict(os.environ, LC_ALL="C", TZ="UTC")
    try:
        out = subprocess.run(cmd, env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
    except FileNotFoundError:
        die(f"{cmd[0]} not found: apt-get install tshark", 2)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        die(f"tshark failed (exit {out.returncode})")
    return out.stdout


ISO_TIME = re.compile(r"\s*(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z")


def parse_time(text):
    """tshark's absolute UTC time -> seconds since the epoch: 'Jan  1, 2026 00:00:01.500000000 UTC' up to
    Wireshark 4.4, ISO 8601 '2026-01-01T00:00:01.500000000Z' from 4.6 on."""
    iso = ISO_TIME.match(text)
    if iso:
        year, mon, day, hh, mm, ss, frac = iso.groups()
        secs = calendar.timegm((int(year), int(mon), int(day), int(hh), int(mm), int(ss), 0, 0, 0))
        return secs + (float("0." + frac) if frac else 0.0)
    m = re.match(r"\s*([A-Z][a-z]{2})\s+(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(\S*)", text)
    if not m:
        return None
    mon, day, year, hh, mm, ss, frac, zone = m.groups()
    t = time.strptime(f"{mon} {day} {year} {hh}:{mm}:{ss}", "%b %d %Y %H:%M:%S")
    secs = calendar.timegm(t) if zone in ("UTC", "GMT", "") else time.mktime(t)
    return secs + (float("0." + frac) if frac else 0.0)


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def split(cell):
    return cell.split("|") if cell else []


def records_from(text):
    """One dict per health record (first occurrence of each terminal/record id), in capture order."""
    seen = set()
    records = []
    for line in text.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        c = dict(zip(FIELDS, cols))
        ids = split(c["wmmp.health.record_id"])
        terms = split(c["wmmp.terminal_id"])
        n = len(ids)
        if n == 0:
            continue

        def nth(field, i):
            vals = split(c[field])
            if len(vals) == n:
                return vals[i]
            return vals[0] if n == 1 and vals else ""

        ecg_counts = [int(x) for x in split(c["wmmp.health.ecg.count"]) if x.isdigit()]
        samples = [int(x) for x in split(c["wmmp.health.ecg.sample"]) if re.fullmatch(r"-?\d+", x)]
        ecg_rates = split(c["wmmp.health.ecg.rate"])
        ecg_res = split(c["wmmp.health.ecg.resolution"])
        ecg_leads = split(c["wmmp.health.ecg.lead"])
        for i, rid in enumerate(ids):
            # Several messages in one frame: terminal per message when the counts match, else the first.
            term = terms[i] if len(terms) == n else (terms[0] if terms else "unknown")
            key = (term, rid)
            if key in seen:
                continue
            seen.add(key)
            rec = {
                "terminal": term, "record": rid, "frame": c["frame.number"],
                "time": parse_time(nth("wmmp.health.time", i)),
                "hr": num(nth("wmmp.health.heart_rate", i)), "spo2": num(nth("wmmp.health.spo2", i)),
                "temp": num(nth("wmmp.health.temperature", i)),
                "sys": num(nth("wmmp.health.bp.systolic", i)), "dia": num(nth("wmmp.health.bp.diastolic", i)),
                "ecg": None,
            }
            # ECG: unambiguous when the frame holds one record, or when every record has an ECG.
            if ecg_counts and (n == 1 or len(ecg_counts) == n):
                j = 0 if n == 1 else i
                start = sum(ecg_counts[:j])
                rec["ecg"] = {
                    "rate": num(ecg_rates[j]) if j < len(ecg_rates) else None,
                    "resolution": num(ecg_res[j]) if j < len(ecg_res) else None,
                    "lead": int(ecg_leads[j]) if j < len(ecg_leads) and ecg_leads[j].isdigit() else None,
                    "samples": samples[start:start + ecg_counts[j]],
                }
            elif ecg_counts:
                print(f"wmmp-plot: frame {c['frame.number']}: ECG of record {rid} not attributable, skipped",
                      file=sys.stderr)
            records.append(rec)
    return records


def safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "unknown"


def gp_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def terminal_spec(gnuplot):
    ok = subprocess.run([gnuplot, "-e", "set terminal pngcairo"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode == 0
    return "pngcairo enhanced font 'DejaVu Sans,10'" if ok else "png font 'DejaVuSans' 9"


def fmt_time(t):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)) if t is not None else "time unknown"


def ecg_script(rec, data, png, term, max_seconds=None):
    e = rec["ecg"]
    rate = e["rate"] or 250.0
    res = e["resolution"] or 1000.0
    samples = e["samples"]
    shown = ""
    if max_seconds and len(samples) > max_seconds * rate:
        samples = samples[:max(1, int(max_seconds * rate))]
        shown = f", first {len(samples) / rate:g} s of {len(e['samples']) / rate:g} s"
    mv = [s * res / 1e6 for s in samples]
    with open(data, "w") as f:
        for i, v in enumerate(mv):
            f.write(f"{i / rate:.6f} {v:.6f}\n")
    secs = len(mv) / rate
    lo, hi = min(mv), max(mv)
    lo = (int(lo / 0.5) - 1) * 0.5 if lo < 0 else -0.5
    hi = (int(hi / 0.5) + 1) * 0.5
    width = int(min(4000, max(900, 320 * secs + 160)))
    height = int(min(900, max(380, 160 * (hi - lo) + 140)))
    lead = LEADS[e["lead"]] if e["lead"] is not None and e["lead"] < len(LEADS) else "?"
    extra = f", HR {rec['hr']:.0f} bpm" if rec["hr"] is not None else ""
    title = (f"ECG lead {lead}: terminal {rec['terminal']}, record {rec['record']} "
             f"({fmt_time(rec['time'])}{extra}) - {len(e['samples'])} samples at {rate:g} Hz, "
             f"{res:g} nV/LSB{shown}")
    major = 0.2 if secs <= 12 else 1.0    # long strips: 1 s labels, the 0.2 s squares as minor grid
    return f"""
reset
set terminal {term} size {width},{height}
set output {gp_quote(png)}
set title {gp_quote(title)} noenhanced
set xlabel "time (s)"
set ylabel "mV"
set xrange [0:{secs:.6f}]
set yrange [{lo}:{hi}]
set xtics {major} format "%g"
set mxtics 5
set ytics 0.5
set mytics 5
set grid xtics ytics mxtics mytics back lt 1 lw 1 lc rgb "#f08080", lt 1 lw 0.5 lc rgb "#fadada"
set key off
set border lc rgb "#a04040"
plot {gp_quote(data)} using 1:2 with lines lw 1.3 lc rgb "#101010"
unset output
"""


def record_key(r):
    return int(r["record"]) if r["record"].isdigit() else 0


def vitals_script(term_name, recs, data, png, term):
    """x is the measurement time; when records share a second (the record's time has 1 s resolution),
    or some have none, x is the record id instead, so that every record gets its own place."""
    recs = sorted(recs, key=lambda r: (r["time"] is None, r["time"] or 0, record_key(r)))
    times = [r["time"] for r in recs if r["time"] is not None]
    by_time = len(times) == len(recs) and len(set(times)) == len(times)
    with open(data, "w") as f:
        for r in recs:
            vals = [r[k] for k in ("hr", "spo2", "temp", "sys", "dia")]
            x = f"{r['time']:.3f}" if by_time else str(record_key(r))
            f.write(x + " " + " ".join("NaN" if v is None else f"{v:g}" for v in vals) + "\n")
    style = "linespoints pt 7 ps 0.8 lw 1.5"
    d = gp_quote(data)
    if not times:
        when = "no measurement times"
    elif min(times) == max(times):
        when = fmt_time(min(times))
    else:
        when = f"{fmt_time(min(times))} to {fmt_time(max(times))}"
    count = f"{len(recs)} record" + ("" if len(recs) == 1 else "s")
    title = f"Vitals of terminal {term_name}: {count}, {when}"
    if by_time:
        span = max(times) - min(times)
        xfmt = "%H:%M:%S" if span < 86400 else "%m-%d\\n%H:%M"
        xaxis = f'set xdata time\nset timefmt "%s"\nset format x "{xfmt}"\n' + \
                ("set xtics 1\n" if span < 8 else "")
        if span == 0:                    # one record: a few seconds around it
            xaxis += f'set xrange ["{times[0] - 2:.0f}":"{times[0] + 2:.0f}"]\n'

        xlabel = "measurement time (UTC)"
    else:
        xaxis = 'set format x "%g"\n'
        if len(recs) < 12:
            xaxis += "set xtics 1\n"
        if len(recs) == 1:
            xaxis += f"set xrange [{record_key(recs[0]) - 1}:{record_key(recs[0]) + 1}]\n"
        xlabel = "record id (measurement times share seconds)"
    xlabel += "; green: usual adult range"
    return f"""
reset
set terminal {term} size 1000,1100
set output {gp_quote(png)}
set datafile missing "NaN"
{xaxis}set grid lc rgb "#d0d0d0"
set offsets graph 0.02, graph 0.02, graph 0.1, graph 0.1
set lmargin 12
set rmargin 4
set multiplot layout 4,1 title {gp_quote(title)} noenhanced
set key off
set style rectangle behind fc rgb "#e6f5e6" fs solid 1.0 noborder
set object 1 rectangle from graph 0, first 60 to graph 1, first 100
set ylabel "heart rate (bpm)"
plot {d} using 1:2 with {style} lc rgb "#c0392b"
set object 1 rectangle from graph 0, first 95 to graph 1, first 100
set ylabel "SpO2 (%)"
plot {d} using 1:3 with {style} lc rgb "#2471a3"
set object 1 rectangle from graph 0, first 36.1 to graph 1, first 37.2
set ylabel "temperature (°C)"
plot {d} using 1:4 with {style} lc rgb "#d68910"
unset object 1
set object 1 rectangle from graph 0, first 90 to graph 1, first 120
set object 2 rectangle from graph 0, first 60 to graph 1, first 80
set key top left horizontal opaque
set offsets graph 0.02, graph 0.02, graph 0.3, graph 0.1
set ylabel "blood pressure (mmHg)"
set xlabel {gp_quote(xlabel)}
plot {d} using 1:5 with {style} lc rgb "#7d3c98" title "systolic", \\
     {d} using 1:6 with {style} lc rgb "#17a589" title "diastolic"
unset multiplot
unset output
"""


def write_ecg_csv(rec, path):
    e = rec["ecg"]
    rate, res = e["rate"] or 250.0, e["resolution"] or 1000.0
    with open(path, "w", encoding="utf-8") as f:
        f.write("seconds,millivolts,raw\n")
        for i, s in enumerate(e["samples"]):
            f.write(f"{i / rate:.6f},{s * res / 1e6:.6f},{s}\n")


def write_vitals_csv(recs, path):
    cols = ["hr", "spo2", "temp", "sys", "dia"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("record_id,measured_epoch,measured_utc,heart_rate_bpm,spo2_percent,temperature_c,"
                "systolic_mmhg,diastolic_mmhg,frame\n")
        for r in sorted(recs, key=record_key):
            t = "" if r["time"] is None else f"{r['time']:.0f}"
            utc = "" if r["time"] is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["time"]))
            vals = ["" if r[c] is None else f"{r[c]:g}" for c in cols]
            f.write(",".join([r["record"], t, utc] + vals + [r["frame"]]) + "\n")


def main(argv):
    args = parse_args(argv)
    if not os.path.isfile(args.capture):
        die(f"no such capture: {args.capture}", 2)
    if shutil.which(args.gnuplot) is None:
        die(f"{args.gnuplot} not found: apt-get install gnuplot-nox", 2)
    out = args.out or "plots"
    os.makedirs(out, exist_ok=True)

    records = records_from(run_tshark(args))
    if args.terminal:
        records = [r for r in records if r["terminal"] in args.terminal]
    if not records:
        hint = "" if args.keys else " (encrypted? pass -k KEYS)"
        die(f"no WMMP health records in {args.capture}{hint}")

    term = terminal_spec(args.gnuplot)
    written = []
    with tempfile.TemporaryDirectory(prefix="wmmp-plot.") as tmp:
        script = []
        if not args.no_ecg:
            ecgs = [r for r in records if r["ecg"] and r["ecg"]["samples"]][:max(args.max_ecg, 0)]
            for n, r in enumerate(ecgs):
                png = os.path.join(out, f"ecg-{safe(r['terminal'])}-{safe(r['record'])}.png")
                script.append(ecg_script(r, os.path.join(tmp, f"ecg{n}.dat"), png, term, args.ecg_seconds))
                written.append(png)
                if args.csv:
                    write_ecg_csv(r, png[:-4] + ".csv")
                    written.append(png[:-4] + ".csv")
        if not args.no_vitals:
            by_terminal = {}
            for r in records:
                by_terminal.setdefault(r["terminal"], []).append(r)
            for n, (t, recs) in enumerate(by_terminal.items()):
                png = os.path.join(out, f"vitals-{safe(t)}.png")
                script.append(vitals_script(t, recs, os.path.join(tmp, f"vitals{n}.dat"), png, term))
                written.append(png)
                if args.csv:
                    write_vitals_csv(recs, png[:-4] + ".csv")
                    written.append(png[:-4] + ".csv")
        path = os.path.join(tmp, "plot.gp")
        with open(path, "w", encoding="utf-8") as f:
            f.write("set encoding utf8\n" + "\n".join(script))
        res = subprocess.run([args.gnuplot, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            die(f"gnuplot failed (exit {res.returncode})")
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
