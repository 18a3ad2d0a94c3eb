#!/usr/bin/python3
"""The Debian package ships exactly what `meson install` of a default build
installs: `dpkg -c` of the .deb against `meson install --destdir` of BUILDDIR.

usage: test-contents.py BUILDDIR DEB

Normalised, and nothing else:
- the build's prefix (/usr/local by default) is the package's /usr, and its
  sysconfdir (PREFIX/etc) the package's /etc; paths the build takes from
  pkg-config (/lib/systemd/system, /usr/share/dbus-1, polkit, sysusers.d)
  are compared as they are;
- debian/rules' own choices of directory (RENAMED below);
- dh_compress: a page or document the package has as NAME.gz is NAME;
- the package's own documents (DEBIAN_ONLY) must be there, and only they.
Executable bits must agree too. Regular files and symlinks are compared,
directories not (dpkg -c lists every parent).
"""
import json, os, re, subprocess, sys, tempfile

DOC = '/usr/share/doc/gpuvirt/'
DEBIAN_ONLY = {DOC + 'changelog.gz', DOC + 'copyright', DOC + 'README.Debian'}
# (default install dir, debian/rules' -D option) prefixes.
RENAMED = [('/usr/share/zsh/site-functions/', '/usr/share/zsh/vendor-completions/')]
COMPRESSED_IN = ('/usr/share/man/', '/usr/share/doc/')

failures = 0


def fail(msg):
    global failures
    failures += 1
    print('FAIL: ' + msg)


def introspect(builddir, what):
    return json.loads(subprocess.run(['meson', 'introspect', builddir, what], capture_output=True,
                                     text=True, check=True).stdout)


def not_default_options(builddir):
    """Project options of BUILDDIR that differ from meson_options.txt."""
    with open(os.path.join(builddir, 'meson-info', 'meson-info.json')) as f:
        source = json.load(f)['directories']['source']
    default = {o['name']: o['value'] for o in json.loads(subprocess.run(
        ['meson', 'introspect', '--buildoptions', os.path.join(source, 'meson.build')],
        capture_output=True, text=True, check=True).stdout) if o['section'] == 'user'}
    now = {o['name']: o['value'] for o in introspect(builddir, '--buildoptions') if o['section'] == 'user'}
    return {k: v for k, v in now.items() if default.get(k) != v}


def meson_tree(builddir):
    """{path: executable} of `meson install --destdir` of BUILDDIR, as the package would have it."""
    opts = {o['name']: o['value'] for o in introspect(builddir, '--buildoptions') if o['section'] == 'directory'}
    prefix = opts['prefix'].rstrip('/')
    sysconf = opts['sysconfdir'] if opts['sysconfdir'].startswith('/') else prefix + '/' + opts['sysconfdir']
    with tempfile.TemporaryDirectory() as dest:
        subprocess.run(['meson', 'install', '-C', builddir, '--no-rebuild', '--quiet', '--destdir', dest],
                       check=True, stdout=subprocess.DEVNULL)
        tree = {}
        for d, dirs, files in os.walk(dest):
            for name in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
                full = os.path.join(d, name)
                path = full[len(dest):]
                if path.startswith(sysconf + '/'):
                    path = '/etc/' + path[len(sysconf) + 1:]
                elif prefix != '/usr' and path.startswith(prefix + '/'):
                    path = '/usr/' + path[len(prefix) + 1:]
                for old, new in RENAMED:
                    if path.startswith(old):
                        path = new + path[len(old):]
                tree[path] = os.path.islink(full) or bool(os.lstat(full).st_mode & 0o111)
    return tree


def deb_tree(deb):
    """{path: executable} of `dpkg -c DEB`, without directories."""
    out = subprocess.run(['dpkg', '-c', deb], capture_output=True, text=True, check=True).stdout
    tree = {}
    for line in out.splitlines():
        m = re.match(r'^(\S+)\s+\S+\s+\d+\s+\S+\s+\S+\s+\.(/.*?)(?: -> .*)?$', line)
        if not m:
            fail(f'cannot read this line of dpkg -c: {line!r}')
            continue
        perms, path = m.groups()
        if perms.startswith('d'):
            continue
        tree[path] = perms.startswith('l') or 'x' in perms
    return tree


def normalise_deb(deb, meson):
    out = {}
    for path, x in deb.items():
        if path.endswith('.gz') and path.startswith(COMPRESSED_IN) and path[:-3] in meson:
            path = path[:-3]
        out[path] = x
    return out


def compare(meson, deb):
    """The differences, as lines; empty when the package is the install."""
    lines = []
    for p in sorted(set(meson) - set(deb) - DEBIAN_ONLY):
        lines.append(f'installed by meson, not in the package: {p}')
    for p in sorted(set(deb) - set(meson) - DEBIAN_ONLY):
        lines.append(f'in the package, not installed by meson: {p}')
    for p in sorted(DEBIAN_ONLY - set(deb)):
        lines.append(f'missing from the package: {p}')
    for p in sorted(DEBIAN_ONLY & set(meson)):
        lines.append(f'meson installs a file the package makes itself: {p}')
    for p in sorted(set(meson) & set(deb)):
        if meson[p] != deb[p]:
            lines.append(f'executable in {"meson install" if meson[p] else "the package"} only: {p}')
    return lines


def main():
    builddir, deb = sys.argv[1], sys.argv[2]
    odd = not_default_options(builddir)
    if odd:
        fail(f'{builddir} is not a default build: {odd}; the comparison is about default builds')
    meson = meson_tree(builddir)
    package = normalise_deb(deb_tree(deb), meson)
    print(f'meson install: {len(meson)} files; the package: {len(package)} files')
    for line in compare(meson, package):
        fail(line)
    if not failures:
        for p in sorted(package):
            print(f'  {p}{" (x)" if package[p] else ""}')

    # The comparison itself must see a file added to either side.
    for side, extra in (('meson', '/usr/share/gpuvirt/new-file'), ('package', '/usr/lib/gpuvirt/new-file')):
        m, d = dict(meson), dict(package)
        (m if side == 'meson' else d)[extra] = False
        if not any(extra in line for line in compare(m, d)):
            fail(f'self-check: a file added to the {side} side only was not reported')

    version = subprocess.run(['dpkg-deb', '-f', deb, 'Version'], capture_output=True, text=True,
                             check=True).stdout.strip()
    project = introspect(builddir, '--projectinfo')['version']
    if version != project:
        fail(f'package version {version} (debian/changelog) is not the project version {project} (meson.build)')

    print(f'test-contents: {failures} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
