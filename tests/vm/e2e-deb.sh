#!/bin/sh
# The Debian package as a user gets it (issue 15), in a guest booting its own
# systemd (tests/vm/run-vm --systemd): `apt-get install ./gpuvirt_*.deb`,
# with every dependency resolved from what is installed (no network), then
# the packaged files only, no meson install and no manual reloads:
#   1. enabled but not started at install, the gpuvirt group made;
#   2. D-Bus activation starts gpuvirtd for an unprivileged user's call,
#      `systemctl status` says active;
#   3. polkitd, running before the install, denies that user a bind with the
#      shipped defaults, and nothing changes; root binds the e1000e to
#      vfio-pci and gives it back;
#   4. man pages, German messages and the completion are where their tools
#      look; dpkg -L lists exactly the .deb's paths, all on disk, unmodified;
#   5. apt-get remove stops gpuvirtd and keeps its state; apt-get purge
#      removes everything but what the administrator made (gpuvirt.conf)
#      and the group, as debian/gpuvirt.postrm says.
# Prints PASS/FAIL lines; exits 1 on any FAIL.
#
# usage (on the host):
#   tests/vm/run-vm --systemd /usr/bin/env BUILDDIR=BUILD tests/vm/e2e-deb.sh DEB
# (meson test vm-e2e-deb builds DEB first, see tests/deb/)
set -u
NAME=e2e-deb
. "$(dirname "$0")/e2e-lib.sh"

DEB=${1:?usage: e2e-deb.sh DEB}
CTL=/usr/bin/gpuvirtctl
unit=gpuvirtd.service
GROUP=gpuvirt
CONF=/etc/gpuvirt/gpuvirt.conf
export DEBIAN_FRONTEND=noninteractive
e2e_require_guest
e2e_require_systemd
[ -f "$DEB" ] || die "no package $DEB"
[ -e /sys/bus/pci/devices/$NIC ] || die "the emulated e1000e is missing"

status() { dpkg-query -W -f='${Status}' gpuvirt 2>/dev/null; }
# The package's files (not directories), as dpkg -c lists them.
dpkg-deb -c "$DEB" | grep -v '^d' | sed 's|^.* \./||; s| -> .*||; s|^|/|' | sort > /tmp/deb.files
[ -s /tmp/deb.files ] || die "dpkg-deb -c $DEB lists no files"
echo "$NAME: $(basename "$DEB"): $(wc -l < /tmp/deb.files) files"

# Every path named *gpuvirt* where the package, gpuvirtd, dpkg or systemd's
# enablement put things (/run/systemd is systemd's bookkeeping of loaded
# units, not the package's).
leftovers() {
  find /etc /var /run /lib/systemd /usr/lib/sysusers.d /usr/lib/modules-load.d /usr/libexec \
    /usr/share/dbus-1 /usr/share/polkit-1 /usr/share/doc/gpuvirt /usr/share/locale/de/LC_MESSAGES \
    -path /run/systemd -prune -o -name '*gpuvirt*' -print 2>/dev/null | sort
}

# --- before: this machine knows no gpuvirt; the administrator's file ----------
case "$(status)" in
  *installed*|*config-files*) die "gpuvirt is already known to dpkg here: $(status)" ;;
esac
present=$(while read -r f; do [ -e "$f" ] && echo "$f"; done < /tmp/deb.files)
[ -z "$present" ] || die "files of the package exist before its install: $present"
e2e_write_config
conf_sum=$(cksum < $CONF)
names_before=$(leftovers)
getent group $GROUP > /dev/null && die "group $GROUP exists before the install"
useradd --create-home --shell /bin/sh alice || die "useradd alice"
# A running polkitd must see the package's actions without a restart.
systemctl start polkit || die "start polkit"
echo "$NAME: polkitd running, installing ($(elapsed))"
# man-db's trigger re-indexes every page of this machine, over 9p under TCG:
# more than 5 minutes. This is the file its debconf question
# man-db/auto-update ("false") removes; `man -w` needs no index.
rm -f /var/lib/man-db/auto-update
# No network here: apt resolves from what is installed, and reading the
# host's package lists (20 MB, over 9p) would cost each apt run about 10 s.
printf 'Dir::Etc::SourceList "/dev/null";\nDir::Etc::SourceParts "/dev/null";\n' \
  > /etc/apt/apt.conf.d/99vmtest-installed-only
