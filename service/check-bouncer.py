#!/usr/bin/env python3
"""The polkit table of bus/bouncer.c against the contract: every method
whose comment in dbus/*.xml names a polkit action has that action (and its
stronger one, second) in the table, a method documented as needing none is
not in it, and the table names no method the contract lacks.

  check-bouncer.py SERVICE_DIR DBUS_DIR"""
import pathlib
import re
import sys

service, dbus = map(pathlib.Path, sys.argv[1:3])
names = dict(re.findall(r'#define (GPUVIRT_\w+) "([^"]+)"', (dbus / 'gpuvirt-names.h').read_text()))

table = {}
bouncer = (service / 'bus' / 'bouncer.c').read_text()
for iface, member, action, force in re.findall(
        r'\{\s*(GPUVIRT_\w+),\s*"(\w+)",\s*(GPUVIRT_\w+),\s*(GPUVIRT_\w+|NULL)\s*\}', bouncer):
    table[(names[iface], member)] = (names[action], names.get(force))

contract = {}
for xml in sorted(dbus.glob('org.gpuvirt.*.xml')):
    text = xml.read_text()
    iface = re.search(r'<interface name="([^"]+)"', text).group(1)
    for comment, member in re.findall(r'<!--((?:(?!-->).)*?)-->\s*<method name="(\w+)"', text, re.S):
        polkit = re.search(r'Polkit:\s*(.*?)(?:\n\s*\n|$)', comment, re.S)
        if not polkit:
            continue
        actions = re.findall(r'org\.gpuvirt\.[a-z-]+', polkit.group(1).split('(')[0])
        contract[(iface, member)] = (actions[0], actions[1] if len(actions) > 1 else None) if actions else None

problems = []
if len(table) < 10 or len(contract) < 10:
    problems.append(f'read {len(table)} rules and {len(contract)} documented methods: wrong files?')
for key, want in contract.items():
    got = table.get(key)
    if want is None and got:
        problems.append(f'{key[0]}.{key[1]}: the contract says no polkit, bouncer.c asks {got[0]}')
    elif want and got != want:
        problems.append(f'{key[0]}.{key[1]}: the contract says {want}, bouncer.c has {got}')
for key in table:
    if key not in contract:
        problems.append(f'{key[0]}.{key[1]}: in bouncer.c, but the contract documents no such method')
for p in problems:
    print(p)
print(f'{len(problems)} mismatch(es)' if problems else f'polkit table OK ({len(table)} methods)')
sys.exit(1 if problems else 0)
