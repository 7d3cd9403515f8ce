#!/usr/bin/env python3
"""Checks the generated API reference, after Doxygen ran (the `docs` target runs it).

usage: check_reference.py DOCS_BUILD_DIR

1. Public namespaces and free functions are listed: every namespace has its page, and
   each function named below is a documented member of its namespace (XML), has an
   entry in the namespace's HTML page and in the HTML search index. Free functions only
   appear when their namespace is documented (docs/namespaces.dox): without that, none
   is listed, not even in the search.
2. No brief description is cut at an abbreviation: Doxygen (JAVADOC_AUTOBRIEF) ends a
   brief at the first ". ", so "D.J. Bernstein" or "e.g. this" cut it short; write
   "D.J.\\ Bernstein" (a backslash and a space) to keep the sentence whole.
Exits non-zero and names every problem.
"""
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

NAMESPACES = ["torsion", "torsion::log", "torsion::protocols", "torsion::testing", "torsion::tls"]

# A sample of the free functions a user calls, one or more per header that has them.
FUNCTIONS = {
    "torsion": ["serverFromString", "clientFromString", "connectProtocol", "succeed", "fail",
                "maybeDeferred", "gatherResults", "race", "deferLater", "deferToThread",
                "attachToIoContext"],
    "torsion::log": ["setSink"],
    "torsion::tls": ["listenSSL", "connectSSL", "startTLS", "optionsForClientTLS", "wrapClientFactory"],
}

# A brief that ends with one of these was cut inside a sentence.
CUT_BRIEF = re.compile(r"(\b[A-Z]\.|\be\.g\.|\bi\.e\.|\bvs\.|\bcf\.|\bapprox\.|\bresp\.|\bet al\.)$")


def text(element):
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def main(docs):
    xml_dir, html_dir = os.path.join(docs, "xml"), os.path.join(docs, "html")
    problems = []
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    compounds = {c.findtext("name"): c.get("refid") for c in index.iter("compound") if c.get("kind") == "namespace"}

    search = ""
    for path in glob.glob(os.path.join(html_dir, "search", "*.js")):
        with open(path, encoding="utf-8") as f:
            search += f.read()

    for namespace in NAMESPACES:
        refid = compounds.get(namespace)
        if refid is None:
            problems.append(f"namespace {namespace}: not in the reference (is it documented?)")
            continue
        page = os.path.join(html_dir, refid + ".html")
        if not os.path.exists(page):
            problems.append(f"namespace {namespace}: no page {refid}.html")
            continue
        with open(page, encoding="utf-8") as f:
            html = f.read()
        compound = ET.parse(os.path.join(xml_dir, refid + ".xml")).getroot()
        functions = {m.findtext("name") for m in compound.iter("memberdef") if m.get("kind") == "function"}
        for name in FUNCTIONS.get(namespace, []):
            if name not in functions:
                problems.append(f"{namespace}::{name}: not listed as a function of its namespace")
            if f">{name}</a>" not in html:
                problems.append(f"{namespace}::{name}: not on the page {refid}.html")
            if f"'{name}" not in search and f'"{name}' not in search:
                problems.append(f"{namespace}::{name}: not in the search index")

    briefs = 0
    for path in sorted(glob.glob(os.path.join(xml_dir, "*.xml"))):
        if os.path.basename(path) in ("index.xml", "Doxyfile.xml"):
            continue
        for element in ET.parse(path).getroot().iter():
            if element.tag not in ("compounddef", "memberdef"):
                continue
            brief = text(element.find("briefdescription"))
            if not brief:
                continue
            briefs += 1
            if CUT_BRIEF.search(brief):
                name = element.findtext("compoundname") or element.findtext("qualifiedname") or element.findtext("name")
                problems.append(f"{name}: brief description cut at an abbreviation: \"{brief}\"")

    for problem in problems:
        print(f"docs check: {problem}", file=sys.stderr)
    if problems:
        print(f"docs check: {len(problems)} problems", file=sys.stderr)
        return 1
    listed = sum(len(v) for v in FUNCTIONS.values())
    print(f"docs check: {len(NAMESPACES)} namespaces and {listed} free functions listed; {briefs} briefs whole")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
