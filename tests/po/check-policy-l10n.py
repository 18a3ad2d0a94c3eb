#!/usr/bin/python3
"""The built polkit action file carries the translations (meson suite po).

Every <description> and <message> of every action of the built
org.gpuvirt.policy must have, for each language of po/LINGUAS, a sibling
with xml:lang="LANG" whose text is that catalog's translation (the catalog
compiled here with msgfmt), different from the English and keeping
polkit's $(...) variables. polkitd picks it by the agent's locale
(zh_CN.UTF-8 finds "zh_CN", de_DE.UTF-8 finds "de").

usage: check-policy-l10n.py POLICY PO_DIR
"""
import gettext
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

LANG_ATTR = '{http://www.w3.org/XML/1998/namespace}lang'


def main():
    policy, po_dir = sys.argv[1], sys.argv[2]
    if not shutil.which('msgfmt'):
        sys.exit('FAIL: msgfmt not found: install gettext (tools/deps.sh)')
    with open(os.path.join(po_dir, 'LINGUAS'), encoding='utf-8') as f:
        langs = [w for line in f if not line.lstrip().startswith('#') for w in line.split()]
    problems = []
    if not langs:
        problems.append('po/LINGUAS lists no language')

    catalogs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in langs:
            mo = os.path.join(tmp, lang + '.mo')
            subprocess.run(['msgfmt', '-o', mo, os.path.join(po_dir, lang + '.po')], check=True)
            with open(mo, 'rb') as f:
                catalogs[lang] = gettext.GNUTranslations(f)

    root = ET.parse(policy).getroot()
    actions = root.findall('action')
    if not actions:
        problems.append(f'{policy}: no actions')
    checked = 0
    for action in actions:
        aid = action.get('id')
        for tag in ('description', 'message'):
            elements = action.findall(tag)
            english = [e.text or '' for e in elements if LANG_ATTR not in e.attrib]
            if len(english) != 1:
                problems.append(f'{aid}: {len(english)} untranslated <{tag}>')
                continue
            by_lang = {e.get(LANG_ATTR): e.text or '' for e in elements if LANG_ATTR in e.attrib}
            for lang in langs:
                want = catalogs[lang].gettext(english[0])
                got = by_lang.get(lang)
                if got is None:
                    problems.append(f'{aid}: no <{tag} xml:lang="{lang}">')
                elif got != want:
                    problems.append(f'{aid}: <{tag} xml:lang="{lang}"> is {got!r}, the catalog says {want!r}')
                elif got == english[0]:
                    problems.append(f'{aid}: <{tag} xml:lang="{lang}"> is the English text')
                elif sorted(re.findall(r'\$\(\w+\)', got)) != sorted(re.findall(r'\$\(\w+\)', english[0])):
                    problems.append(f'{aid}: <{tag} xml:lang="{lang}"> lost a $(...) variable: {got!r}')
                else:
                    checked += 1
                    print(f'{aid} {tag} [{lang}]: {got}')

    for p in problems:
        print('FAIL: ' + p)
    if problems:
        return 1
    print(f'policy translations ok: {checked} texts in {", ".join(langs)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
