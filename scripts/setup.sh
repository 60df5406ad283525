# Sourced by demo.sh and test.sh: finds what this machine lacks and installs it
# (apt-get as root), or prints the exact install line and stops.

# need CHECK PACKAGE: CHECK is a command name, "pc:NAME" for a pkg-config module, or
# "file:PATH" for a file the package provides.
hola_missing=()
need() {
    local check=$1 pkg=$2
    case $check in
        pc:*) pkg-config --exists "${check#pc:}" 2>/dev/null && return 0 ;;
        file:*) [ -e "${check#file:}" ] && return 0 ;;
        *) command -v "$check" >/dev/null 2>&1 && return 0 ;;
    esac
    case " ${hola_missing[*]} " in *" $pkg "*) ;; *) hola_missing+=("$pkg") ;; esac
}

need_build_tools() {
    need cc gcc
    need meson meson
    need ninja ninja-build
    need pkg-config pkg-config
    need msgfmt gettext # the message catalogs (po/); without it, English only
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

# ensure_es_locale: the es_MX.UTF-8 locale the Spanish tests run under. As root it is made
# the Debian way (enabled in /etc/locale.gen, then locale-gen; localedef where there is no
# locale-gen); otherwise the tests fall back to C.UTF-8 with LANGUAGE=es, which glibc
# honours in every locale but C/POSIX. Needs the `locales` package (need_es_locale).
need_es_locale() {
    locale -a 2>/dev/null | grep -qix 'es_MX\.utf-\?8' && return 0
    [ "$(id -u)" -eq 0 ] && need file:/usr/share/i18n/locales/es_MX locales
}
ensure_es_locale() {
    locale -a 2>/dev/null | grep -qix 'es_MX\.utf-\?8' && return 0
    if [ "$(id -u)" -ne 0 ] || [ ! -e /usr/share/i18n/locales/es_MX ]; then
        echo "hola: no es_MX.UTF-8 locale: the Spanish tests use C.UTF-8 with LANGUAGE=es" >&2
        return 0
    fi
    echo "hola: generating the es_MX.UTF-8 locale" >&2
    if [ -f /etc/locale.gen ] && command -v locale-gen >/dev/null 2>&1; then
        if grep -q '^# *es_MX.UTF-8 UTF-8' /etc/locale.gen; then
            sed -i 's/^# *\(es_MX.UTF-8 UTF-8\)/\1/' /etc/locale.gen
        elif ! grep -q '^es_MX.UTF-8 UTF-8' /etc/locale.gen; then
            echo 'es_MX.UTF-8 UTF-8' >>/etc/locale.gen
        fi
        locale-gen >/dev/null
    else
        localedef -i es_MX -f UTF-8 es_MX.UTF-8
    fi || echo "hola: could not generate es_MX.UTF-8; the Spanish tests use LANGUAGE=es" >&2
}
