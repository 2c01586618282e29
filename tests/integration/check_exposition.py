# SPDX-License-Identifier: MIT
"""Check what shmetricsd served against what it_record recorded.

Usage: check_exposition.py DIR CONST_NAME CONST_VALUE

DIR holds the files test_e2e_exposition.sh fetched: expect.json (from
it_record), text.txt/.hdr (0.0.4), om.txt/.hdr (OpenMetrics), text_gz.txt,
om_gz.txt (bodies curl --compressed decoded, .hdr alongside) and raw.gz/.hdr
(a gzip body as sent). Every body is parsed with the reference parsers of
the Python Prometheus client (the OpenMetrics one is strict); the app_
samples, help texts and types must equal the expectation exactly, with the
constant label on every sample. Gzip bodies must decode to the identity
body, but for the shmetrics_ self metrics that change between scrapes.
"""
import gzip
import json
import os
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def read(d, name, mode="r"):
    with open(os.path.join(d, name), mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
        return f.read()


def header(d, name, field):
    """The value of field in a curl -D dump (the last response)."""
    value = None
    for line in read(d, name).splitlines():
        k, _, v = line.partition(":")
        if k.strip().lower() == field.lower():
            value = v.strip()
    return value


def le_key(labels):
    """Labels as a hashable key; le compared as a number."""
    return tuple(sorted((k, float(v) if k == "le" else v) for k, v in labels.items()))


def family_base(name, typ):
    return name[:-6] if typ == "counter" and name.endswith("_total") else name


def served(families):
    """{(sample, labels): value}, {family: (type, help)} of the app_ families."""
    samples, meta = {}, {}
    for fam in families:
        if not fam.name.startswith("app_"):
            continue
        meta[fam.name] = (fam.type, fam.documentation)
        for s in fam.samples:
            key = (s.name, le_key(s.labels))
            if key in samples:
                fail(f"duplicate sample {key!r}")
            samples[key] = s.value
    return samples, meta


def expected(expect, const):
    samples, meta = {}, {}
    for fam in expect:
        name, typ = fam["name"], fam["type"]
        meta[family_base(name, typ)] = (typ, fam["help"])
        for s in fam["samples"]:
            labels = dict(s["labels"], **const)
            if typ != "histogram":
                samples[(name, le_key(labels))] = s["value"]
                continue
            for le, cum in s["buckets"]:
                samples[(name + "_bucket", le_key(dict(labels, le=str(le))))] = cum
            samples[(name + "_count", le_key(labels))] = s["count"]
            samples[(name + "_sum", le_key(labels))] = s["sum"]
    return samples, meta


def compare(what, got, want):
    for key in sorted(set(got) | set(want), key=repr):
        if got.get(key) != want.get(key):
            fail(f"{what}: {key!r}: served {got.get(key)!r}, recorded {want.get(key)!r}")


def parse(what, parser, body, want_samples, want_meta):
    try:
        families = list(parser(body))
    except Exception as e:  # the parsers raise ValueError and others
        fail(f"{what}: the parser refused it: {e!r}")
        return None
    samples, meta = served(families)
    compare(what + " samples", samples, want_samples)
    compare(what + " families", meta, want_meta)
    return samples


def stable(body):
    """The lines that do not belong to the shmetrics_ self metrics."""
    out = []
    for line in body.splitlines():
        words = line.split(" ")
        name = words[2] if line.startswith("# ") and len(words) > 2 else words[0]
        if not name.startswith("shmetrics_"):
            out.append(line)
    return out


def main():
    d, const = sys.argv[1], {sys.argv[2]: sys.argv[3]}
    want_samples, want_meta = expected(json.loads(read(d, "expect.json")), const)

    text, om = read(d, "text.txt"), read(d, "om.txt")
    if header(d, "text.hdr", "Content-Type") != "text/plain; version=0.0.4; charset=utf-8":
        fail("text: Content-Type {!r}".format(header(d, "text.hdr", "Content-Type")))
    if header(d, "om.hdr", "Content-Type") != \
            "application/openmetrics-text; version=1.0.0; charset=utf-8":
        fail("openmetrics: Content-Type {!r}".format(header(d, "om.hdr", "Content-Type")))
    t = parse("text 0.0.4", parse_text, text, want_samples, want_meta)
    o = parse("openmetrics", parse_openmetrics, om, want_samples, want_meta)
    if t is not None and o is not None:
        compare("text vs openmetrics", t, o)

    for name, identity in (("text_gz", text), ("om_gz", om)):
        if header(d, name + ".hdr", "Content-Encoding") != "gzip":
            enc = header(d, name + ".hdr", "Content-Encoding")
            fail(f"{name}: Content-Encoding {enc!r}")
        if stable(read(d, name + ".txt")) != stable(identity):
            fail(f"{name}: the decoded body differs from the identity body")
    raw = read(d, "raw.gz", "rb")
    if header(d, "raw.hdr", "Content-Encoding") != "gzip" or raw[:2] != b"\x1f\x8b":
        fail("raw.gz: not a gzip body")
    else:
        try:
            if stable(gzip.decompress(raw).decode("utf-8")) != stable(text):
                fail("raw.gz: decodes to another body")
        except (OSError, EOFError, UnicodeDecodeError) as e:
            fail(f"raw.gz: {e!r}")

    print(f"{len(want_samples)} app_ samples checked in each of 2 formats; {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
