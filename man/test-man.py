#!/usr/bin/python3
# The manual pages' tests (meson suite "man"). Each compares a page, as
# man(1) renders it, with what the code says, so that neither drifts:
#
#   options MAN PAGE GPUVIRTCTL      every command, option and exit code of
#                                    gpuvirtctl --help and COMMAND --help
#   daemon-options MAN PAGE GPUVIRTD every option of gpuvirtd --help
#   config-keys MAN PAGE SERVICE_DIR every key (and group) the configuration
#                                    parser knows, found in service/**/*.c
#   dbus MAN PAGE HEADER XML...      every interface, method, property,
#                                    signal, error, polkit action and option
#                                    key of the D-Bus contract
#   warnings MAN PAGE                man --warnings prints nothing
#   markdown SCD2MD SOURCE MD        MD is what SCD2MD makes of SOURCE
#
# MAN or PAGE may be "missing:TOOL" when the build found no man or scdoc:
# the test then fails, saying what to install, instead of skipping.
#
# A page's parts are found by their layout in man's output: section titles
# at column 0, subsections at 3, a "term" at 7 with its text at 11 right
# below it (scdoc's "*term*" line followed by tab-indented lines).
import difflib
import glob
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

problems = []


def problem(text):
    problems.append(text)


def need(path, what):
    if path.startswith("missing:"):
        tool = path.split(":", 1)[1]
        print(f"{what}: {tool} was not found when the build was configured. Install it "
              f"(tools/deps.sh installs scdoc and man-db), then run meson setup --reconfigure.")
        sys.exit(1)
    return path


def env(width):
    e = dict(os.environ, MANWIDTH=str(width), LC_ALL="C.UTF-8")
    e.pop("LANGUAGE", None)
    e.pop("MANOPT", None)
    return e


def render(man, page):
    """The page as man shows it, wide enough that no term wraps."""
    run = subprocess.run([man, "--no-hyphenation", "--no-justification", "-l", page],
                         env=env(400), capture_output=True, text=True)
    if run.returncode != 0:
        print(f"man -l {page} failed ({run.returncode}): {run.stderr}")
        sys.exit(1)
    text = run.stdout
    for dash in ("\u2010", "\u2011", "\u2212"):
        text = text.replace(dash, "-")
    lines = text.split("\n")
    filled = [i for i, l in enumerate(lines) if l.strip()]
    if len(filled) < 3:
        print(f"{page}: man shows almost nothing")
        sys.exit(1)
    # without the header and footer lines
    return lines[filled[0] + 1:filled[-1]]


def indent(line):
    return len(line) - len(line.lstrip(" "))


def split_at(lines, level):
    """[(title, lines)] of the headings at LEVEL spaces of indentation."""
    parts = []
    for line in lines:
        if line.strip() and indent(line) == level:
            parts.append((line.strip(), []))
        elif parts:
            parts[-1][1].append(line)
    return parts


def part(parts, title, page):
    for t, body in parts:
        if t == title:
            return body
    problem(f"{page}: no section or subsection {title!r}")
    return []


def terms(lines):
    """The term lines: at 7, with their text at 11 on the next line."""
    out = []
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1]
        if indent(line) == 7 and line.strip() and not line.strip().startswith("\u2022") \
                and nxt.strip() and indent(nxt) == 11:
            out.append(line.strip())
    return out


def option_names(text):
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", text))


# ---- gpuvirtctl ----

