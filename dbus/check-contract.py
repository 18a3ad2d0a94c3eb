#!/usr/bin/env python3
# Checks that the interface XML files of dbus/ are complete as a contract
# and agree with gpuvirt-names.h. Layout rules are in dbus/README.md.
#
# usage: check-contract.py HEADER XML...
import re
import sys
import xml.etree.ElementTree as ET

EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"
STANDARD_ERRORS = {
    "org.freedesktop.DBus.Error.InvalidArgs",
    "org.freedesktop.DBus.Error.AccessDenied",
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
}
BASIC = set("ybnqiuxtdhsog")

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def read_header(path):
    """Returns {macro: (value, trailing comment)} of the string #defines."""
    macros = {}
    pat = re.compile(r'^#define\s+(\w+)\s+"([^"]*)"\s*(?:/\*\s*(.*?)\s*\*/)?')
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pat.match(line)
            if m:
                macros[m.group(1)] = (m.group(2), m.group(3) or "")
    return macros


def complete_type(sig, i):
    """Index after the single complete type starting at sig[i], or -1."""
    if i >= len(sig):
        return -1
    c = sig[i]
    if c in BASIC or c == "v":
        return i + 1
    if c == "a":
        if i + 1 < len(sig) and sig[i + 1] == "{":
            j = i + 2
            if j >= len(sig) or sig[j] not in BASIC:
                return -1
            j = complete_type(sig, j + 1)
            if j < 0 or j >= len(sig) or sig[j] != "}":
                return -1
            return j + 1
        return complete_type(sig, i + 1)
    if c == "(":
        j = i + 1
        if j < len(sig) and sig[j] == ")":
            return -1
        while j < len(sig) and sig[j] != ")":
            j = complete_type(sig, j)
            if j < 0:
                return -1
        return j + 1 if j < len(sig) else -1
    return -1


def single_type(sig):
    return complete_type(sig, 0) == len(sig)


def section(doc, title):
    """Text of 'Title:' up to the next 'Word:' line at the same indent or
    the end."""
    m = re.search(r"^(\s*)" + title + r":(.*)$", doc, re.M)
    if not m:
        return None
    indent = m.group(1)
    out = [m.group(2)]
    for line in doc[m.end():].splitlines()[1:]:
        if re.match(re.escape(indent) + r"[A-Z][A-Za-z ]*:", line) and \
                not line.startswith(indent + " "):
            break
        out.append(line)
    return "\n".join(out)


def documented(children, index):
    """The comment right before children[index], skipping nothing else."""
    if index > 0 and children[index - 1].tag is ET.Comment:
        return children[index - 1].text or ""
    return None


