#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes a man page (roff) from a program's --help, so that the two never disagree.

    help-to-man.py PROGRAM NAME_LINE OUTPUT.1 [--version V] [--see-also FILE]

The --help text of the WMMP programs has this shape (emulator/drv_cli.c):
    Usage: PROG ARGS...
    description lines
    Options:
      --option ARG               description (continued on the next line when indented further)
    Examples:
      command lines
    Exit status: text...
    Other heading: text...
A line at column 0 of the form "Heading: text" starts a section; "Options" becomes OPTIONS (one .TP per
option), "Examples" is kept as typed (.nf), every other heading becomes a section with its text as a
paragraph.
"""
import argparse
import os
import re
import subprocess
import sys


def esc(text):
    """roff-escape plain text: backslashes, hyphens (so that options copy and paste), leading dots."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text)


def parse(help_text):
    lines = help_text.rstrip("\n").split("\n")
    usage = ""
    if lines and lines[0].startswith("Usage:"):
        usage = lines.pop(0)[len("Usage:"):].strip()
    sections = [("DESCRIPTION", [])]
    for line in lines:
        m = re.match(r"^([A-Z][a-z]+(?: [a-z]+){0,2}):\s*(.*)$", line)
        if m:
            sections.append((m.group(1).upper(), [m.group(2)] if m.group(2) else []))
        else:
            sections[-1][1].append(line)
    return usage, sections


def options_roff(lines):
    out, cur = [], None
    for line in lines:
        m = re.match(r"^\s{1,4}(-\S+(?: [^ ].*?)?)(?:\s{2,}(.*))?$", line)
        if m and line.lstrip().startswith("-"):
            cur = [m.group(1), [m.group(2)] if m.group(2) else []]
            out.append(cur)
        elif cur is not None and line.strip():
            cur[1].append(line.strip())
    roff = []
    for opt, desc in out:
        flag, _, arg = opt.partition(" ")
        if arg.startswith("-"):  # "-h, --help": two spellings of a flag
            flag, arg = opt, ""
        roff.append(".TP")
        roff.append(f'.B {esc(flag)}' if not arg else f'.BI "{esc(flag)} " "{esc(arg)}"')
        roff.append(esc(" ".join(desc)))
    return roff


def paragraph_roff(lines):
    roff, para = [], []
    for line in lines + [""]:
        if line.strip():
            para.append(line.strip())
        elif para:
            roff += [".PP", esc(" ".join(para))]
            para = []
    return roff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("program")
    ap.add_argument("name_line")
    ap.add_argument("output")
    ap.add_argument("--version", default="")
    ap.add_argument("--see-also")
    a = ap.parse_args()
    res = subprocess.run([a.program, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, check=False)
    if res.returncode != 0 or "Usage:" not in res.stdout:
        sys.exit(f"help-to-man: {a.program} --help failed (exit {res.returncode})")
    prog = os.path.basename(a.program)
    usage, sections = parse(res.stdout)
    roff = [f'.TH "{prog.upper()}" "1" "" "WMMP tools {a.version}" "WMMP tools"',
            ".SH NAME", f"{esc(prog)} \\- {esc(a.name_line)}", ".SH SYNOPSIS"]
    syn = usage[len(prog):].strip() if usage.startswith(prog) else usage
    roff += [f".B {esc(prog)}", esc(syn)]
    for title, lines in sections:
        if not any(l.strip() for l in lines):
            continue
        roff.append(f'.SH "{title}"')
        if title == "OPTIONS":
            roff += options_roff(lines)
        elif title == "EXAMPLES":
            roff += [".PP", ".nf", ".RS 4"]
            roff += [esc(l[2:] if l.startswith("  ") else l) for l in lines if l.strip()]
            roff += [".RE", ".fi"]
        else:
            roff += paragraph_roff(lines)
    if a.see_also:
        with open(a.see_also, encoding="utf-8") as f:
            roff += ['.SH "SEE ALSO"'] + [l.rstrip("\n") for l in f]
    with open(a.output, "w", encoding="utf-8") as f:
        f.write("\n".join(roff) + "\n")


if __name__ == "__main__":
    main()
