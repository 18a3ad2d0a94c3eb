#!/usr/bin/python3
# Generates the scdoc source of org.gpuvirt(5) from the D-Bus contract: the
# interface XML files of dbus/, whose comments follow dbus/README.md (and
# dbus/check-contract.py enforces), the names header dbus/gpuvirt-names.h
# and the polkit actions of polkit/org.gpuvirt.policy.in. Nothing in the
# page is written twice: what the contract says is what the page says.
#
# usage: dbus-to-scdoc.py VERSION HEADER POLICY OUTPUT XML...
import re
import sys
import textwrap
import xml.etree.ElementTree as ET

EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"
STANDARD_ERRORS = {
    "org.freedesktop.DBus.Error.InvalidArgs": "Malformed input: an argument, an unknown option key or an option of the wrong type.",
    "org.freedesktop.DBus.Error.AccessDenied": "polkit refused the change.",
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired":
        "polkit would allow the change after authentication, but the call does not allow interaction.",
}
EMITS_TEXT = {
    "const": "constant",
    "true": "announced by PropertiesChanged",
    "false": "computed when read, not announced",
    "invalidates": "invalidated by PropertiesChanged",
}
# "key (type):", "@arg:", "org.x.Error.Name:", "Options:", "a (s), b (s):"
LABEL = re.compile(r"^((?:@\w+|[A-Za-z][\w.-]*)(?: \([^)]*\))?(?:, [\w.-]+(?: \([^)]*\))?)*):(?:\s+|$)(.*)$")
# '"mdev-pf"     mdev types on ...': a value and what it means
QUOTED = re.compile(r'^("[^"]+")\s+(\S.*)$')
# References to files of the source tree, as this page says them
SOURCE_REFERENCES = [
    (re.compile(r"\s*\(see\s+README\.md\s+in\s+this\s+directory[^)]*\)"), ""),
    (re.compile(r"described\s+in\s+org\.gpuvirt\.Manager\.xml"), "described under DESCRIPTION"),
]
WIDTH = 74


class Node:
    def __init__(self, kind, indent, label="", text=""):
        self.kind = kind        # "para", "item" (a label or "* " bullet), "literal"
        self.indent = indent
        self.label = label
        self.text = [text] if text else []
        self.children = []


def escape(text):
    """Plain text for scdoc: its markup characters made literal."""
    return re.sub(r"([\\*_])", r"\\\1", text)


def prose(text):
    """A comment's text for scdoc; "@arg" becomes the argument, underlined."""
    parts = re.split(r"@(\w+)", text)
    return "".join(escape(p) if i % 2 == 0 else "_" + p + "_" for i, p in enumerate(parts))


def guard(line):
    """A wrapped line must not start like scdoc markup."""
    if line[:1] in "-.;#[|:`" or line.startswith("  "):
        return "\\" + line
    return line


def wrap(text, first, rest):
    lines = textwrap.wrap(text, width=WIDTH - len(first.expandtabs(4)), break_long_words=False,
                          break_on_hyphens=False)
    return [(first if n == 0 else rest) + guard(line) for n, line in enumerate(lines)]


def parse_comment(text, name=None):
    """A comment's text as a list of nodes, by indentation (see README.md)."""
    for pattern, replacement in SOURCE_REFERENCES:
        text = pattern.sub(replacement, text)
    lines = textwrap.dedent(text.strip("\n")).split("\n")
    if name:
        m = re.match(r"^\s*" + re.escape(name) + r":\s*(.*)$", lines[0])
        if not m:
            raise SystemExit(f"dbus-to-scdoc: the comment of {name} does not start with its name")
        lines[0] = m.group(1)
    roots = []
    stack = []      # open items, innermost last
    para = None     # the plain paragraph text goes to
    literal = None
    base = None
    for raw in lines + [""]:
        if not raw.strip():
            stack, para, literal, base = [], None, None, None
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        if base is None:
            base = indent
        bullet = line.startswith("* ")
        # a quoted value opens an item only when indented below its text
        m = LABEL.match(line) or (QUOTED.match(line) if indent > base else None)
        if m and stack and not stack[-1].label and indent > stack[-1].indent:
            m = None    # prose in a "* " bullet, not a nested key
        if literal is not None:
            if indent > base and not m and not bullet:
                literal.text.append(raw[base:])
                continue
            literal = None
        if bullet or m:
            while stack and stack[-1].indent >= indent:
                stack.pop()
            node = Node("item", indent, "" if bullet else m.group(1), line[2:] if bullet else m.group(2))
            (stack[-1].children if stack else roots).append(node)
            stack.append(node)
            para = None
            continue
        if stack and indent >= stack[-1].indent:
            stack[-1].text.append(line)
            continue
        if para is not None and indent > base and not stack:
            literal = Node("literal", indent)
            literal.text.append(raw[base:])
            roots.append(literal)
            para = None
            continue
        popped = False
        while stack and stack[-1].indent > indent:
            stack.pop()
            popped = True
        if stack and not popped:
            stack[-1].text.append(line)
            continue
        if popped:
            # text after a nested list: a paragraph of its own
            stack, para = [], None
        if para is None:
            para = Node("para", indent)
            roots.append(para)
        para.text.append(line)
    nodes = [n for n in roots if n.kind != "para" or n.text]
    # "Name: does this." reads "Does this." without its name
    if name and nodes and nodes[0].kind == "para" and nodes[0].text[0][:1].islower():
        nodes[0].text[0] = nodes[0].text[0][:1].upper() + nodes[0].text[0][1:]
    return nodes


