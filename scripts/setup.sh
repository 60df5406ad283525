# Sourced by demo.sh and test.sh: finds what this machine lacks and installs it
# (apt-get as root), or prints the exact install line and stops.

# need CHECK PACKAGE: CHECK is a command name, or "pc:NAME" for a pkg-config module.
hola_missing=()
need() {
    local check=$1 pkg=$2
    case $check in
        pc:*) pkg-config --exists "${check#pc:}" 2>/dev/null && return 0 ;;
        *) command -v "$check" >/dev/null 2>&1 && return 0 ;;
    esac
    case " ${hola_missing[*]} " in *" $pkg "*) ;; *) hola_missing+=("$pkg") ;; esac
}

need_build_tools() {
    need cc gcc
    need meson meson
    need ninja ninja-build
    need pkg-config pkg-config
}

install_missing() {
    [ ${#hola_missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "hola: missing packages: ${hola_missing[*]}" >&2
        echo "hola: install them with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y ${hola_missing[*]}" >&2
        echo "hola: then run this command again." >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "hola: missing packages: ${hola_missing[*]} (no apt-get here: install them with your package manager)" >&2
        exit 1
    fi
    echo "hola: installing ${hola_missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || { echo "hola: apt-get update failed" >&2; exit 1; }
    apt-get install -y -qq --no-install-recommends "${hola_missing[@]}" >&2 ||
        { echo "hola: apt-get install ${hola_missing[*]} failed" >&2; exit 1; }
    hola_missing=()
}

# configure_build DIR [MESON OPTIONS...]: set up (or reconfigure) and compile.
configure_build() {
    local dir=$1; shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi || { echo "hola: meson setup $dir failed" >&2; exit 1; }
    meson compile -C "$dir" >/dev/null || meson compile -C "$dir" ||
        { echo "hola: build in $dir failed" >&2; exit 1; }
}