def check_file(path, header, used_errors, used_actions):
    errors = {v for k, (v, _) in header.items() if k.startswith("GPUVIRT_ERROR_")}
    actions = {v for k, (v, _) in header.items() if k.startswith("GPUVIRT_ACTION_")}
    ifaces = {v for k, (v, _) in header.items() if k.endswith("_IFACE")}
    options = {v: c for k, (v, c) in header.items() if k.startswith("GPUVIRT_OPT_")}

    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser=parser).getroot()
    if root.tag != "node":
        problem(path, "root element is not <node>")
        return
    kids = list(root)
    found = [k for k in kids if k.tag == "interface"]
    if len(found) != 1:
        problem(path, "must hold exactly one <interface>")
        return
    iface = found[0]
    name = iface.get("name")
    if not path.endswith("/" + name + ".xml") and path != name + ".xml":
        problem(path, f"interface {name} is not in {name}.xml")
    if name not in ifaces:
        problem(path, f"interface {name} is not in the names header")
    if documented(kids, kids.index(iface)) is None:
        problem(path, f"interface {name} has no comment")

    members = list(iface)
    for idx, el in enumerate(members):
        if el.tag is ET.Comment:
            continue
        where = f"{path}: {name}.{el.get('name')}"
        if el.tag not in ("method", "property", "signal", "annotation"):
            problem(where, f"unexpected element <{el.tag}>")
            continue
        if el.tag == "annotation":
            continue
        doc = documented(members, idx)
        if doc is None or not doc.strip():
            problem(where, f"{el.tag} has no comment right before it")
            doc = ""
        elif not re.match(r"\s*" + re.escape(el.get("name")) + r":", doc):
            problem(where, "comment does not start with the member's name")

        if el.tag == "property":
            if not single_type(el.get("type") or ""):
                problem(where, f"bad type {el.get('type')!r}")
            if el.get("access") not in ("read", "write", "readwrite"):
                problem(where, "access missing")
            elif el.get("access") != "read":
                problem(where, "properties are read-only in this API")
            ann = [a.get("value") for a in el if a.tag == "annotation" and a.get("name") == EMITS]
            if len(ann) != 1 or ann[0] not in ("true", "const", "false", "invalidates"):
                problem(where, f"needs exactly one {EMITS} annotation")
            continue

        args = [a for a in el if a.tag == "arg"]
        for a in args:
            if not a.get("name"):
                problem(where, "unnamed arg")
                continue
            if not single_type(a.get("type") or ""):
                problem(where, f"arg {a.get('name')} has bad type {a.get('type')!r}")
            if el.tag == "method" and a.get("direction") not in ("in", "out"):
                problem(where, f"arg {a.get('name')} needs direction in or out")
            if not re.search(r"@" + re.escape(a.get("name")) + r":", doc):
                problem(where, f"arg {a.get('name')} is not documented as @{a.get('name')}:")
        named = {a.get("name") for a in args}
        for ref in re.findall(r"^\s*@(\w+):", doc, re.M):
            if ref not in named:
                problem(where, f"@{ref} documented but not an argument")

        if el.tag != "method":
            continue
        polkit = section(doc, "Polkit")
        errs = section(doc, "Errors")
        if polkit is None:
            problem(where, "no 'Polkit:' line (write 'none' and why for read-only methods)")
            polkit = ""
        if errs is None:
            problem(where, "no 'Errors:' section")
            errs = ""
        named_actions = set(re.findall(r"org\.gpuvirt\.[a-z]+(?:-[a-z]+)+", polkit))
        for act in named_actions:
            used_actions.add(act)
            if act not in actions:
                problem(where, f"polkit action {act} is not in the names header")
        if not named_actions and not polkit.strip().startswith("none"):
            problem(where, "Polkit: neither names an action nor says none")
        named_errors = set(re.findall(r"org\.[A-Za-z0-9.]*\.Error\.[A-Za-z]+", errs))
        for e in named_errors:
            used_errors.add(e)
            if e not in errors and e not in STANDARD_ERRORS:
                problem(where, f"error {e} is neither in the names header nor standard")
        if named_actions:
            for must in ("org.freedesktop.DBus.Error.AccessDenied",
                         "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"):
                if must not in named_errors:
                    problem(where, f"polkit-guarded method does not list {must}")
        if "options" in named and any(a.get("name") == "options" and a.get("type") == "a{sv}"
                                      for a in args):
            opts = section(doc, "Options")
            if opts is None:
                problem(where, "has an options argument but no 'Options:' section")
                continue
            keys = re.findall(r"^\s*([a-z][a-z-]*) \(([a-z{}()]+)\):", opts, re.M)
            if not keys:
                problem(where, "Options: documents no key")
            for key, sig in keys:
                if key not in options:
                    problem(where, f"option {key} is not in the names header")
                elif options[key] and options[key].split()[0] != sig:
                    problem(where, f"option {key} is {sig} here, {options[key].split()[0]} in the header")


def main():
    if len(sys.argv) < 3:
        print("usage: check-contract.py HEADER XML...", file=sys.stderr)
        return 2
    header = read_header(sys.argv[1])
    used_errors, used_actions = set(), set()
    for path in sys.argv[2:]:
        try:
            check_file(path, header, used_errors, used_actions)
        except ET.ParseError as e:
            problem(path, f"not well-formed: {e}")

    # Every name of the header is part of the documented contract.
    for k, (v, _) in header.items():
        if k.startswith("GPUVIRT_ERROR_") and v not in used_errors:
            problem(sys.argv[1], f"{v} is returned by no documented method")
        if k.startswith("GPUVIRT_ACTION_") and v not in used_actions:
            problem(sys.argv[1], f"{v} guards no documented method")
        if k.endswith("_IFACE") and not any(p.endswith(v + ".xml") for p in sys.argv[2:]):
            problem(sys.argv[1], f"{v} has no XML file")

    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print(f"contract ok: {len(sys.argv) - 2} interface files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