def run_help(program, words):
    run = subprocess.run([program, *words, "--help"], env=env(80), capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{program} {' '.join(words)} --help failed ({run.returncode}): {run.stderr}")
        sys.exit(1)
    return run.stdout


def help_block(text, title):
    """The lines under "Title:" up to a blank line."""
    lines = text.split("\n")
    if title not in lines:
        return []
    out = []
    for line in lines[lines.index(title) + 1:]:
        if not line.strip():
            break
        out.append(line)
    return out


def help_options(text):
    """[set of names] of each option line: leading words that start with '-'."""
    opts = []
    for line in help_block(text, "Options:"):
        head = []
        for word in line.split():
            if not word.startswith("-"):
                break
            head.append(word.rstrip(","))
        names = option_names(" ".join(head))
        if names:
            opts.append(names)
    return opts


def test_options(man, page, program):
    main = run_help(program, [])
    verbs = []
    for line in help_block(main, "Commands:"):
        word = line.split()[0]
        sub = run_help(program, [word])
        if re.match(r"^Usage: \S+ \[OPTIONS\.\.\.\] " + re.escape(word) + r" COMMAND", sub):
            for l in help_block(sub, "Commands:"):
                words = l.split()[:2]
                if words[0] == word and words not in verbs:
                    verbs.append(words)
        elif [word] not in verbs:
            verbs.append([word])
    if len(verbs) < 10:
        problem(f"only {len(verbs)} commands found in '{program} --help': the test does not read it right")

    per_verb = {tuple(v): help_options(run_help(program, v)) for v in verbs}
    everywhere = None
    for opts in per_verb.values():
        names = {frozenset(o) for o in opts}
        everywhere = names if everywhere is None else everywhere & names

    lines = render(man, page)
    sections = split_at(lines, 0)
    commands = part(sections, "COMMANDS", page)
    option_terms = terms(part(sections, "OPTIONS", page))
    command_terms = terms(commands)

    # every option, overall and per command, is described under OPTIONS
    all_opts = help_options(main) + [o for opts in per_verb.values() for o in opts]
    for names in sorted({frozenset(o) for o in all_opts}, key=sorted):
        if not any(names <= option_names(t) for t in option_terms):
            problem(f"{page}: OPTIONS has no entry for {', '.join(sorted(names))}")

    # every command has an entry whose synopsis names the options it takes
    for words, opts in per_verb.items():
        entries = [t for t in command_terms if t.split()[:len(words)] == list(words)]
        verb = " ".join(words)
        if not entries:
            problem(f"{page}: COMMANDS has no entry for '{verb}'")
            continue
        own = [o for o in opts if frozenset(o) not in everywhere]
        if not any(all(o <= option_names(e) for o in own) for e in entries):
            missing = [", ".join(sorted(o)) for o in own if not any(o <= option_names(e) for e in entries)]
            problem(f"{page}: the synopsis of '{verb}' lacks {'; '.join(missing) or 'an option'}"
                    f" (its --help lists them)")

    # every exit code
    status_terms = terms(part(sections, "EXIT STATUS", page))
    codes = [l.split()[0] for l in help_block(main, "Exit status:")]
    if not codes:
        problem(f"'{program} --help' lists no exit status")
    for code in codes:
        if code not in status_terms:
            problem(f"{page}: EXIT STATUS has no entry for {code}")
    return f"{len(verbs)} commands, {len({frozenset(o) for o in all_opts})} options, {len(codes)} exit codes"


# ---- gpuvirtd ----

def test_daemon_options(man, page, program):
    text = run_help(program, [])
    opts = []
    for line in text.split("\n"):
        if re.match(r"^\s+-", line):
            head = []
            for word in line.split():
                if not word.startswith("-"):
                    break
                head.append(word.rstrip(","))
            opts.append(option_names(" ".join(head)))
    if len(opts) < 3:
        problem(f"only {len(opts)} options found in '{program} --help'")
    option_terms = terms(part(split_at(render(man, page), 0), "OPTIONS", page))
    for names in opts:
        if not any(names <= option_names(t) for t in option_terms):
            problem(f"{page}: OPTIONS has no entry for {', '.join(sorted(names))}")
    return f"{len(opts)} options"


# ---- configuration keys ----

def test_config_keys(man, page, service_dir):
    tables = {}
    kinds = []
    pattern = re.compile(r"\b(\w+_keys|group_kinds)\s*\[\s*\]\s*=\s*\{([^}]*)\}")
    for path in sorted(glob.glob(os.path.join(service_dir, "**", "*.c"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            for m in pattern.finditer(f.read()):
                names = re.findall(r'"([^"]*)"', m.group(2))
                if m.group(1) == "group_kinds":
                    kinds += names
                else:
                    tables[f"{os.path.relpath(path, service_dir)}:{m.group(1)}"] = names
    if not tables:
        print(f"no table of configuration keys (NAME_keys[] = {{ \"Key\", ... }}) in any *.c below "
              f"{service_dir}: the parser keeps its keys elsewhere now; teach this test where")
        sys.exit(1)

    sections = split_at(render(man, page), 0)
    body = part(sections, "GROUPS AND KEYS", page)
    groups = split_at(body, 3)
    n = 0
    for kind in kinds:
        if not any(t.startswith("[" + kind) for t, _ in groups):
            problem(f"{page}: GROUPS AND KEYS has no subsection for the group [{kind} ...]")
    for where, keys in tables.items():
        # manage_keys belong to [Manage], device_keys to [Device ...]
        prefix = where.rsplit(":", 1)[1][:-len("_keys")]
        kind = next((k for k in kinds if k.lower() == prefix.lower()), None)
        scope = body
        if kind:
            scope = next((b for t, b in groups if t.startswith("[" + kind)), [])
        found = terms(scope)
        for key in keys:
            n += 1
            if not any(t.startswith(key + "=") for t in found):
                problem(f"{page}: key {key} ({where}) has no entry"
                        + (f" under [{kind}]" if kind else " in GROUPS AND KEYS"))
    return f"{n} keys in {len(tables)} tables, {len(kinds)} groups"


# ---- the D-Bus contract ----

def test_dbus(man, page, header, xmls):
    names = {}
    with open(header, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'^#define\s+(\w+)\s+"([^"]*)"', line)
            if m:
                names[m.group(1)] = m.group(2)
    errors = {v for k, v in names.items() if k.startswith("GPUVIRT_ERROR_")}
    actions = {v for k, v in names.items() if k.startswith("GPUVIRT_ACTION_")}
    ifaces = {v for k, v in names.items() if k.endswith("_IFACE")}
    options = {v for k, v in names.items() if k.startswith("GPUVIRT_OPT_")}
    members = {}
    for path in xmls:
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
        for iface in ET.parse(path, parser=parser).getroot().iter("interface"):
            ifaces.add(iface.get("name"))
            members[iface.get("name")] = [(el.tag, el.get("name")) for el in iface
                                          if el.tag in ("method", "property", "signal")]
            for el in iface:
                if el.tag is ET.Comment:
                    errors |= set(re.findall(r"org\.[A-Za-z0-9.]*\.Error\.[A-Za-z]+", el.text or ""))
                    actions |= set(re.findall(r"org\.gpuvirt\.[a-z]+(?:-[a-z]+)+", el.text or ""))
    if not members:
        print("no interface in the XML files")
        sys.exit(1)

    sections = split_at(render(man, page), 0)
    count = 0
    for iface in sorted(ifaces):
        body = next((b for t, b in sections if t.split()[-1] == iface), None)
        if body is None:
            problem(f"{page}: no section for the interface {iface}")
            continue
        subs = split_at(body, 3)
        for tag, name in members.get(iface, []):
            count += 1
            title = {"method": "Methods", "property": "Properties", "signal": "Signals"}[tag]
            found = terms(next((b for t, b in subs if t == title), []))
            start = name + ("(" if tag != "property" else " (")
            if not any(t.startswith(start) for t in found):
                problem(f"{page}: {iface}: {title} has no entry for {name}")
    for title, wanted, how in (("ERRORS", errors, "equal"), ("POLKIT ACTIONS", actions, "equal"),
                               ("OPTION KEYS", options, "key")):
        found = terms(part(sections, title, page))
        for name in sorted(wanted):
            count += 1
            if not any(t == name or (how == "key" and t.startswith(name + " (")) for t in found):
                problem(f"{page}: {title} has no entry for {name}")
    return f"{count} names"


# ---- groff's warnings ----

def test_warnings(man, page):
    run = subprocess.run([man, "--warnings", "-l", page], env=env(80), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    if run.returncode != 0 or run.stderr.strip():
        problem(f"man --warnings -l {page} (exit {run.returncode}):\n{run.stderr}")
    return "no warnings"


# ---- CONFIGURATION.md ----

def test_markdown(scd2md, source, md):
    run = subprocess.run([sys.executable, scd2md, source], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"scd2md failed: {run.stderr}")
        sys.exit(1)
    with open(md, encoding="utf-8") as f:
        committed = f.read()
    if committed != run.stdout:
        diff = difflib.unified_diff(committed.splitlines(), run.stdout.splitlines(), md, "regenerated",
                                    lineterm="", n=1)
        problem(f"{md} is not what {source} gives; run: meson compile -C build update-configuration-md\n"
                + "\n".join(list(diff)[:60]))
    return "identical"


def main():
    if len(sys.argv) < 2:
        print(__doc__ or "see the head of test-man.py", file=sys.stderr)
        return 2
    what, args = sys.argv[1], sys.argv[2:]
    if what == "markdown" and len(args) == 3:
        summary = test_markdown(*args)
    elif what in ("options", "daemon-options", "config-keys", "warnings", "dbus") and len(args) >= 2:
        man = need(args[0], "man")
        page = need(args[1], "the manual page")
        if what == "options" and len(args) == 3:
            summary = test_options(man, page, args[2])
        elif what == "daemon-options" and len(args) == 3:
            summary = test_daemon_options(man, page, args[2])
        elif what == "config-keys" and len(args) == 3:
            summary = test_config_keys(man, page, args[2])
        elif what == "dbus" and len(args) >= 4:
            summary = test_dbus(man, page, args[2], args[3:])
        elif what == "warnings" and len(args) == 2:
            summary = test_warnings(man, page)
        else:
            print(f"test-man.py {what}: wrong arguments", file=sys.stderr)
            return 2
    else:
        print(f"test-man.py: unknown test or arguments: {what}", file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print(f"ok: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
