# Sourced by the shell tests' libraries (tests/hola/lib.sh, tests/compare/lib.sh).
# show_file FILE HEAD TAIL: FILE on stderr under a "--- name" line, whole when it is at
# most HEAD + TAIL bytes, else its first HEAD and last TAIL bytes: the end of a long file
# says why it stopped (a client's error, hola-compare's failure after its progress lines).
show_file() {
    echo "--- ${1##*/}" >&2
    if [ "$(wc -c <"$1")" -gt $(($2 + $3)) ]; then
        head -c "$2" "$1" >&2
        printf '\n[...]\n' >&2
        tail -c "$3" "$1" >&2
    else
        cat "$1" >&2
    fi
}
