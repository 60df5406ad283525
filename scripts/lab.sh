#!/usr/bin/env bash
# The loss lab from a fresh Debian/Ubuntu machine: installs what is missing, builds, then
# runs hola-compare inside hola-lab (two network namespaces joined by a virtual cable, with
# packet loss on both directions) and prints the table: the same names over TCP, UDP,
# rudp and rudp stop-and-wait, lock-step and pipelined, at 0%, 5% and 10% loss.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'EOF'
Usage: scripts/lab.sh [HOLA-COMPARE OPTION]...

Installs what is missing (meson, ninja, gcc, pkg-config, iproute2, nftables), builds hola
in build/, and runs

    hola-compare --lab --names 200 --sweep 0,5,10

which sends the names "Nombre 1".."Nombre 200" over tcp, udp, rudp and rudp-w1 (rudp
with --window 1, stop-and-wait), in lock-step and pipelined, through a private network
that loses 0%, 5% and 10% of the packets in each direction, and prints one table.
It takes about a minute.

Options are passed to hola-compare after the defaults, so they add to or override them:
    scripts/lab.sh --names 500 --lockstep       # 500 names, lock-step only
    scripts/lab.sh --coalesce                   # also rudp with several names per datagram
    scripts/lab.sh --impair loss=20 --csv       # any --impair or --sweep replaces 0,5,10
See build/tools/compare/hola-compare --help for every option, and docs/lab.md.

Root or not:
  - as root (or with sudo) it installs missing packages with apt-get, and the lab uses
    named network namespaces (ip netns);
  - as a normal user it prints the exact "sudo apt-get install" line when something is
    missing and stops; once everything is there, the lab runs in an unprivileged user +
    network namespace (unshare -rn), where the kernel allows it. Where it does not, the
    lab says which setting forbids it and this script exits with status 77.

Loss comes from tc netem where the kernel has sch_netem, otherwise from nftables
(random drop on each side of the cable); the table's first line says which, and the
kernel (uname -r). A row whose time includes a handshake retry (a lost SYN costs TCP
1 s, a lost INITIAL costs rudp 250 ms) is marked hs-retry; docs/lab.md explains every
column.
EOF
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
esac

# ip, tc and nft live in /usr/sbin and /sbin, which a normal user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
. scripts/setup.sh

need_build_tools
need ip iproute2
need tc iproute2
need nft nftables
install_missing

echo "lab: building in build/" >&2
configure_build build

defaults=(--lab --names 200)
own_setting=no
for a in "$@"; do
    case $a in
        -i* | --impair | --impair=* | --sweep | --sweep=*) own_setting=yes ;;
    esac
done
[ "$own_setting" = yes ] || defaults+=(--sweep 0,5,10)

if [ "$(id -u)" -ne 0 ]; then
    echo "lab: not root: the lab runs in an unprivileged user + network namespace" >&2
fi
echo "lab: build/tools/compare/hola-compare ${defaults[*]}${*:+ $*}" >&2
rc=0
build/tools/compare/hola-compare "${defaults[@]}" "$@" || rc=$?
if [ "$rc" -eq 77 ]; then
    echo "lab: this machine cannot run the lab (the reason is above); as root it can:" >&2
    echo "    sudo scripts/lab.sh${*:+ $*}" >&2
fi
exit "$rc"
