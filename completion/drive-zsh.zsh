#!/usr/bin/env zsh
# Types each LINE and Tab into an interactive zsh on a pseudo-terminal
# (zsh/zpty) whose completion system has COMPLETION_DIR first in fpath, and
# prints the matches it added, one per line (as the argument would read:
# a prefix that compset took off is put back); after each LINE an empty
# line when several are given, then "#ms N": how long the completion took
# in that shell. Nothing is listed or inserted: a post-function of the
# completion clears that and says it is done.
# Usage: drive-zsh.zsh COMPLETION_DIR LINE...
emulate -L zsh
setopt err_return

if (( $# < 2 )); then
  print -u2 "usage: $0 COMPLETION_DIR LINE..."
  exit 2
fi
zmodload zsh/zpty
zmodload zsh/datetime

dir=${1:A}
shift
tmp=$(mktemp -d)
trap 'zpty -d drive 2>/dev/null; rm -rf -- $tmp' EXIT

# The shell under test: no rc files but this one.
cat > $tmp/rc <<EOF
fpath=(${(q)dir} \$fpath)
autoload -Uz compinit && compinit -u -D
zmodload zsh/datetime
unsetopt beep
# every match added (a compadd that only fills an array adds none)
compadd() {
  local -a __found
  if (( \${@[(I)-[OAD]]} )); then
    builtin compadd "\$@"
    return
  fi
  builtin compadd -A __found "\$@"
  (( \$#__found )) && print -rl -- "\${__found[@]/#/\$IPREFIX}" >> \$__out
  builtin compadd "\$@"
}
__capture_done() {
  compstate[list]=
  compstate[insert]=
  : >> \$__out
  print -r -- \$(( (EPOCHREALTIME - __start) * 1000 )) > \$__out.done
}
__capture() {
  typeset -gF __start=\$EPOCHREALTIME
  comppostfuncs=(__capture_done)
  _main_complete
}
zle -C __capture complete-word __capture
bindkey '^I' __capture
bindkey '^U' kill-whole-line
: > $tmp/ready
EOF

# the zsh running this script; its stderr (where a completion function
# would complain) is ours
zsh_binary=${$(readlink -f /proc/$$/exe):-zsh}
zpty drive "env TERM=xterm COLUMNS=200 LINES=50 ${(q)zsh_binary} -f -i 2>${(q)tmp}/stderr"
zpty -w drive "source ${(q)tmp}/rc"

# Reads what the shell prints (so that it never blocks on a full pty)
# until FILE exists or DEADLINE (seconds) passes.
wait_for() {
  local file=$1 out
  local -F deadline=$(( EPOCHREALTIME + $2 ))
  while [[ ! -e $file ]]; do
    zpty -r -t drive out 2>/dev/null || true
    if (( EPOCHREALTIME > deadline )); then
      print -u2 "$0: no answer from zsh for ${file:t}"
      return 1
    fi
    sleep 0.02
  done
}
wait_for $tmp/ready 30

integer n=0 several=$(( $# > 1 ))
for line in "$@"; do
  (( ++n ))
  zpty -w drive "__out=${(q)tmp}/out$n"
  zpty -w -n drive "$line"$'\t'
  wait_for $tmp/out$n.done 60
  zpty -w -n drive $'\C-u'
  print -rl -- ${(u)${(f)"$(<$tmp/out$n)"}}
  print -r -- "#ms ${$(<$tmp/out$n.done)%%.*}"
  (( several )) && print
done
cat -- $tmp/stderr >&2
exit 0