# apt's hook (20packagekit) wakes PackageKit after every dpkg run, if it is
# installed, as it is on the host: by D-Bus activation, and packagekitd then
# loads the package cache on the guest's CPUs. Nothing of gpuvirt's.
systemctl mask --runtime --quiet packagekit.service 2>/dev/null || true
# The host is a container whose policy-rc.d (exit 101) forbids every service
# action of maintainer scripts; this guest is a booted machine.
rm -f /usr/sbin/policy-rc.d

# --- 1. apt-get install ./gpuvirt_*.deb ----------------------------------------
if out=$(apt-get install -y "$DEB" 2>&1); then
  pass "apt-get install $(basename "$DEB") ($(elapsed))"
else
  echo "$out"; die "apt-get install $DEB"
fi
printf '%s\n' "$out" | grep -E 'newly installed|^Setting up|^E:|^W:' | sed 's/^/  apt| /'
check "apt installed gpuvirt alone: every dependency was on this machine" \
  sh -c "printf '%s' \"\$1\" | grep -q '^0 upgraded, 1 newly installed'" _ "$out"
check "dpkg: gpuvirt is installed (got '$(status)')" test "$(status)" = "install ok installed"
check "$unit is enabled (got '$(systemctl is-enabled $unit)')" test "$(systemctl is-enabled $unit)" = enabled
check "$unit is not started at install (got '$(systemctl is-active $unit)')" \
  test "$(systemctl is-active $unit)" = inactive
gid=$(getent group $GROUP | cut -d: -f3)
check "postinst (systemd-sysusers) made the system group $GROUP (gid '$gid')" \
  sh -c "[ -n '$gid' ] && [ '$gid' -lt 1000 ]"

# --- 2. D-Bus activation -------------------------------------------------------
check "org.gpuvirt is activatable on the system bus" \
  sh -c 'busctl --system list --activatable --no-legend | grep -q "^org\.gpuvirt "'
if out=$(as alice "$CTL" status 2>&1); then
  pass "alice: gpuvirtctl status, gpuvirtd activated ($(elapsed))"
  printf '%s\n' "$out" | head -n 4 | sed 's/^/  | /'
else
  echo "$out"; fail "alice: gpuvirtctl status (activation)"
fi
if out=$(systemctl status --no-pager $unit 2>&1); then
  pass "systemctl status $unit: $(printf '%s' "$out" | sed -n 's/^ *Active: //p')"
else
  echo "$out"; fail "systemctl status $unit: not active"
fi
check "gpuvirtd runs from the package's path" \
  sh -c "systemctl show -p ExecStart --value $unit | grep -q 'path=/usr/libexec/gpuvirtd '"

# --- 3. polkit with the shipped defaults; root binds and gives back -----------
denied alice "shipped defaults" bind $NIC
denied alice "shipped defaults" bind $PF
if "$CTL" bind $NIC; then pass "root: gpuvirtctl bind $NIC"; else show_log; fail "root: gpuvirtctl bind $NIC"; fi
expect_driver $NIC vfio-pci "after root's bind"
check "gpuvirtd keeps its records in /var/lib/gpuvirt" test -s /var/lib/gpuvirt/originals
if "$CTL" return $NIC; then pass "root: gpuvirtctl return $NIC"; else show_log; fail "root: gpuvirtctl return $NIC"; fi
expect_driver $NIC e1000e "after root's return"

# --- 4. where the tools look; dpkg -L ------------------------------------------
check "man -w gpuvirtctl: $(man -w gpuvirtctl 2>&1)" test "$(man -w gpuvirtctl 2>&1)" = /usr/share/man/man1/gpuvirtctl.1.gz
check "man -w 8 gpuvirtd" test "$(man -w 8 gpuvirtd 2>&1)" = /usr/share/man/man8/gpuvirtd.8.gz
check "man -w 5 gpuvirt.conf" test "$(man -w 5 gpuvirt.conf 2>&1)" = /usr/share/man/man5/gpuvirt.conf.5.gz
check "gpuvirtctl --help in German from the installed catalog" \
  sh -c "LANGUAGE=de $CTL --help | head -n 1 | grep -q '^Aufruf: gpuvirtctl'"
# (without the file, bash-completion's loader falls back to _minimal)
check "bash-completion loads the completion of gpuvirtctl by its name" \
  bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader gpuvirtctl
    complete -p gpuvirtctl | grep -q " -F _gpuvirtctl gpuvirtctl$"'
