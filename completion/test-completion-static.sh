#!/usr/bin/env bash
# The completion of SHELL (bash or zsh) without gpuvirtd: the verbs,
# sub-verbs and each verb's options are exactly those gpuvirtctl's --help
# lists (no drift from client/gpuvirtctl.c), --json= completes its modes,
# config check/save complete file names, and with no bus to reach the device,
# type and vGPU positions give nothing, print nothing and do not wait.
# Usage: test-completion-static.sh bash|zsh   (environment: completion/meson.build)
set -euo pipefail

shell=${1:?usage: $0 bash|zsh}
: "${GPUVIRTCTL:?}" "${GPUVIRT_COMPLETION_DIR:?}"
dir=$GPUVIRT_COMPLETION_DIR
failures=0

case $shell in
    bash)
        if [ ! -r "${GPUVIRT_BASH_COMPLETION:-}" ]; then
            echo "FAIL: bash-completion's script '${GPUVIRT_BASH_COMPLETION:-}' is missing: install bash-completion (tools/deps.sh)"
            exit 1
        fi
        bash -n "$dir/gpuvirtctl.bash"
        ;;
    zsh)
        if [ -z "${GPUVIRT_ZSH:-}" ] || [ ! -x "$GPUVIRT_ZSH" ]; then
            echo "FAIL: zsh is missing: install zsh (tools/deps.sh)"
            exit 1
        fi
        "$GPUVIRT_ZSH" -n "$dir/_gpuvirtctl"
        "$GPUVIRT_ZSH" -n "$dir/drive-zsh.zsh"
        ;;
    *)
        echo "usage: $0 bash|zsh" >&2
        exit 2
        ;;
esac

# the built gpuvirtctl is the one on PATH, and there is no bus to reach
PATH=$(dirname "$GPUVIRTCTL"):$PATH
export PATH LC_ALL=C LANGUAGE=
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/gpuvirt-completion-test
unset GPUVIRTCTL_COMPLETION_TIMEOUT
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# The driver's whole answer for LINE (candidates, "#nospace", "#ms N");
# its stderr must stay empty.
drive()
{
    local err=$work/stderr
    case $shell in
        bash) "$dir/drive-bash.sh" "$GPUVIRT_BASH_COMPLETION" "$dir/gpuvirtctl.bash" "$1" 2>"$err" ;;
        zsh) "$GPUVIRT_ZSH" "$dir/drive-zsh.zsh" "$dir" "$1" 2>"$err" ;;
    esac
    if [ -s "$err" ]; then
        echo "FAIL: '$1' printed to stderr:" >&2
        cat "$err" >&2
        failures=$((failures + 1))
    fi
}

# The candidates for LINE, sorted, without the driver's "#" lines.
complete_line()
{
    drive "$1" | grep -v -e '^#' -e '^$' | sort -u || true
}

# expect NAME GOT WANT: two sorted lists, equal
expect()
{
    if [ "$2" = "$3" ]; then
        echo "ok: $1"
    else
        echo "FAIL: $1"
        diff <(printf '%s\n' "$3") <(printf '%s\n' "$2") | sed 's/^/    /' || true
        echo "    (< wanted, > completed)"
        failures=$((failures + 1))
    fi
}

# The long options of a --help text's Options section.
help_options()
{
    sed -n '/^Options:/,/^$/p' | grep -o -e '--[a-z][a-z-]*' | sort -u
}

# Completed options with their "=" taken off, without "-" (stdin).
option_names()
{
    sed 's/=$//' | grep -v -x -e '-' | sort -u
}

# Verbs: the first word of each command line of --help, and the aliases.
want=$( { "$GPUVIRTCTL" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z-]*\).*/\1/p'
          printf '%s\n' give-back reclaim; } | sort -u)
expect "verbs" "$(complete_line 'gpuvirtctl ')" "$want"
expect "verbs starting with 'con'" "$(complete_line 'gpuvirtctl con')" "config"
expect "verbs after a global option" "$(complete_line 'gpuvirtctl --no-ask-password s')" \
    "$(printf '%s\n' show sriov status)"

# Sub-verbs: the second word of each command line of 'GROUP --help'.
# (mig's first word may also be a GPU, "mig DEVICE [on|off]": there is no
# bus here, so no GPU is offered.)
for group in vgpu config mig; do
    want=$("$GPUVIRTCTL" "$group" --help | sed -n "s/^  $group \([a-z][a-z-]*\).*/\1/p" | sort -u)
    expect "$group sub-verbs" "$(complete_line "gpuvirtctl $group ")" "$want"
done
expect "vgpu sub-verbs starting with 'r'" "$(complete_line 'gpuvirtctl --json vgpu r')" "remove"

# Options of each verb: those of 'VERB --help', no more, no fewer.
for verb in status list show monitor bind return unbind sriov types doctor apply export \
    "vgpu list" "vgpu create" "vgpu remove" \
    "config show" "config check" "config save" "config reload" "config import" \
    "mig list" "mig create" "mig destroy"; do
    # shellcheck disable=SC2086
    want=$("$GPUVIRTCTL" $verb --help | help_options)
    expect "options of '$verb'" "$(complete_line "gpuvirtctl $verb --" | option_names)" "$want"
done
want=$("$GPUVIRTCTL" return --help | help_options)
for alias in give-back reclaim; do
    expect "options of '$alias'" "$(complete_line "gpuvirtctl $alias --" | option_names)" "$want"