def render_label(label):
    if label.startswith('"'):
        return "*" + escape(label) + "*"
    if label.startswith("@"):
        return "_" + label[1:] + "_"
    # "type (s), type_name (s)": the names bold, the types as they are
    return re.sub(r"([@\w][\w.-]*)(?= \(|$|,)", lambda m: "*" + escape(m.group(1)) + "*", label)


def render(nodes, depth, out):
    """NODES as scdoc lines at DEPTH tabs, each block followed by a blank line."""
    tabs = "\t" * depth
    for node in nodes:
        if node.kind == "para":
            out.extend(wrap(prose(" ".join(node.text)), tabs, tabs))
            out.append("")
        elif node.kind == "literal":
            out.append(tabs + "```")
            out.extend(tabs + l.replace("\\", "\\\\") for l in node.text)
            out.append(tabs + "```")
            out.append("")
        elif node.label[:1].isupper():
            # "Options:", "Errors:", "Polkit:": a heading paragraph, its
            # items a list at the same depth (long error names need the room)
            head = "*" + escape(node.label) + ":*"
            text = prose(" ".join(node.text))
            out.extend(wrap(head + (" " + text if text else ""), tabs, tabs))
            for child in node.children:
                render_item(child, depth, out)
            out.append("")
        else:
            render_item(node, depth, out)
            out.append("")


def render_item(node, depth, out):
    tabs = "\t" * depth
    text = prose(" ".join(node.text))
    head = (render_label(node.label) + ":" if node.label else "")
    first = tabs + "- " + head + (" " if head and text else "")
    if text:
        lines = textwrap.wrap(text, width=WIDTH - len(first.expandtabs(4)), break_long_words=False,
                              break_on_hyphens=False)
        out.append(first + lines[0])
        out.extend(tabs + "  " + l for l in lines[1:])
    else:
        out.append(first.rstrip())
    for child in node.children:
        render_item(child, depth + 1, out)


def read_header(path):
    """#define NAME "value" /* comment */, with the block comment above each."""
    defines = []
    group = ""
    pat = re.compile(r'^#define\s+(\w+)\s+"([^"]*)"\s*(?:/\*\s*(.*?)\s*\*/)?')
    with open(path, encoding="utf-8") as f:
        for line in f:
            c = re.match(r"^/\*\s*(.*?)\s*(\*/)?$", line.strip())
            if c and not line.startswith("#"):
                group = c.group(1)
                continue
            m = pat.match(line)
            if m:
                defines.append((m.group(1), m.group(2), m.group(3) or "", group))
    return defines


def comment_before(children, index):
    if index > 0 and children[index - 1].tag is ET.Comment:
        return children[index - 1].text or ""
    return ""


def load_interface(path):
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser=parser).getroot()
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    head = re.search(r"<!--(.*?)-->\s*<node>", raw, re.S)
    kids = list(root)
    iface = [k for k in kids if k.tag == "interface"][0]
    members = list(iface)
    info = {
        "name": iface.get("name"),
        "head": head.group(1) if head else "",
        "doc": comment_before(kids, kids.index(iface)),
        "properties": [], "methods": [], "signals": [],
    }
    for i, el in enumerate(members):
        if el.tag in ("property", "method", "signal"):
            key = {"property": "properties", "method": "methods", "signal": "signals"}[el.tag]
            info[key].append((el, comment_before(members, i)))
    return info


def section(doc, title):
    m = re.search(r"^(\s*)" + title + r":(.*)$", doc, re.M)
    if not m:
        return ""
    out = [m.group(2)]
    for line in doc[m.end():].splitlines()[1:]:
        if re.match(re.escape(m.group(1)) + r"[A-Z][A-Za-z ]*:", line) and not line.startswith(m.group(1) + " "):
            break
        out.append(line)
    return "\n".join(out)


def signature(el):
    args = []
    for a in el.findall("arg"):
        direction = a.get("direction") or ("out" if el.tag == "signal" else "in")
        args.append(f"{direction} *{escape(a.get('type'))}* _{a.get('name')}_")
    return f"*{el.get('name')}*(" + ", ".join(args) + ")"


