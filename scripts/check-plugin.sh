#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Static checks of the Wireshark plugin's sources, after the rules of Wireshark's own dissector checks
# (tools/checkhf.pl, check_typed_item_calls.py, check_tfs.py, check_val_to_str.py in wireshark/wireshark),
# written anew for this project (bash + python3 standard library):
#
#   hf.unregistered   an hf_ variable declared but not in any hf_register_info array
#   hf.unused         an hf_ field registered but never added (or referenced) anywhere else
#   hf.hfill          an hf_register_info entry that does not end with HFILL (EXPFILL for expert items)
#   item.type         proto_tree_add_<type>() / _ret_<type>() on a field of another FT_ type
#                     (e.g. proto_tree_add_uint on an FT_STRING field)
#   item.encoding     proto_tree_add_item() with an encoding that does not fit the field's type (ENC_NA on
#                     an integer, a byte order on a string, a string encoding on bytes, no ENC_TIME_* on a time)
#   item.length       proto_tree_add_item() with a literal length longer than the field's type
#   tfs.duplicate     a true_false_string with the strings of one of Wireshark's tfs_* (use that one), or a
#                     two-entry 0/1 value_string that is one
#   val_to_str.format val_to_str() whose "unknown" format has no integer conversion (or has %s);
#                     val_to_str_const() whose string has one
#   vals.terminator   a value_string / val64_string array whose last entry is not { 0, NULL }
#   ett.unregistered  an ett_ variable not in any subtree array (int *ett[])
#   ett.unused        an ett_ registered but never used
#   ei.unregistered   an expert_field declared but not in any ei_register_info array
#   ei.unused         an expert item registered but never raised (or referenced) anywhere else
#
#   scripts/check-plugin.sh [FILE.c ...]     default: plugin/*.c
#
# First checks itself: each rule must fire on a small bad example, and stay quiet on a good one.
# Exit status: 0 when nothing was found, 1 when something was (one line per finding: file:line: rule: what).
set -euo pipefail
files=()
for f in "$@"; do files+=("$(realpath "$f")"); done
cd "$(dirname "$0")/.."
if [[ ${#files[@]} -eq 0 ]]; then
  files=(plugin/*.c)
fi
set -- "${files[@]}"
exec python3 -B - "$@" <<'PY'
import os
import re
import sys
import tempfile

# Wireshark's common true_false_strings (epan/tfs.c), the ones a dissector is most likely to write again.
COMMON_TFS = {
    ("True", "False"): "tfs_true_false", ("Yes", "No"): "tfs_yes_no", ("Set", "Not set"): "tfs_set_notset",
    ("Enabled", "Disabled"): "tfs_enabled_disabled", ("Disabled", "Enabled"): "tfs_disabled_enabled",
    ("On", "Off"): "tfs_on_off", ("Off", "On"): "tfs_off_on", ("Present", "Not present"): "tfs_present_not_present",
    ("Present", "Absent"): "tfs_present_absent", ("Valid", "Invalid"): "tfs_valid_invalid",
    ("Invalid", "Valid"): "tfs_invalid_valid", ("Success", "Fail"): "tfs_success_fail",
    ("Fail", "Success"): "tfs_fail_success", ("Allowed", "Not allowed"): "tfs_allowed_not_allowed",
    ("Supported", "Not supported"): "tfs_supported_not_supported", ("Active", "Inactive"): "tfs_active_inactive",
    ("Error", "Ok"): "tfs_error_ok", ("Ok", "Error"): "tfs_ok_error", ("Used", "Not used"): "tfs_used_notused",
    ("Requested", "Not requested"): "tfs_requested_not_requested", ("Available", "Not available"):
    "tfs_available_not_available", ("Accept", "Reject"): "tfs_accept_reject", ("Open", "Closed"): "tfs_open_closed",
    ("Required", "Not required"): "tfs_required_not_required", ("High", "Low"): "tfs_high_low",
    ("Little endian", "Big endian"): "tfs_little_big_endian", ("Big endian", "Little endian"): "tfs_big_little_endian",
    ("Up", "Down"): "tfs_up_down", ("Complete", "Incomplete"): "tfs_complete_incomplete",
    ("Pass", "Fail"): "tfs_pass_fail", ("Found", "Not found"): "tfs_found_not_found",
    ("Acknowledged", "Not acknowledged"): "tfs_acknowledged_not_acknowledged",
    ("Encrypted", "Not encrypted"): "tfs_encrypted_not_encrypted", ("Connected", "Disconnected"):
    "tfs_connected_disconnected", ("Response", "Request"): "tfs_response_request",
    ("Restricted", "Allowed"): "tfs_restricted_allowed", ("Included", "Not included"): "tfs_included_not_included",
    ("Critical", "Not critical"): "tfs_critical_not_critical", ("Ready", "Busy"): "tfs_ready_busy",
}

INTS = {"FT_CHAR", "FT_UINT8", "FT_UINT16", "FT_UINT24", "FT_UINT32"}
SINTS = {"FT_INT8", "FT_INT16", "FT_INT24", "FT_INT32"}
INT64 = {"FT_UINT40", "FT_UINT48", "FT_UINT56", "FT_UINT64"}
SINT64 = {"FT_INT40", "FT_INT48", "FT_INT56", "FT_INT64"}
STRINGS = {"FT_STRING", "FT_STRINGZ", "FT_STRINGZPAD", "FT_STRINGZTRUNC", "FT_UINT_STRING"}
BYTES = {"FT_BYTES", "FT_UINT_BYTES"}
TIMES = {"FT_ABSOLUTE_TIME", "FT_RELATIVE_TIME"}
# The field types each typed adder accepts (what proto.c checks at run time).
ADDERS = {
    "proto_tree_add_uint": INTS | {"FT_FRAMENUM"}, "proto_tree_add_uint_format": INTS | {"FT_FRAMENUM"},
    "proto_tree_add_uint_format_value": INTS | {"FT_FRAMENUM"}, "proto_tree_add_uint64": INT64 | {"FT_FRAMENUM"},
    "proto_tree_add_int": SINTS, "proto_tree_add_int_format": SINTS, "proto_tree_add_int_format_value": SINTS,
    "proto_tree_add_int64": SINT64, "proto_tree_add_boolean": {"FT_BOOLEAN"},
    "proto_tree_add_boolean_format_value": {"FT_BOOLEAN"}, "proto_tree_add_double": {"FT_DOUBLE"},
    "proto_tree_add_double_format": {"FT_DOUBLE"}, "proto_tree_add_double_format_value": {"FT_DOUBLE"},
    "proto_tree_add_float": {"FT_FLOAT"}, "proto_tree_add_string": STRINGS,
    "proto_tree_add_string_format": STRINGS, "proto_tree_add_string_format_value": STRINGS,
    "proto_tree_add_bytes": BYTES | {"FT_NONE"}, "proto_tree_add_bytes_format_value": BYTES | {"FT_NONE"},
    "proto_tree_add_time": TIMES, "proto_tree_add_ipv4": {"FT_IPv4"}, "proto_tree_add_none_format": {"FT_NONE"},
    "proto_tree_add_item_ret_uint": INTS, "proto_tree_add_item_ret_int": SINTS,
    "proto_tree_add_item_ret_uint64": INT64, "proto_tree_add_item_ret_int64": SINT64,
    "proto_tree_add_item_ret_boolean": {"FT_BOOLEAN"}, "proto_tree_add_item_ret_string": STRINGS,
    "proto_tree_add_item_ret_string_and_length": STRINGS,
    "proto_tree_add_item_ret_time_string": TIMES,
}
LENGTHS = {"FT_CHAR": 1, "FT_UINT8": 1, "FT_INT8": 1, "FT_UINT16": 2, "FT_INT16": 2, "FT_UINT24": 3,
           "FT_INT24": 3, "FT_UINT32": 4, "FT_INT32": 4, "FT_UINT64": 8, "FT_INT64": 8, "FT_IPv4": 4,
           "FT_ETHER": 6, "FT_FLOAT": 4, "FT_DOUBLE": 8}
STRING_ENC = re.compile(r"ENC_(ASCII|UTF_8|UTF_16|UCS_2|UCS_4|ISO_8859|WINDOWS|EBCDIC|3GPP|ASCII_7BITS|BCD|"
                        r"KEYPAD|APN_STR|DECT|GB18030|EUC_KR|T61|CP437|CP855|CP866|ZIGBEE|STR_HEX)")
ORDER_ENC = re.compile(r"ENC_(BIG|LITTLE|HOST)_ENDIAN")


def string_end(text, i):
    """The index just past the C string or character literal that opens at text[i]."""
    q, j = text[i], i + 1
    while j < len(text) and text[j] != q:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def strip_comments(text):
    """Comments and string contents become spaces of the same length (line numbers stay)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text[i] in "\"'":
            j = string_end(text, i)
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_args(s):
    """Top-level comma-separated parts of s (parentheses, braces and strings kept whole)."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(s):
        c = s[i]
        if c in "\"'":
            j = string_end(s, i)
            cur.append(s[i:j])
            i = j
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def balanced(text, start):
    """The text from the opening bracket at start to its closing one (exclusive both)."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = string_end(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]


def c_string(s):
    """The value of a C string literal (adjacent literals joined), or None."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', s)
    return "".join(parts) if parts and re.fullmatch(r'\s*("(?:[^"\\]|\\.)*"\s*)+', s) else None


def check_file(path, report):
    raw = open(path, encoding="utf-8").read()
    text = strip_comments(raw)

    def line(pos):
        return text.count("\n", 0, pos) + 1

    def found(pos, rule, what):
        report.append("%s:%d: %s: %s" % (path, line(pos), rule, what))

    # ---- registration arrays ----
    fields, hf_reg_spans = {}, []
    for m in re.finditer(r"hf_register_info\s+\w+\s*\[\s*\]\s*=\s*\{", text):
        body_start = m.end() - 1
        body = balanced(text, body_start)
        hf_reg_spans.append((body_start, body_start + len(body) + 2))
        for e in re.finditer(r"\{\s*&\s*(hf_\w+)\s*,\s*\{", body):
            inner = balanced(body, e.end() - 1)
            args = split_args(inner)
            pos = body_start + 1 + e.start()
            if not args or args[-1] != "HFILL":
                found(pos, "hf.hfill", "%s: the entry does not end with HFILL" % e.group(1))
            if len(args) >= 6:
                fields[e.group(1)] = {"type": args[2], "display": args[3], "strings": args[4], "pos": pos}
    ett_reg, ett_spans = set(), []
    for m in re.finditer(r"\bint\s*\*\s*(?:const\s+)?\w+\s*\[\s*\]\s*=\s*\{", text):
        body = balanced(text, m.end() - 1)
        names = re.findall(r"&\s*(ett_\w+)", body)
        if names and len(names) == len(split_args(body)):
            ett_reg.update(names)
            ett_spans.append((m.end() - 1, m.end() + len(body) + 1))
    ei_reg, ei_spans = {}, []
    for m in re.finditer(r"ei_register_info\s+\w+\s*\[\s*\]\s*=\s*\{", text):
        body_start = m.end() - 1
        body = balanced(text, body_start)
        ei_spans.append((body_start, body_start + len(body) + 2))
        for e in re.finditer(r"\{\s*&\s*(ei_\w+)\s*,\s*\{", body):
            pos = body_start + 1 + e.start()
            ei_reg[e.group(1)] = pos
            args = split_args(balanced(body, e.end() - 1))
            if not args or args[-1] != "EXPFILL":
                found(pos, "hf.hfill", "%s: the expert entry does not end with EXPFILL" % e.group(1))

    def uses(name, spans):
        """Occurrences of name outside its declaration and the given registration spans."""
        n = 0
        for m in re.finditer(r"\b%s\b" % re.escape(name), text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            if re.match(r"\s*=\s*(-1|EI_INIT)\s*;", text[m.end():]) and \
               re.search(r"\b(int|expert_field)\s+$", text[max(0, m.start() - 40):m.start()]):
                continue
            n += 1
        return n

    # ---- hf: declared, registered, used ----
    for m in re.finditer(r"^\s*(?:static\s+)?int\s+(hf_\w+)\s*=\s*-1\s*;", text, re.M):
        if m.group(1) not in fields:
            found(m.start(1), "hf.unregistered", "%s is declared but not registered" % m.group(1))
    for name, f in fields.items():
        if uses(name, hf_reg_spans) == 0:
            found(f["pos"], "hf.unused", "%s is registered but never used" % name)

    # ---- ett ----
    for m in re.finditer(r"^\s*(?:static\s+)?int\s+(ett_\w+)\s*=\s*-1\s*;", text, re.M):
        if m.group(1) not in ett_reg:
            found(m.start(1), "ett.unregistered", "%s is not in a subtree array" % m.group(1))
        elif uses(m.group(1), ett_spans) == 0:
            found(m.start(1), "ett.unused", "%s is registered but never used" % m.group(1))

    # ---- expert items ----
    for m in re.finditer(r"^\s*(?:static\s+)?expert_field\s+(ei_\w+)\s*=\s*EI_INIT\s*;", text, re.M):
        if m.group(1) not in ei_reg:
            found(m.start(1), "ei.unregistered", "%s is declared but not registered" % m.group(1))
    for name, pos in ei_reg.items():
        if uses(name, ei_spans) == 0:
            found(pos, "ei.unused", "%s is registered but never raised" % name)

    # ---- typed adders and proto_tree_add_item ----
    for m in re.finditer(r"\b(proto_tree_add_\w+)\s*\(", text):
        fn = m.group(1)
        args = split_args(balanced(text, m.end() - 1))
        if len(args) < 2:
            continue
        hf = args[1].strip()
        f = fields.get(hf)
        if not f:
            continue
        ftype = f["type"]
        if fn in ADDERS and ftype not in ADDERS[fn]:
            found(m.start(), "item.type", "%s() on %s, an %s field" % (fn, hf, ftype))
        if fn in ("proto_tree_add_item",) or fn.startswith("proto_tree_add_item_ret_"):
            if len(args) < 6:
                continue
            length, enc = args[4].strip(), args[5].strip()
            if fn == "proto_tree_add_item" and re.fullmatch(r"\d+", length) and ftype in LENGTHS \
               and int(length) > LENGTHS[ftype]:
                found(m.start(), "item.length", "%s: length %s for an %s field" % (hf, length, ftype))
            bad = None
            if ftype in INTS | SINTS | INT64 | SINT64 | {"FT_IPv4", "FT_FLOAT", "FT_DOUBLE"}:
                if enc == "ENC_NA" or STRING_ENC.search(enc):
                    bad = "needs a byte order"
            elif ftype in STRINGS:
                if not STRING_ENC.search(enc):
                    bad = "needs a string encoding (ENC_ASCII, ENC_UTF_8, ...)"
            elif ftype in BYTES | {"FT_NONE", "FT_PROTOCOL"}:
                if STRING_ENC.search(enc) or ORDER_ENC.search(enc):
                    bad = "takes ENC_NA"
            elif ftype in TIMES:
                if "ENC_TIME_" not in enc:
                    bad = "needs ENC_TIME_*"
            if bad:
                found(m.start(), "item.encoding", "%s (%s) with %s: %s" % (hf, ftype, enc, bad))

    # ---- true_false_string duplicating Wireshark's ----
    for m in re.finditer(r"true_false_string\s+(\w+)\s*=\s*\{", text):
        args = split_args(balanced(text, m.end() - 1))
        pair = tuple(c_string(a) for a in args[:2])
        if pair in COMMON_TFS:
            found(m.start(), "tfs.duplicate", "%s is Wireshark's %s" % (m.group(1), COMMON_TFS[pair]))

    # ---- value_string arrays: NULL-terminated; 0/1 tables that are a tfs ----
    for m in re.finditer(r"\b(value_string|val64_string)\s+(\w+)\s*\[\s*\]\s*=\s*\{", text):
        # entries an X-macro table expands to (#define ... #include "x.def") are not seen; its terminator is
        body = re.sub(r"^[ \t]*#.*$", "", balanced(text, m.end() - 1), flags=re.M)
        entries = [e for e in split_args(body) if e.startswith("{")]
        last = split_args(entries[-1][1:-1]) if entries else []
        if len(last) != 2 or last[1] != "NULL":
            found(m.start(), "vals.terminator", "%s does not end with { 0, NULL }" % m.group(2))
        pairs = dict()
        for e in entries[:-1]:
            kv = split_args(e[1:-1])
            if len(kv) == 2 and kv[0] in ("0", "1") and c_string(kv[1]) is not None:
                pairs[kv[0]] = c_string(kv[1])
        if len(entries) == 3 and len(pairs) == 2 and (pairs["1"], pairs["0"]) in COMMON_TFS:
            found(m.start(), "tfs.duplicate", "%s is Wireshark's %s (a boolean field with TFS())"
                  % (m.group(2), COMMON_TFS[(pairs["1"], pairs["0"])]))

    # ---- val_to_str formats ----
    for m in re.finditer(r"(?<![\w])(r?val_to_str(?:_ext)?(?:_const)?|val_to_str_wmem)\s*\(", text):
        args = split_args(balanced(text, m.end() - 1))
        fmt = c_string(args[-1]) if args else None
        if fmt is None:
            continue
        if m.group(1).endswith("_const"):
            if "%" in fmt:
                found(m.start(), "val_to_str.format", "%s(): \"%s\" is printed as it is" % (m.group(1), fmt))
        elif "%s" in fmt or not re.search(r"%[-+ #0-9.]*(h|l|ll)?[diuxXo]", fmt):
            found(m.start(), "val_to_str.format", "%s(): \"%s\" needs one integer conversion (%%u, %%d, %%x)"
                  % (m.group(1), fmt))


BAD_EXAMPLE = r'''
static int proto_x = -1;
static int hf_unreg = -1;
static int hf_unused = -1;
static int hf_str = -1;
static int hf_u8 = -1;
static int hf_nofill = -1;
static int ett_a = -1;
static int ett_b = -1;
static expert_field ei_unreg = EI_INIT;
static expert_field ei_unused = EI_INIT;
static const true_false_string my_tfs = { "Yes", "No" };
static const value_string no_end[] = { { 1, "one" }, { 2, "two" } };
static const value_string like_tfs[] = { { 0, "False" }, { 1, "True" }, { 0, NULL } };
static void f(proto_tree *t, tvbuff_t *tvb, int v)
{
    proto_tree_add_uint(t, hf_str, tvb, 0, 1, v);
    proto_tree_add_item(t, hf_u8, tvb, 0, 2, ENC_NA);
    proto_tree_add_item(t, hf_str, tvb, 0, 4, ENC_BIG_ENDIAN);
    proto_tree_add_item(t, hf_nofill, tvb, 0, 1, ENC_BIG_ENDIAN);
    val_to_str(v, no_end, "Unknown");
    val_to_str_const(v, no_end, "Unknown %u");
}
void reg(void)
{
    static hf_register_info hf[] = {
        { &hf_unused, { "U", "x.u", FT_UINT8, BASE_DEC, NULL, 0, NULL, HFILL } },
        { &hf_str, { "S", "x.s", FT_STRING, BASE_NONE, NULL, 0, NULL, HFILL } },
        { &hf_u8, { "B", "x.b", FT_UINT8, BASE_DEC, NULL, 0, NULL, HFILL } },
        { &hf_nofill, { "N", "x.n", FT_UINT8, BASE_DEC, NULL, 0, NULL, -1, 0, HF_REF_TYPE_NONE, -1, NULL } },
    };
    static int *ett[] = { &ett_a };
    static ei_register_info ei[] = {
        { &ei_unused, { "x.unused", PI_MALFORMED, PI_ERROR, "Unused", EXPFILL } },
    };
}
'''
BAD_RULES = {"hf.unregistered", "hf.unused", "hf.hfill", "item.type", "item.encoding", "item.length",
             "tfs.duplicate", "val_to_str.format", "vals.terminator", "ett.unregistered", "ett.unused",
             "ei.unregistered", "ei.unused"}
GOOD_EXAMPLE = r'''
static int hf_a = -1;
static int ett_a = -1;
static expert_field ei_a = EI_INIT;
static const value_string vals[] = { { 1, "one" }, { 0, NULL } };
static void f(proto_tree *t, tvbuff_t *tvb, packet_info *pinfo)
{
    uint32_t v;
    proto_tree *s = proto_tree_add_subtree(t, tvb, 0, 1, ett_a, NULL, "A");
    proto_item *pi = proto_tree_add_item_ret_uint(s, hf_a, tvb, 0, 1, ENC_BIG_ENDIAN, &v);
    expert_add_info(pinfo, pi, &ei_a);
    col_add_str(pinfo->cinfo, COL_INFO, val_to_str(v, vals, "Unknown (%u)"));
}
void reg(void)
{
    static hf_register_info hf[] = {
        { &hf_a, { "A", "x.a", FT_UINT8, BASE_DEC, VALS(vals), 0, "A, with a comma", HFILL } },
    };
    static int *ett[] = { &ett_a };
    static ei_register_info ei[] = { { &ei_a, { "x.a", PI_PROTOCOL, PI_WARN, "A", EXPFILL } } };
}
'''


def self_test():
    with tempfile.TemporaryDirectory() as d:
        results = {}
        for name, src in (("bad.c", BAD_EXAMPLE), ("good.c", GOOD_EXAMPLE)):
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(src)
            report = []
            check_file(path, report)
            results[name] = {r.split(": ")[1] for r in report}, report
        missed = BAD_RULES - results["bad.c"][0]
        if missed or results["good.c"][1]:
            print("check-plugin: self-test failed: rules that missed the bad example: %s; findings on the good "
                  "one: %s" % (sorted(missed) or "none", results["good.c"][1] or "none"), file=sys.stderr)
            sys.exit(2)


self_test()
report = []
for path in sys.argv[1:]:
    check_file(path, report)
for r in report:
    print(r)
print("check-plugin: %d file(s), %d finding(s)" % (len(sys.argv) - 1, len(report)),
      file=sys.stderr if report else sys.stdout)
sys.exit(1 if report else 0)
PY
