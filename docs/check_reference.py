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
3. Every name the guides cite exists: in README.md and docs/*.md, each qualified name
   `torsion::...` and each `Class::member` of a torsion class (members of its bases
   count) must be in the reference. A renamed function then fails the docs build
   instead of leaving a guide that points at nothing.
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
                "attachToIoContext", "deliverConnectionLost"],
    "torsion::log": ["setSink"],
    "torsion::tls": ["listenSSL", "connectSSL", "startTLS", "optionsForClientTLS", "wrapClientFactory"],
}

# A brief that ends with one of these was cut inside a sentence.
CUT_BRIEF = re.compile(r"(\b[A-Z]\.|\be\.g\.|\bi\.e\.|\bvs\.|\bcf\.|\bapprox\.|\bresp\.|\bet al\.)$")


def text(element):
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUALIFIED = re.compile(r"\btorsion::(?:[A-Za-z_]\w*::)*[A-Za-z_]\w*")
# `Class::member` inside a code span; the class is looked up among torsion's.
# CMake targets that share their spelling with a C++ name.
CMAKE_TARGETS = {"torsion::framework", "torsion::protocols", "torsion::testing"}
MEMBER = re.compile(r"`(?:[\w:]*::)?([A-Z]\w*)(?:<[^`>]*>)?::([A-Za-z_]\w*)")


def reference_names(xml_dir):
    """The qualified names of every documented compound and member, and for each class
    the qualified names of its members including its bases'."""
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    names, members, bases, by_refid = set(), {}, {}, {}
    for compound in index.iter("compound"):
        name = compound.findtext("name")
        if compound.get("kind") in ("file", "dir", "page", "example"):
            continue
        names.add(name)
        by_refid[compound.get("refid")] = name
        members[name] = {m.findtext("name") for m in compound.iter("member")}
        names.update(f"{name}::{m}" for m in members[name])
    for refid, name in by_refid.items():
        path = os.path.join(xml_dir, refid + ".xml")
        if os.path.exists(path):
            root = ET.parse(path).getroot()
            bases[name] = [by_refid[b.get("refid")] for b in root.iter("basecompoundref") if b.get("refid") in by_refid]

    def all_members(name, seen=()):
        found = set(members.get(name, ()))
        for base in bases.get(name, []):
            if base not in seen:
                found |= all_members(base, seen + (name,))
        return found

    classes = {}
    for name in members:
        if name.startswith("torsion::") and "::detail::" not in name:
            classes.setdefault(name.split("::")[-1], []).append(name)
    return names, classes, all_members


def check_guides(xml_dir, problems):
    names, classes, all_members = reference_names(xml_dir)
    guides = [os.path.join(SOURCE_DIR, "README.md")] + sorted(glob.glob(os.path.join(SOURCE_DIR, "docs", "*.md")))
    cited = 0
    for path in guides:
        with open(path, encoding="utf-8") as f:
            content = f.read()
        where = os.path.relpath(path, SOURCE_DIR)
        for name in sorted(set(QUALIFIED.findall(content))):
            if "::detail::" in name or name in CMAKE_TARGETS:
                continue
            cited += 1
            # A scoped enum's value (Enum::value) is listed as a member of the enum's scope.
            parts = name.split("::")
            unscoped = "::".join(parts[:-2] + parts[-1:]) if len(parts) > 2 else name
            if name not in names and unscoped not in names:
                problems.append(f"{where}: cites {name}, which is not in the reference")
        for cls, member in sorted(set(MEMBER.findall(content))):
            if cls not in classes:
                continue
            cited += 1
            if not any(member in all_members(q) for q in classes[cls]):
                problems.append(f"{where}: cites {cls}::{member}, which is not a member of {' or '.join(classes[cls])}")
    return cited


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

    cited = check_guides(xml_dir, problems)

    for problem in problems:
        print(f"docs check: {problem}", file=sys.stderr)
    if problems:
        print(f"docs check: {len(problems)} problems", file=sys.stderr)
        return 1
    listed = sum(len(v) for v in FUNCTIONS.values())
    print(f"docs check: {len(NAMESPACES)} namespaces and {listed} free functions listed; {briefs} briefs whole;"
          f" {cited} names cited in the guides exist")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