def main():
    if len(sys.argv) < 6:
        print("usage: dbus-to-scdoc.py VERSION HEADER POLICY OUTPUT XML...", file=sys.stderr)
        return 2
    version, header_path, policy_path, output = sys.argv[1:5]
    ifaces = [load_interface(p) for p in sys.argv[5:]]
    defines = read_header(header_path)
    value = {name: v for name, v, _, _ in defines}
    policy = ET.parse(policy_path).getroot()

    # who returns which error, who checks which action, who takes which option
    returns, checks, takes = {}, {}, {}
    for info in ifaces:
        short = info["name"].split(".")[-1]
        for el, doc in info["methods"]:
            who = f"{short}.{el.get('name')}()"
            for e in sorted(set(re.findall(r"org\.[A-Za-z0-9.]*\.Error\.[A-Za-z]+", section(doc, "Errors")))):
                returns.setdefault(e, []).append(who)
            for a in sorted(set(re.findall(r"org\.gpuvirt\.[a-z]+(?:-[a-z]+)+", section(doc, "Polkit")))):
                checks.setdefault(a, []).append(who)
            for key, sig in re.findall(r"^\s*([a-z][a-z-]*) \(([a-z{}()]+)\):", section(doc, "Options"), re.M):
                takes.setdefault(key, []).append(who)

    out = []
    w = out.append
    w(f'org.gpuvirt(5) "gpuvirt {version}" "File Formats Manual"')
    w("")
    w("; Generated by man/dbus-to-scdoc.py from dbus/*.xml, dbus/gpuvirt-names.h")
    w("; and polkit/org.gpuvirt.policy.in; edit those, not this.")
    w("")
    w("# NAME")
    w("")
    w("org.gpuvirt - the D-Bus interface of gpuvirtd")
    w("")
    w("# SYNOPSIS")
    w("")
    w(f"Bus name *{value['GPUVIRT_BUS_NAME']}* on the system bus. Objects:")
    w("")
    w(f"*{value['GPUVIRT_MANAGER_PATH']}*")
    w(f"\t*{value['GPUVIRT_MANAGER_IFACE']}*, *org.freedesktop.DBus.ObjectManager*")
    w("")
    w(f"*{escape(value['GPUVIRT_DEVICES_PATH'])}/{escape(value['GPUVIRT_DEVICE_PATH_PREFIX'])}DDDD\\_BB\\_SS\\_F*")
    w(f"\t*{value['GPUVIRT_DEVICE_IFACE']}*, and where they apply *{value['GPUVIRT_SRIOV_IFACE']}* and "
      f"*{value['GPUVIRT_VGPU_IFACE']}*")
    w("")
    w(f"*{value['GPUVIRT_MDEVS_PATH']}/*_UUID_")
    w(f"\t*{value['GPUVIRT_MDEV_IFACE']}*")
    w("")
    w("# DESCRIPTION")
    w("")
    w("*gpuvirtd*(8) serves this interface; *gpuvirtctl*(1) is one of its clients. The")
    w("introspection data with the comments this page is made from is installed as")
    w("*dbus-1/interfaces/*_INTERFACE_*.xml* in the data directory. The API only grows:")
    w("methods, properties and option keys are added, never renamed or removed, and")
    w("*ApiVersion* counts the additions.")
    w("")
    # the Manager's head: its first paragraph introduces the interface,
    # the rest are the conventions every interface shares
    manager = ifaces[0]
    head = parse_comment(manager["head"], manager["name"])
    render(head[1:], 0, out)

    for info in ifaces:
        w(f"# INTERFACE {info['name']}")
        w("")
        render(head[:1] if info is manager else parse_comment(info["head"], info["name"]), 0, out)
        render(parse_comment(info["doc"], info["name"]), 0, out)
        if info["properties"]:
            w("## Properties")
            w("")
            for el, doc in info["properties"]:
                emits = [a.get("value") for a in el if a.tag == "annotation" and a.get("name") == EMITS]
                how = EMITS_TEXT.get(emits[0] if emits else "", "")
                w(f"*{el.get('name')}* (*{escape(el.get('type'))}*, read-only, {how})")
                render(parse_comment(doc, el.get("name")), 1, out)
        for kind, title in (("methods", "Methods"), ("signals", "Signals")):
            if not info[kind]:
                continue
            w(f"## {title}")
            w("")
            for el, doc in info[kind]:
                w(signature(el))
                render(parse_comment(doc, el.get("name")), 1, out)

    w("# ERRORS")
    w("")
    w("Error messages are English, never translated, and name what failed. The")
    w("names and where they come from:")
    w("")
    errors = [(v, c) for n, v, c, _ in defines if n.startswith("GPUVIRT_ERROR_")]
    errors += [(e, t) for e, t in STANDARD_ERRORS.items()]
    for name, text in errors:
        w(f"*{name}*")
        if text and not text.startswith("e.g."):
            text = text[:1].upper() + text[1:]
        body = (text + ("" if text.endswith(".") else ".")) if text else ""
        by = returns.get(name, [])
        if by:
            body += (" " if body else "") + "Returned by " + ", ".join(by) + "."
        out.extend(wrap(escape(body), "\t", "\t"))
        w("")

    w("# POLKIT ACTIONS")
    w("")
    w("gpuvirtd asks polkit about every change, for the caller's bus name,")
    w("asynchronously, after checking the arguments and before writing anything.")
    w("A caller with uid 0 is not asked. Without polkitd, changes by other users")
    w("are denied.")
    w("")
    for action in policy.findall("action"):
        aid = action.get("id")
        d = action.find("defaults")
        text = action.findtext("description").strip() + ". "
        text += ("Defaults: allow_any " + d.findtext("allow_any") + ", allow_inactive "
                 + d.findtext("allow_inactive") + ", allow_active " + d.findtext("allow_active") + ". ")
        for ann in action.findall("annotate"):
            if ann.get("key") == "org.freedesktop.policykit.imply":
                text += "Implies " + ", ".join(ann.text.split()) + ". "
        if checks.get(aid):
            text += "Checked by " + ", ".join(checks[aid]) + "."
        w(f"*{aid}*")
        out.extend(wrap(escape(text.strip()), "\t", "\t"))
        w("")
    w("With every check gpuvirtd passes these details, which polkit rules read")
    w("with *action.lookup()*; several devices are separated by single spaces,")
    w("in the same order in every key:")
    w("")
    for n, v, c, _ in defines:
        if n.startswith("GPUVIRT_DETAIL_"):
            w(f"*{v}*")
            out.extend(wrap(escape(c + "."), "\t", "\t"))
            w("")

    w("# OPTION KEYS")
    w("")
    w("Keys of the _options_ dictionaries; an unknown key, or a known one of another")
    w("type, is refused with *org.freedesktop.DBus.Error.InvalidArgs*.")
    w("")
    for n, v, c, _ in defines:
        if n.startswith("GPUVIRT_OPT_"):
            w(f"*{v}* (*{escape(c.split()[0]) if c else '?'}*)")
            out.extend(wrap(escape("Taken by " + ", ".join(takes.get(v, ["no method"])) + "."), "\t", "\t"))
            w("")

    w("# VALUES")
    w("")
    w("The strings of enumerated properties, result rows and dictionaries:")
    w("")
    groups = []
    skip = ("GPUVIRT_BUS_", "GPUVIRT_MANAGER_", "GPUVIRT_DEVICES_", "GPUVIRT_MDEVS_", "GPUVIRT_DEVICE_PATH",
            "GPUVIRT_ACTION_", "GPUVIRT_ERROR_", "GPUVIRT_OPT_", "GPUVIRT_DETAIL_")
    for n, v, c, g in defines:
        if n.endswith("_IFACE") or n.startswith(skip):
            continue
        if not groups or groups[-1][0] != g:
            groups.append((g, []))
        groups[-1][1].append((v, c))
    for g, items in groups:
        w(f"{escape(g[:1].upper() + g[1:])}:")
        w("")
        for v, c in items:
            m = re.match(r"^([ybnqiuxtdhsogav{}()]{1,8})(?::\s*(.*))?$", c)
            if m:
                w(f"- *{escape(v)}* ({escape(m.group(1))})" + (f": {escape(m.group(2))}" if m.group(2) else ""))
            else:
                w(f"- *{escape(v)}*" + (f": {escape(c)}" if c else ""))
        w("")

    w("# EXAMPLES")
    w("")
    w("```")
    w("$ busctl --system tree org.gpuvirt")
    w("$ busctl --system introspect org.gpuvirt /org/gpuvirt")
    w("$ busctl --system get-property org.gpuvirt /org/gpuvirt org.gpuvirt.Manager BootPlanState")
    w("$ busctl --system call org.gpuvirt /org/gpuvirt org.gpuvirt.Manager GetDevice s 01:00.0")
    w("$ busctl --system call org.gpuvirt /org/gpuvirt/devices/pci_0000_01_00_0 \\\\")
    w("      org.gpuvirt.Device BindVfio 'a{sv}' 1 timeout-ms u 30000")
    w("$ gdbus monitor --system --dest org.gpuvirt")
    w("```")
    w("")
    w("# SEE ALSO")
    w("")
    w("*gpuvirtd*(8), *gpuvirtctl*(1), *gpuvirt.conf*(5), *busctl*(1), *polkit*(8)")

    text = "\n".join(out).rstrip("\n") + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
