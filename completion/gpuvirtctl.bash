# bash completion for gpuvirtctl                           -*- shell-script -*-
#
# Verbs, sub-verbs and the options each verb takes (the tables of
# client/gpuvirtctl.c; test-completion-static.sh compares them with --help),
# and what only gpuvirtd knows: device addresses, vGPU types and vGPUs.
# gpuvirtd is asked only within GPUVIRTCTL_COMPLETION_TIMEOUT seconds
# (default 1) and never for a password; a daemon that does not answer gives
# no candidates and no message.

# gpuvirtctl ARGS... --json=short, bounded; nothing on failure.
__gpuvirtctl_query()
{
    local ctl=$1
    shift
    timeout -k 1 "${GPUVIRTCTL_COMPLETION_TIMEOUT:-1}" \
        "$ctl" --no-ask-password "$@" --json=short </dev/null 2>/dev/null
}

# The addresses of 'list' (KIND managed), 'list --all' (all), or of the
# listed functions with SR-IOV (sriov), a vGPU framework (vgpu) or MIG (mig).
__gpuvirtctl_devices()
{
    local ctl=$1 kind=$2 line re='"Address":"([^"]+)"'
    local -a args=(list)
    [[ $kind == all ]] && args+=(--all)
    # one function per line: each object of "Devices" starts with its "Path"
    while IFS= read -r line; do
        case $kind in
            sriov) [[ $line == *'"Sriov":{'* ]] || continue ;;
            vgpu) [[ $line == *'"Vgpu":{'* ]] || continue ;;
            mig) [[ $line == *'"Mig":{'* ]] || continue ;;
        esac
        [[ $line =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
    done < <(__gpuvirtctl_query "$ctl" "${args[@]}" |
        sed 's|"Path":"/org/gpuvirt/devices/|\n|g')
}

# The ids and short names of the vGPU types DEVICE offers now.
__gpuvirtctl_types()
{
    __gpuvirtctl_query "$1" types "$2" |
        grep -o -e '"Id":"[^"]*"' -e '"short_name":"[^"]*"' |
        sed 's/^"[a-zA-Z_]*":"\(.*\)"$/\1/'
}

# The GPU instance profiles of MIG GPU DEVICE ("1g.10gb"), or with
# "instances" the ids of its GPU instances.
__gpuvirtctl_mig()
{
    # a GPU instance is {"Id":N,"ProfileId":...}; a profile has "Name"
    if [[ $3 == instances ]]; then
        __gpuvirtctl_query "$1" mig "$2" |
            grep -o '{"Id":[0-9]*,"ProfileId"' | sed 's/^{"Id":\([0-9]*\),.*/\1/'
    else
        __gpuvirtctl_query "$1" mig "$2" |
            grep -o '"Name":"[^"]*"' | sed 's/^"Name":"\(.*\)"$/\1/'
    fi
}

# Every vGPU as 'vgpu remove' takes it: an mdev's UUID, a VF's address.
__gpuvirtctl_vgpus()
{
    __gpuvirtctl_query "$1" vgpu list |
        grep -o '"Vgpu":"[^"]*"' | sed 's/^"Vgpu":"\(.*\)"$/\1/'
}

# COMPREPLY from ADDRESSES... for cur, leaving out the words already given.
# Addresses in domain 0000 also match in their short form (01:00.0).
__gpuvirtctl_reply_devices()
{
    local -a candidates=() given=("${words[@]:1:cword-1}")
    local a g short=
    # an empty word, or one that may become a domain, completes full ones
    [[ -n $cur && $cur != [[:xdigit:]][[:xdigit:]][[:xdigit:]][[:xdigit:]]:* &&
        "0000:" != "$cur"* ]] && short=1
    for a in "$@"; do
        for g in "${given[@]}"; do
            [[ $g == "$a" || "0000:$g" == "$a" ]] && continue 2
        done
        candidates+=("$a")
        [[ $short && $a == 0000:* ]] && candidates+=("${a#0000:}")
    done
    COMPREPLY=($(compgen -W '${candidates[*]}' -- "$cur"))
    __ltrim_colon_completions "$cur"
}

_gpuvirtctl()
{
    local cur prev words cword split
    _init_completion -s -n : || return

    local ctl=$1
    type -P -- "$ctl" >/dev/null || ctl=gpuvirtctl

    local verb= sub= w i all=
    local -a args=()
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            --timeout | --driver | --uuid | --num-vfs | --count | --config | --guest-bus | --root)
                ((i++))
                continue
                ;;
            -a | --all) all=1 ;;
        esac
        [[ $w == -* ]] && continue
        if [[ ! $verb ]]; then
            verb=$w
        elif [[ ! $sub && ($verb == vgpu || $verb == config || $verb == mig) ]]; then
            sub=$w
        else
            args+=("$w")
        fi
    done
    case $verb in
        give-back | reclaim) verb=return ;;
        vgpu) verb="vgpu ${sub:-list}" ;;
        config) verb="config ${sub:-show}" ;;
        mig)
            # "mig DEVICE [on|off]": a word that is no sub-verb is the DEVICE
            case $sub in
                '') verb='mig list' ;;
                list | create | destroy) verb="mig $sub" ;;
                *) args=("$sub" "${args[@]}") ;;
            esac
            ;;
    esac

    case $prev in
        --json)
            # only --json=MODE takes a mode: "--json short" is two words
            if [[ $split == true ]]; then
                COMPREPLY=($(compgen -W 'pretty short off' -- "$cur"))
                return
            fi
            ;;
        --timeout | --driver | --uuid | --num-vfs | --count | --config | --guest-bus)
            return
            ;;
        --root)
            _filedir -d
            return
            ;;
    esac
    if [[ $split == true ]]; then
        [[ $prev == --root ]] && _filedir -d
        return
    fi

    if [[ $cur == -* ]]; then
        local opts='--help --no-ask-password'
        local json='--json --json='
        case $verb in
            '') opts+=" --version $json" ;;
            status | show | monitor | types | doctor | 'vgpu list' | \
                'config show' | 'config check' | 'mig list')
                opts+=" $json"
                ;;
            list) opts+=" $json --all" ;;
            bind)
                opts+=" $json --all --force --allow-foreign --keep-going"
                opts+=" --timeout= --verbose --persist"
                ;;
            return)
                opts+=" $json --force --keep-going --timeout= --driver="
                opts+=" --verbose --persist"
                ;;
            unbind)
                opts+=" $json --force --keep-going --timeout= --yes --verbose"
                ;;
            sriov) opts+=" $json --timeout= --persist --verbose" ;;
            'vgpu create')
                opts+=" $json --uuid= --num-vfs= --timeout= --persist"
                ;;
            'vgpu remove')
                opts+=" $json --disable-vfs --timeout= --persist"
                ;;
            'config save') opts+=" --apply" ;;
            'config import') opts+=" --apply --root= --config=" ;;
            export) opts+=" $json --guest-bus=" ;;
            apply) opts+=" $json --dry-run --timeout=" ;;
            mig) opts+=" $json --timeout= --persist --pending" ;;
            'mig create')
                opts+=" $json --timeout= --persist --count= --no-compute-instances"
                ;;
            'mig destroy') opts+=" $json --timeout= --persist --all" ;;
        esac
        # "-" is stdin for these
        [[ $verb == 'config check' || $verb == 'config save' ]] &&
            ((${#args[@]} == 0)) && opts+=" -"
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] &&
            compopt -o nospace
        return
    fi

    if [[ ! $verb ]]; then
        COMPREPLY=($(compgen -W 'status list show monitor bind return
            give-back reclaim unbind sriov types vgpu doctor config apply
            export mig' \
            -- "$cur"))
        return
    fi
    if [[ $verb == vgpu* && ! $sub ]]; then
        COMPREPLY=($(compgen -W 'list create remove' -- "$cur"))
        return
    fi
    if [[ $verb == config* && ! $sub ]]; then
        COMPREPLY=($(compgen -W 'show check save reload import' -- "$cur"))
        return
    fi
    if [[ $verb == 'mig list' && ! $sub ]]; then
        # a sub-verb, or the GPU of "mig DEVICE [on|off]"
        COMPREPLY=($(compgen -W 'list create destroy' -- "$cur"))
        local -a sub_verbs=("${COMPREPLY[@]}")
        __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" mig)
        COMPREPLY+=("${sub_verbs[@]}")
        return
    fi

    local n=${#args[@]}
    case $verb,$n in
        show,0)
            __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" all)
            ;;
        bind,*)
            # bind --all takes no DEVICE
            [[ $all ]] ||
                __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" managed)
            ;;
        return,* | unbind,*)
            __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" managed)
            ;;
        sriov,0)
            __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" sriov)
            ;;
        sriov,1)
            COMPREPLY=($(compgen -W 'off' -- "$cur"))
            ;;
        types,0 | 'vgpu create,0')
            __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" vgpu)
            ;;
        'vgpu create,1')
            COMPREPLY=($(compgen -W '$(__gpuvirtctl_types "$ctl" "${args[0]}")' \
                -- "$cur"))
            ;;
        'vgpu remove,0')
            COMPREPLY=($(compgen -W '$(__gpuvirtctl_vgpus "$ctl")' -- "$cur"))
            __ltrim_colon_completions "$cur"
            ;;
        'config check,0' | 'config save,0')
            _filedir
            ;;
        'config import,1')
            # mig-parted reads a FILE; driverctl and mdevctl take none
            [[ ${args[0]} == mig-parted ]] && _filedir
            ;;
        'config import,0')
            COMPREPLY=($(compgen -W 'driverctl mdevctl mig-parted' -- "$cur"))
            ;;
        export,0)
            COMPREPLY=($(compgen -W 'libvirt' -- "$cur"))
            ;;
        export,1)
            # a GPU (or one of its functions), an mdev, a VF with a type
            __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" managed) \
                $(__gpuvirtctl_vgpus "$ctl")
            ;;
        mig,1)
            COMPREPLY=($(compgen -W 'on off' -- "$cur"))
            ;;
        'mig create,0' | 'mig destroy,0')
            __gpuvirtctl_reply_devices $(__gpuvirtctl_devices "$ctl" mig)
            ;;
        'mig create,1')
            COMPREPLY=($(compgen -W '$(__gpuvirtctl_mig "$ctl" "${args[0]}")' -- "$cur"))
            ;;
        'mig destroy,'*)
            # ids, unless --all
            [[ $all ]] || COMPREPLY=($(compgen -W '$(__gpuvirtctl_mig "$ctl" "${args[0]}" instances)' \
                -- "$cur"))
            ;;
    esac
} &&
    complete -F _gpuvirtctl gpuvirtctl

# ex: filetype=sh