check "zsh finds _gpuvirtctl on its default fpath" \
  zsh -fc 'for d in $fpath; do [[ -f $d/_gpuvirtctl ]] && exit 0; done; exit 1'
check "the bus policy, activation file, polkit actions and unit are where their readers look" \
  test -f /usr/share/dbus-1/system.d/org.gpuvirt.conf -a -f /usr/share/dbus-1/system-services/org.gpuvirt.service \
  -a -f /usr/share/polkit-1/actions/org.gpuvirt.policy -a -f /lib/systemd/system/$unit
# the path gpuvirtctl's hint on an AccessDenied names (client/error-hint.c)
hint=$(grep -ao '/[a-z/]*/org\.gpuvirt\.rules\.example' $CTL | head -n 1)
check "the example rules are where gpuvirtctl's hint says (${hint:-no path in $CTL})" test -f "$hint"
check "the example rules are documentation only" \
  sh -c '! ls /etc/polkit-1/rules.d/*gpuvirt* /usr/share/polkit-1/rules.d/*gpuvirt* 2>/dev/null'
dpkg -L gpuvirt | grep -vx '/\.' | sort -u > /tmp/dpkg-L
dpkg-deb -c "$DEB" | sed 's|^.* \./||; s| -> .*||; s|/$||' | grep -v '^$' | sed 's|^|/|' | sort -u > /tmp/deb.all
if diff /tmp/deb.all /tmp/dpkg-L > /tmp/dpkg-L.diff; then
  pass "dpkg -L gpuvirt lists exactly the .deb's $(wc -l < /tmp/dpkg-L) paths"
else
  cat /tmp/dpkg-L.diff; fail "dpkg -L gpuvirt differs from dpkg -c of the .deb"
fi
missing=$(while read -r f; do [ -e "$f" ] || echo "$f"; done < /tmp/deb.files)
check "every file of the package is on disk${missing:+ (missing: $missing)}" test -z "$missing"
check "dpkg --verify gpuvirt: the files are as packaged" test -z "$(dpkg --verify gpuvirt 2>&1)"

# --- 5. remove, then purge ----------------------------------------------------
# (what an upgrade does is checked on the scripts themselves, deb-scripts:
# one more apt run costs 30-40 s here)
if out=$(apt-get remove -y gpuvirt 2>&1); then pass "apt-get remove gpuvirt ($(elapsed))"; else echo "$out"; fail "apt-get remove gpuvirt"; fi
check "remove: gpuvirtd stopped (got '$(systemctl is-active $unit)')" \
  sh -c "! systemctl is-active --quiet $unit"
check "remove: dpkg keeps its configuration state (got '$(status)')" test "$(status)" = "deinstall ok config-files"
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done < /tmp/deb.files)
check "remove: no file of the package is left${left:+ ($left)}" test -z "$left"
check "remove: gpuvirtd's state /var/lib/gpuvirt is kept ($(ls /var/lib/gpuvirt | tr '\n' ' '))" \
  test -d /var/lib/gpuvirt
check "remove: org.gpuvirt is no longer activatable" \
  sh -c '! busctl --system list --activatable --no-legend | grep -q "^org\.gpuvirt "'

if out=$(apt-get purge -y gpuvirt 2>&1); then pass "apt-get purge gpuvirt ($(elapsed))"; else echo "$out"; fail "apt-get purge gpuvirt"; fi
check "purge: dpkg -l knows no gpuvirt" sh -c '! dpkg -l gpuvirt 2>/dev/null | grep -q "^[a-z][a-z] *gpuvirt "'
check "purge: /var/lib/gpuvirt removed" test ! -e /var/lib/gpuvirt
check "purge: the unit's enablement removed" test ! -e /etc/systemd/system/multi-user.target.wants/$unit
check "purge: the administrator's $CONF kept, unchanged" test "$(cksum < $CONF 2>&1)" = "$conf_sum"
check "purge: the system group $GROUP kept" getent group $GROUP
names_after=$(leftovers)
if [ "$names_before" = "$names_after" ]; then
  pass "purge: nothing named gpuvirt left but what was there before ($(echo $names_before))"
else
  printf '%s\n' "$names_before" > /tmp/left.before; printf '%s\n' "$names_after" > /tmp/left.after
  diff /tmp/left.before /tmp/left.after; fail "purge: files named gpuvirt left behind"
fi

echo "$NAME: $failures failure(s), $(elapsed)"
[ "$failures" -eq 0 ] || exit 1
exit 0
