#!/usr/bin/env python3
"""The naming rule of service/ (see service/README.md): what a folder
exports carries its folder's prefix, so a name says where it lives.

  check-prefixes.py SERVICE_DIR [NM_OUTPUT_OF_FOLDER_LIB...]

Checks every type a header declares (typedef names, struct tags) and,
for each "FOLDER=LIB" argument, every symbol the folder's static library
defines (nm). Prints each violation; exits 1 if any."""
import pathlib
import re
import subprocess
import sys

PREFIXES = {
    'sysfs': ('gv_sysfs_', 'GvSysfs'),
    'host': ('gv_host_', 'GvHost'),
    'journal': ('gv_journal_', 'GvJournal'),
    'passthrough': ('gv_passthrough_', 'GvPassthrough'),
    'vgpu': ('gv_vgpu_', 'GvVgpu'),
    'config': ('gv_config_', 'GvConfig'),
    'doctor': ('gv_doctor_', 'GvDoctor'),
    'daemon': ('daemon_', 'Daemon'),
    'bus': ('bus_', 'Bus'),
}

service = pathlib.Path(sys.argv[1])
problems = []
types_seen = 0

function_typedef = re.compile(r'typedef\b[^;{}]*?\(\s*\*\s*(\w+)\s*\)\s*\([^;]*\)\s*;', re.S)
typedef_name = re.compile(r'typedef\b[^;{]*?(?:\{(?:[^{}]|\{[^{}]*\})*\})?\s*(\w+)\s*;', re.S)
struct_tag = re.compile(r'\bstruct\s+(\w+)\s*\{')
for header in sorted(service.rglob('*.h')):
    folder = header.relative_to(service).parts[0]
    if folder not in PREFIXES:
        continue
    _, type_prefix = PREFIXES[folder]
    text = re.sub(r'/\*.*?\*/', '', header.read_text(), flags=re.S)
    names = function_typedef.findall(text)
    text = function_typedef.sub('', text)
    names += typedef_name.findall(text) + struct_tag.findall(text)
    for name in names:
        types_seen += 1
        if not name.lstrip('_').startswith(type_prefix):
            problems.append(f'{header.relative_to(service)}: type {name} does not start with {type_prefix}')

symbols_seen = 0
for arg in sys.argv[2:]:
    folder, lib = arg.split('=', 1)
    prefix, _ = PREFIXES[folder]
    out = subprocess.run(['nm', '-g', '--defined-only', lib], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        # "__odr_asan.NAME" and the like are the sanitizers' own
        if len(parts) == 3 and parts[1] in 'TDRBCV' and not parts[2].startswith('__'):
            symbols_seen += 1
            if not parts[2].startswith(prefix):
                problems.append(f'{folder}/: {parts[2]} (in {pathlib.Path(lib).name}) does not start with {prefix}')

if types_seen == 0 or (len(sys.argv) > 2 and symbols_seen == 0):
    problems.append('nothing was checked: wrong directory or library?')
for p in problems:
    print(p)
print(f'{len(problems)} naming violation(s)' if problems else
      f'names OK ({types_seen} types, {symbols_seen} exported symbols checked)')
sys.exit(1 if problems else 0)
