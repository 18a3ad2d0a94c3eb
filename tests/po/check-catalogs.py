#!/usr/bin/python3
"""The translation catalogs are complete and current (meson suite po).

For every language of po/LINGUAS:
  - `msgfmt --check --statistics` finds no error and reports every message
    translated: none fuzzy, none untranslated;
  - the header says UTF-8, the language, and its Plural-Forms;
  - the catalog is current: the template is extracted again from the
    sources into a temporary directory, with xgettext and the options
    po/meson.build gives i18n.gettext(); msgcmp must find every message of
    it translated in the catalog, and the catalog may hold no message the
    sources lack (`meson compile -C build gpuvirt-update-po` merges them);
  - what must stay as written stays: polkit's $(...) variables, options
    (--persist), D-Bus names (org.gpuvirt.*, DBUS_SYSTEM_BUS_ADDRESS),
    absolute paths, and the commands and values the English text quotes
    ('vfio-pci', 'gpuvirtctl list --all'), apart from their placeholders
    (DEVICE, TYPE, FILE, COMMAND), which are translated.
A missing gettext tool fails the test, it never skips.

usage: check-catalogs.py SOURCE_ROOT PACKAGE -- XGETTEXT_ARGS...
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOOLS = ('xgettext', 'msgfmt', 'msgcmp', 'msginit')

# gettext's msginit knows most languages' plural rules, not every one (it
# has none for zh_CN); these are the rules of the languages it misses.
PLURAL_FORMS = {
    'zh_CN': 'nplurals=1; plural=0;',
}

# the client's placeholders, translated with the text around them
PLACEHOLDERS = ('DEVICE', 'TYPE', 'FILE', 'COMMAND', 'OPTIONS', 'VGPU', 'LINE', 'KEY')

FORMAT = re.compile(r"%(?:\d+\$)?[-#0 +']*\d*(?:\.\d+)?(?:l|ll|h|z)?[diouxXscp%]")
KEEP = [
    re.compile(r'\$\([a-z_]+\)'),                                   # polkit variables
    re.compile(r'(?<![\w-])--[a-z][a-z0-9-]*'),                     # options
    re.compile(r'\borg\.gpuvirt(?:\.[A-Za-z][\w-]*)+'),            # D-Bus names, actions
    re.compile(r'\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b'),               # DBUS_SYSTEM_BUS_ADDRESS
    re.compile(r'(?<![\w.])/[A-Za-z_][\w.-]*(?:/[\w.-]+)*/?'),      # absolute paths
]
# 'quoted' in running text: the quote opens after a space or "(" and
# closes before a space or punctuation, so "gpuvirtd's" is no quote
QUOTED = re.compile(r"(?:^|(?<=[\s(]))'([^'\n]+?)'(?=$|[\s).,;:!?])")

problems = []


def problem(text):
    problems.append(text)
    print('FAIL: ' + text)


def unquote(s):
    """A PO string literal (without its quotes) as text."""
    return bytes(s, 'utf-8').decode('unicode_escape').encode('latin-1').decode('utf-8')


def read_po(path):
    """The entries of a PO file: dicts with id, plural, ctx, strs (list),
    flags (set), obsolete (bool); the header is the entry with id ''."""
    entries, cur, field = [], None, None

    def start():
        return {'id': None, 'plural': None, 'ctx': None, 'strs': {}, 'flags': set(), 'obsolete': False}

    with open(path, encoding='utf-8') as f:
        for raw in f:
            line = raw.rstrip('\n')
            obsolete = line.startswith('#~')
            if obsolete:
                line = line[2:].lstrip()
            if not line.strip():
                cur, field = None, None
                continue
            if line.startswith('#'):
                if cur is None or cur['id'] is not None:
                    cur = start()
                    entries.append(cur)
                if line.startswith('#,'):
                    cur['flags'].update(x.strip() for x in line[2:].split(','))
                continue
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"$', line)
            if m:
                key = m.group(1)
                if cur is None or (key in ('msgid', 'msgctxt') and cur['id'] is not None):
                    cur = start()
                    entries.append(cur)
                cur['obsolete'] |= obsolete
                value = unquote(m.group(3))
                if key == 'msgctxt':
                    cur['ctx'], field = value, ('ctx', None)
                elif key == 'msgid':
                    cur['id'], field = value, ('id', None)
                elif key == 'msgid_plural':
                    cur['plural'], field = value, ('plural', None)
                else:
                    n = int(m.group(2) or 0)
                    cur['strs'][n], field = value, ('strs', n)
                continue
            m = re.match(r'"(.*)"$', line)
            if m and cur is not None and field is not None:
                value = unquote(m.group(1))
                if field[0] == 'strs':
                    cur['strs'][field[1]] += value
                else:
                    cur[field[0]] += value
                continue
            raise ValueError(f'{path}: cannot read line {raw!r}')
    return [e for e in entries if e['id'] is not None]


def key(e):
    return (e['ctx'], e['id'])


def header_fields(entries):
    header = next((e for e in entries if e['id'] == '' and not e['obsolete']), None)
    if header is None:
        return {}
    fields = {}
    for line in header['strs'].get(0, '').split('\n'):
        if ':' in line:
            name, value = line.split(':', 1)
            fields[name.strip()] = value.strip()
    return fields


def literals(msgid):
    """What a translation of MSGID must contain unchanged."""
    out = set()
    for pattern in KEEP:
        # a path or name at the end of a sentence does not take its period
        out.update(m.rstrip('.') for m in pattern.findall(msgid))
    for quoted in QUOTED.findall(msgid):
        # placeholders and format directives are not literal
        for part in re.split('|'.join([r'\b%s\b' % p for p in PLACEHOLDERS] + [FORMAT.pattern]), quoted):
            part = part.strip()
            if part and part not in ('...', '-'):
                out.add(part)
    return out


def extract_template(source_root, package, xgettext_args, tmp):
    """The template as `meson compile gpuvirt-pot` makes it, into TMP."""
    env = dict(os.environ, GETTEXTDATADIRS=os.path.join(source_root, 'po'))
    cmd = ['xgettext', '--package-name=' + package, '-p', tmp,
           '-f', os.path.join(source_root, 'po', 'POTFILES.in'),
           '-D', source_root, '-k_', '-o', package + '.pot'] + xgettext_args
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        problem(f'xgettext failed: {p.stderr.strip()}')
        return None
    return os.path.join(tmp, package + '.pot')


def expected_plural_forms(lang, pot, tmp):
    if lang in PLURAL_FORMS:
        return PLURAL_FORMS[lang]
    out = os.path.join(tmp, 'msginit-' + lang + '.po')
    subprocess.run(['msginit', '--no-translator', '-l', lang, '-i', pot, '-o', out],
                   capture_output=True, check=False)
    forms = header_fields(read_po(out)).get('Plural-Forms', '') if os.path.exists(out) else ''
    if not forms or 'INTEGER' in forms:
        problem(f'{lang}: gettext does not know its plural rule: add it to PLURAL_FORMS in {__file__}')
        return None
    return forms


def check_language(lang, po_dir, pot, pot_entries, tmp):
    po = os.path.join(po_dir, lang + '.po')
    if not os.path.exists(po):
        problem(f'{lang} is in LINGUAS but {po} does not exist')
        return

    # msgfmt's own checks (formats, newlines, header) and its count
    p = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.path.join(tmp, lang + '.mo'), po],
                       capture_output=True, text=True, env=dict(os.environ, LC_ALL='C'))
    stats = p.stderr.strip()
    print(f'{lang}: {stats}')
    if p.returncode != 0:
        problem(f'{lang}: msgfmt --check failed: {stats}')
    elif not re.fullmatch(r'\d+ translated messages?\.', stats.splitlines()[-1] if stats else ''):
        problem(f'{lang}: not every message is translated: {stats}')

    entries = read_po(po)
    live = [e for e in entries if not e['obsolete'] and e['id'] != '']
    for e in live:
        if 'fuzzy' in e['flags']:
            problem(f'{lang}: fuzzy: {e["id"]!r}')

    fields = header_fields(entries)
    if fields.get('Language') != lang:
        problem(f'{lang}: header Language is {fields.get("Language")!r}')
    if 'charset=UTF-8' not in fields.get('Content-Type', ''):
        problem(f'{lang}: header Content-Type is {fields.get("Content-Type")!r}, not UTF-8')
    want = expected_plural_forms(lang, pot, tmp)
    if want and fields.get('Plural-Forms') != want:
        problem(f'{lang}: Plural-Forms is {fields.get("Plural-Forms")!r}, want {want!r}')
    nplurals = int(re.search(r'nplurals=(\d+)', want or 'nplurals=0').group(1))

    # current with the sources: gettext's comparison, then ours for both ways
    p = subprocess.run(['msgcmp', po, pot], capture_output=True, text=True, env=dict(os.environ, LC_ALL='C'))
    if p.returncode != 0:
        problem(f'{lang}: msgcmp: the catalog lacks messages of the sources '
                f'(run `meson compile -C build gpuvirt-update-po` and translate them):\n{p.stderr.strip()}')
    by_key = {key(e): e for e in live}
    pot_keys = {key(e) for e in pot_entries if e['id'] != ''}
    for k in sorted(pot_keys - set(by_key), key=str):
        problem(f'{lang}: missing: {k[1]!r}')
    for k in sorted(set(by_key) - pot_keys, key=str):
        problem(f'{lang}: not in the sources any more (run gpuvirt-update-po): {k[1]!r}')

    for e in live:
        strs = [e['strs'].get(i, '') for i in range(max(len(e['strs']), 1))]
        if any(not s for s in strs):
            problem(f'{lang}: untranslated: {e["id"]!r}')
            continue
        if e['plural'] is not None and nplurals and len(strs) != nplurals:
            problem(f'{lang}: {len(strs)} plural forms, want {nplurals}: {e["id"]!r}')
        for i, s in enumerate(strs):
            source = e['id'] if i == 0 or e['plural'] is None else e['plural']
            missing = {lit for lit in literals(source) if lit not in s}
            if missing:
                problem(f'{lang}: {sorted(missing)} changed or lost in {s!r} (for {source!r})')


def main():
    if len(sys.argv) < 4 or sys.argv[3] != '--':
        sys.exit(__doc__)
    source_root, package, xgettext_args = sys.argv[1], sys.argv[2], sys.argv[4:]
    po_dir = os.path.join(source_root, 'po')

    absent = [t for t in TOOLS if not shutil.which(t)]
    if absent:
        sys.exit(f'FAIL: {", ".join(absent)} not found: install gettext (tools/deps.sh)')

    with open(os.path.join(po_dir, 'LINGUAS'), encoding='utf-8') as f:
        langs = [w for line in f if not line.lstrip().startswith('#') for w in line.split()]
    if not langs:
        problem('po/LINGUAS lists no language')

    with tempfile.TemporaryDirectory() as tmp:
        pot = extract_template(source_root, package, xgettext_args, tmp)
        if pot:
            pot_entries = read_po(pot)
            print(f'template: {len(pot_entries) - 1} messages from the sources')
            for lang in langs:
                check_language(lang, po_dir, pot, pot_entries, tmp)

    if problems:
        print(f'{len(problems)} problem(s)')
        return 1
    print(f'catalogs ok: {", ".join(langs)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
