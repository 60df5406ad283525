#!/usr/bin/env bash
# The loss lab from a fresh Debian/Ubuntu machine: installs what is missing, builds, then
# runs hola-compare inside hola-lab (two network namespaces joined by a virtual cable, with
# packet loss on both directions) and prints the table: the same names over TCP, UDP,
# rudp and rudp stop-and-wait, lock-step and pipelined, at 0%, 5% and 10% loss.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'EOF'
Usage: scripts/lab.sh [--vm] [HOLA-COMPARE OPTION]...

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
(random drop on each side of the cable); a line before the build says which, and the
table's first line names the backend and the kernel (uname -r). A row whose time
includes a handshake retry (a lost SYN costs TCP 1 s, a lost INITIAL costs rudp
250 ms) is marked hs-retry; docs/lab.md explains every column. Below the table, the
kernel's own counters: what netem (tc -s qdisc) or nftables dropped on each side, all
runs of a setting together.

--vm: the same lab with real netem, in a small virtual machine (hola-lab-vm): Debian's
stock kernel, fetched once with apt-get download into build/vm/ (about 30 MB, never
installed), booted under qemu (KVM where it works, TCG emulation otherwise) with the
hola programs. For machines whose kernel has no sch_netem. It also installs
qemu-system-x86 and busybox-static. The table's first line says in which VM netem ran;
emulated times are several times slower than native, only their ratios mean something.
    scripts/lab.sh --vm --impair loss=10       # about a minute with TCG
EOF
}

vm=no args=()
for a in "$@"; do
    case $a in
        -h | --help) usage; exit 0 ;;
        --vm) vm=yes ;;
        *) args+=("$a") ;;
    esac
done
set -- ${args[@]+"${args[@]}"}

# ip, tc and nft live in /usr/sbin and /sbin, which a normal user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
. scripts/setup.sh

need_build_tools
need ip iproute2
need tc iproute2
need nft nftables
if [ "$vm" = yes ]; then
    need qemu-system-x86_64 qemu-system-x86
    need busybox busybox-static
    need xz xz-utils
fi
install_missing

# The first line says where the loss comes from; without netem, where to get it.
if [ "$vm" = no ]; then
    case $(scripts/hola-lab --check 2>/dev/null) in
        *"netem: yes"*) echo "lab: loss from tc netem (this kernel has sch_netem)" >&2 ;;
        *"netem: no"*)
            echo "lab: no sch_netem in this kernel: loss from nftables (random drop on each side);" \
                "scripts/lab.sh --vm runs the same lab with real netem in a virtual machine" >&2 ;;
    esac
fi

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
# The kernel's counters of every lab, from hola-lab (HOLA_LAB_STATS): beside the table,
# or on stderr when the table is CSV or JSON.
stats=$(mktemp build/lab-stats.XXXXXX) || exit 1
trap 'rm -f "$stats"' EXIT
export HOLA_LAB_STATS=$PWD/$stats
to=1
case " $* " in *" --csv "* | *" --json "*) to=2 ;; esac

compare=(build/tools/compare/hola-compare "${defaults[@]}" "$@")
if [ "$vm" = yes ]; then
    banner=stdout
    [ "$to" -eq 1 ] || banner=stderr
    compare=(scripts/hola-lab-vm --bin-dir build/src/hola --add build/tools/compare/hola-compare
        --dir build/vm --banner "$banner"
        -- hola-compare "${defaults[@]}" "$@")
fi
echo "lab: ${compare[*]}" >&2
rc=0
"${compare[@]}" || rc=$?
if [ -s "$stats" ]; then
    {
        echo
        echo "dropped by the kernel on each side of the cable, all runs of a setting together:"
        sed 's/^/  /' "$stats"
    } >&"$to"
fi
if [ "$rc" -eq 77 ]; then
    if [ "$vm" = yes ]; then
        echo "lab: this machine cannot run the VM (the reason is above)" >&2
    else
        echo "lab: this machine cannot run the lab (the reason is above); as root it can:" >&2
        echo "    sudo scripts/lab.sh${*:+ $*}" >&2
    fi
fi
exit "$rc"
