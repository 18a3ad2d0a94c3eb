#!/usr/bin/env bash
# Runs the bash completion of gpuvirtctl as readline would for LINE (the
# cursor at its end) and prints each candidate as the argument would read
# once inserted, one per line, then "#nospace" when no space would follow,
# and "#ms N": how long the completion function took.
# Usage: drive-bash.sh BASH_COMPLETION_SCRIPT COMPLETION_FILE LINE...
# (several LINEs: each one's answer, then an empty line)
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 BASH_COMPLETION_SCRIPT COMPLETION_FILE LINE..." >&2
    exit 2
fi
main_script=$1 completion_file=$2
shift 2
if [ ! -r "$main_script" ]; then
    echo "$0: $main_script not found: install bash-completion (tools/deps.sh does)" >&2
    exit 1
fi

# bash-completion reads these as an interactive shell would have them
set +u
# shellcheck source=/dev/null
. "$main_script" || exit 1
# shellcheck source=/dev/null
. "$completion_file" || exit 1

# Outside readline compopt refuses to run: record what it was asked.
nospace=
compopt()
{
    [[ " $* " == *" -o nospace "* ]] && nospace=1
    return 0
}

# COMP_WORDS as readline splits LINE: at blanks, and runs of the
# COMP_WORDBREAKS characters (":", "=", ...) are words of their own.
split_line()
{
    local line=$1 breaks=${COMP_WORDBREAKS//[[:space:]\"\']/} c word= kind= i
    COMP_WORDS=()
    for ((i = 0; i < ${#line}; i++)); do
        c=${line:i:1}
        if [[ $c == [[:space:]] ]]; then
            [[ $kind ]] && COMP_WORDS+=("$word")
            word= kind=
        elif [[ $breaks == *"$c"* ]]; then
            if [[ $kind == b ]]; then
                word+=$c
            else
                [[ $kind ]] && COMP_WORDS+=("$word")
                word=$c kind=b
            fi
        else
            if [[ $kind == w ]]; then
                word+=$c
            else
                [[ $kind ]] && COMP_WORDS+=("$word")
                word=$c kind=w
            fi
        fi
    done
    COMP_WORDS+=("$word")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
}

complete_line()
{
    local line=$1 token rl_word prefix breaks reply start end
    split_line "$line"
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    nospace=
    start=${EPOCHREALTIME/[.,]/}
    _gpuvirtctl "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
        "${COMP_WORDS[COMP_CWORD - 1]-}"
    end=${EPOCHREALTIME/[.,]/}
    # readline replaces the text after the token's last break character
    token=${line##*[[:space:]]}
    breaks=${COMP_WORDBREAKS//[[:space:]\"\']/}
    rl_word=${token##*[$breaks]}
    prefix=${token%"$rl_word"}
    for reply in "${COMPREPLY[@]}"; do
        printf '%s%s\n' "$prefix" "$reply"
    done
    [[ $nospace ]] && echo "#nospace"
    echo "#ms $(((end - start) / 1000))"
    return 0
}

for line in "$@"; do
    complete_line "$line"
    [ $# -gt 1 ] && echo
done
exit 0