done
# "mig DEVICE [on|off]": the options of that verb once a GPU is named
expect "options of 'mig DEVICE'" "$(complete_line 'gpuvirtctl mig 41:00.0 --' | option_names)" \
    "$("$GPUVIRTCTL" mig 41:00.0 --help | help_options)"
expect "options of 'mig DEVICE on'" "$(complete_line 'gpuvirtctl mig 41:00.0 on --' | option_names)" \
    "$("$GPUVIRTCTL" mig 41:00.0 --help | help_options)"
expect "on or off after 'mig DEVICE'" "$(complete_line 'gpuvirtctl mig 41:00.0 ')" "$(printf '%s\n' off on)"
# a group alone is its default verb; options may come before the verb
expect "options of 'vgpu'" "$(complete_line 'gpuvirtctl vgpu --' | option_names)" \
    "$("$GPUVIRTCTL" vgpu list --help | help_options)"
expect "options of 'bind' after a DEVICE and an option" \
    "$(complete_line 'gpuvirtctl bind 01:00.0 --timeout 5 --al' | option_names)" \
    "$(printf '%s\n' --all --allow-foreign)"
# before any verb: the options that apply to every verb, and --version
expect "options before a verb" "$(complete_line 'gpuvirtctl --' | option_names)" \
    "$(printf '%s\n' --help --json --no-ask-password --version)"
expect "'-' for stdin in 'config check'" "$(complete_line 'gpuvirtctl config check -' | grep -x -e '-' || true)" "-"
expect "'-' for stdin in 'config save'" "$(complete_line 'gpuvirtctl config save -' | grep -x -e '-' || true)" "-"

# Option values.
expect "--json= modes" "$(complete_line 'gpuvirtctl list --json=')" \
    "$(printf '%s\n' --json=off --json=pretty --json=short)"
expect "--json=s" "$(complete_line 'gpuvirtctl doctor --json=s')" "--json=short"
expect "nothing after --timeout" "$(complete_line 'gpuvirtctl bind --timeout ')" ""
expect "nothing after --uuid=" "$(complete_line 'gpuvirtctl vgpu create --uuid=')" ""
expect "nothing after --count" "$(complete_line 'gpuvirtctl mig create 41:00.0 --count ')" ""
expect "nothing after --config=" "$(complete_line 'gpuvirtctl config import mig-parted --config=')" ""
expect "nothing after the last argument" "$(complete_line 'gpuvirtctl types 01:00.0 ')" ""
expect "no options for words that are not options" "$(complete_line 'gpuvirtctl doctor ')" ""
if [ "$shell" = bash ]; then
    # an option that takes a value gets no space after its "="
    got=$(drive 'gpuvirtctl sriov --ti' | grep -v '^#ms ')
    expect "--timeout= without a space" "$got" "$(printf '%s\n' --timeout= '#nospace')"
    got=$(drive 'gpuvirtctl sriov --pe' | grep -v '^#ms ')
    expect "--persist with a space" "$got" "--persist"
fi

# File names for config check and save (in a directory of its own).
mkdir "$work/files"
touch "$work/files/a.conf" "$work/files/b.conf" "$work/files/other"
cd "$work/files"
expect "config check FILE" "$(complete_line 'gpuvirtctl config check ')" \
    "$(printf '%s\n' a.conf b.conf other)"
expect "config save FILE" "$(complete_line 'gpuvirtctl config save --apply a')" "a.conf"
expect "config import's formats" "$(complete_line 'gpuvirtctl config import ')" \
    "$(printf '%s\n' driverctl mdevctl mig-parted)"
expect "config import driverctl takes no FILE" "$(complete_line 'gpuvirtctl config import driverctl ')" ""
expect "export's format" "$(complete_line 'gpuvirtctl export --json ')" "libvirt"
expect "config save takes one FILE" "$(complete_line 'gpuvirtctl config save a.conf ')" ""
expect "config import mig-parted FILE" "$(complete_line 'gpuvirtctl config import mig-parted --config x b')" "b.conf"
cd - >/dev/null

# No bus: the positions that ask gpuvirtd give nothing, print nothing
# (drive counts stderr) and come back at once.
for line in 'gpuvirtctl show ' 'gpuvirtctl bind ' 'gpuvirtctl sriov 0000:' \
    'gpuvirtctl types ' 'gpuvirtctl vgpu create 01:00.0 ' 'gpuvirtctl vgpu remove ' \
    'gpuvirtctl mig create ' 'gpuvirtctl mig create 41:00.0 ' 'gpuvirtctl mig destroy 41:00.0 '; do
    out=$(drive "$line")
    got=$(printf '%s\n' "$out" | grep -v -e '^#' -e '^$' || true)
    ms=$(printf '%s\n' "$out" | sed -n 's/^#ms //p')
    expect "no candidates without a bus: '$line'" "$got" ""
    if [ -z "$ms" ] || [ "$ms" -ge 2000 ]; then
        echo "FAIL: '$line' took ${ms:-?} ms without a bus (limit 2000 ms)"
        failures=$((failures + 1))
    else
        echo "ok: '$line' came back in $ms ms"
    fi
done

echo
if [ "$failures" -ne 0 ]; then
    echo "completion-static-$shell: $failures failed"
    exit 1
fi
echo "completion-static-$shell: all passed"
