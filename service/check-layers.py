#!/usr/bin/env python3
"""The layer rule of service/ (see service/README.md): a file may include
headers of its own folder and of the folders listed before it, never of a
folder listed after it; a folder's internal.h is for that folder alone.
Headers without a folder (gpuvirt-names.h from dbus/, system headers) and
common/ are allowed everywhere. Prints each violation; exits 1 if any."""
import pathlib
import re
import sys

LAYERS = ['sysfs', 'host', 'journal', 'passthrough', 'vgpu', 'mig', 'config', 'doctor', 'daemon', 'bus']
TOP = len(LAYERS)  # files directly in service/ (gpuvirtd.c) may use every layer

service = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
problems = []
seen = 0

for path in sorted(service.rglob('*.[ch]')):
    rel = path.relative_to(service)
    folder = rel.parts[0] if len(rel.parts) > 1 else None
    if folder is not None and folder not in LAYERS:
        problems.append(f'{rel}: folder "{folder}" is not a layer; add it to LAYERS and service/README.md')
        continue
    rank = LAYERS.index(folder) if folder else TOP
    for match in include.finditer(path.read_text()):
        seen += 1
        target = match.group(1)
        parts = target.split('/')
        if len(parts) == 1 or parts[0] == 'common':
            continue
        layer = parts[0]
        line = path.read_text()[:match.start()].count('\n') + 1
        if layer not in LAYERS:
            problems.append(f'{rel}:{line}: includes "{target}" from "{layer}", which is not a layer')
        elif LAYERS.index(layer) > rank:
            problems.append(f'{rel}:{line}: includes "{target}", but {layer}/ comes after '
                            f'{folder + "/" if folder else "service/"} (order: {", ".join(LAYERS)})')
        elif parts[-1] == 'internal.h' and layer != folder:
            problems.append(f'{rel}:{line}: includes "{target}", the internals of {layer}/')

if seen == 0:
    problems.append(f'no #include found below {service}: wrong directory?')
for p in problems:
    print(p)
print(f'{len(problems)} layer violation(s) in {service}' if problems else f'layers OK ({seen} includes checked)')
sys.exit(1 if problems else 0)
