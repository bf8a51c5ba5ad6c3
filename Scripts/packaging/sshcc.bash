# bash completion for sshcc and sshccd (installed as .../bash-completion/completions/sshcc and sshccd).

_sshcc() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    if ((COMP_CWORD == 1)); then
        # sshcc's own commands, or the compiler to run.
        mapfile -t COMPREPLY < <(compgen -W "doctor --status --stop --show-hosts --keygen --authorize --install-masquerade --version --help" -- "$cur")
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -c -- "$cur" | grep -E '^(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)|-(gcc|g\+\+|clang|clang\+\+)(-[0-9.]+)?$' | sort -u)
        return
    fi
    case ${COMP_WORDS[1]} in
    --status) mapfile -t COMPREPLY < <(compgen -W "--watch" -- "$cur") ;;
    --keygen | --authorize | --install-masquerade) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    doctor) mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur") ;;
    --*) COMPREPLY=() ;;
    *)
        # After the compiler: the compiler's own completion if bash has one, else files.
        _command_offset 1 2>/dev/null || mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        ;;
    esac
}
complete -F _sshcc sshcc

_sshccd() {
    local cur=${COMP_WORDS[COMP_CWORD]} previous=${COMP_WORDS[COMP_CWORD - 1]}
    case $previous in
    --config | --log) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --tmpdir | --gcc-plugins | --sandbox-read | --cache | --objects) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    --objects-share) mapfile -t COMPREPLY < <(compgen -W "own all" -- "$cur"); return ;;
    --sandbox | --direct-steps) mapfile -t COMPREPLY < <(compgen -W "auto off" -- "$cur"); return ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "--config --show-config --status --json --log --tmpdir --cache --objects
        --objects-share --objects-size --compilers --allow --jobs --slots
        --min-free-memory --max-source --max-args --max-arg-length --max-output --max-memory --max-cpu --max-wall
        --source-wait --sandbox --sandbox-read --protocols --direct-steps --gcc-plugins --version --help" -- "$cur")
}
complete -F _sshccd sshccd
