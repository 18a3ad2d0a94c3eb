#!/usr/bin/python3
"""Build the Debian package of this source tree, once per content of the tree.

usage: build-deb.py [--out DIR] [--nocheck]

The tree's files (git: tracked and untracked ones, not the ignored build
dirs) are copied to DIR/pkg-KEY/src, where `dpkg-buildpackage -b -us -uc`
runs in a clean environment, as in a build chroot; the results stay in
DIR/pkg-KEY/. KEY hashes every file's name, mode and content and the
versions of the packaging tools, so a later call on the same tree reuses
the package, and a changed tree never gets a package built from an older
one. Older pkg-* directories are removed; concurrent calls wait on
DIR/.lock. The results are also linked into DIR itself. Prints the path
of the .deb. DIR defaults to build-deb/ in the tree (ignored by git).
"""
import argparse, fcntl, hashlib, os, shutil, stat, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = 'gpuvirt'
TOOLS = ['debhelper', 'dpkg-dev', 'meson']


def log(msg):
    print('build-deb: ' + msg, file=sys.stderr, flush=True)


def tree_files():
    """The files a clean checkout of this tree has, plus new untracked ones."""
    try:
        out = subprocess.run(['git', '-C', ROOT, 'ls-files', '-z', '--cached', '--others',
                              '--exclude-standard'], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f'build-deb: {ROOT} is not a git checkout ({e}); '
                 'in a clean tree, run dpkg-buildpackage -b -us -uc instead')
    # a tracked file deleted in the work tree is not part of it
    return sorted(p for p in set(out.decode().split('\0'))
                  if p and os.path.lexists(os.path.join(ROOT, p)))


def tree_key(files, options):
    h = hashlib.sha256()
    versions = subprocess.run(['dpkg-query', '-W', '-f', '${Package} ${Version}\\n'] + TOOLS,
                              capture_output=True, text=True).stdout
    h.update(f'{versions}\0{options}\0'.encode())
    for p in files:
        full = os.path.join(ROOT, p)
        st = os.lstat(full)
        h.update(p.encode() + b'\0')
        if stat.S_ISLNK(st.st_mode):
            h.update(b'l' + os.readlink(full).encode())
        else:
            h.update(b'x' if st.st_mode & 0o111 else b'f')
            with open(full, 'rb') as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def copy_tree(files, dest):
    for p in files:
        src, dst = os.path.join(ROOT, p), os.path.join(dest, p)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)


def results(d):
    return sorted(f for f in os.listdir(d) if f.startswith(PACKAGE)
                  and f.endswith(('.deb', '.changes', '.buildinfo')))


def build(pkgdir, files, options):
    work = pkgdir + f'.tmp-{os.getpid()}'
    shutil.rmtree(work, ignore_errors=True)
    src = os.path.join(work, 'src')
    os.makedirs(os.path.join(work, 'home'))
    copy_tree(files, src)
    # What a build chroot has: no caller's PATH (a python3 elsewhere), no
    # sanitizer or meson test variables, no CI=true.
    env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'HOME': os.path.join(work, 'home'),
           'LANG': 'C.UTF-8', 'TERM': 'dumb', 'DEB_BUILD_OPTIONS': options}
    t0 = time.time()
    log(f'building in {src} (DEB_BUILD_OPTIONS={options})')
    with open(os.path.join(work, 'build.log'), 'w') as logf:
        rc = subprocess.run(['dpkg-buildpackage', '-b', '-us', '-uc'], cwd=src, env=env,
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        failed = pkgdir + '.failed.log'
        shutil.move(os.path.join(work, 'build.log'), failed)
        shutil.rmtree(work, ignore_errors=True)
        with open(failed, errors='replace') as f:
            sys.stderr.write(''.join(f.readlines()[-60:]))
        sys.exit(f'build-deb: dpkg-buildpackage failed (exit {rc}); whole log: {failed}')
    shutil.rmtree(src)
    shutil.rmtree(os.path.join(work, 'home'))
    os.rename(work, pkgdir)
    log(f'built in {time.time() - t0:.0f} s: {", ".join(results(pkgdir))}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(ROOT, 'build-deb'))
    ap.add_argument('--nocheck', action='store_true', help='DEB_BUILD_OPTIONS=nocheck: no dh_auto_test')
    o = ap.parse_args()
    out = os.path.abspath(o.out)
    options = f'parallel={os.cpu_count() or 1}' + (' nocheck' if o.nocheck else '')
    os.makedirs(out, exist_ok=True)
    files = tree_files()
    key = tree_key(files, options)
    pkgdir = os.path.join(out, 'pkg-' + key)
    with open(os.path.join(out, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(pkgdir):
            log(f'reusing the package of this tree ({pkgdir})')
        else:
            build(pkgdir, files, options)
        for old in os.listdir(out):
            if old.startswith('pkg-') and os.path.join(out, old) != pkgdir:
                path = os.path.join(out, old)
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
        for old in results(out):
            os.unlink(os.path.join(out, old))
        for f in results(pkgdir):
            os.link(os.path.join(pkgdir, f), os.path.join(out, f))
    debs = [f for f in results(pkgdir) if f.endswith('.deb') and not f.startswith(PACKAGE + '-dbgsym')]
    if len(debs) != 1:
        sys.exit(f'build-deb: expected one {PACKAGE} .deb in {pkgdir}, found {debs}')
    print(os.path.join(pkgdir, debs[0]))


if __name__ == '__main__':
    main()
