# Shared helpers for bench/*.sh (sourced, not run).

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# need_cmd <command> <debian-package>...: installs the packages with apt-get when the command
# is missing (non-interactive; tshark's debconf question is preseeded: no setuid dumpcap).
need_cmd() {
    local cmd=$1
    shift
    command -v "$cmd" >/dev/null 2>&1 && return 0
    echo "bench: $cmd missing, installing: $*" >&2
    if [ -z "${_BENCH_APT_UPDATED:-}" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        _BENCH_APT_UPDATED=1
    fi
    if [ "$cmd" = tshark ]; then
        echo 'wireshark-common wireshark-common/install-setuid boolean false' |
            as_root debconf-set-selections
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
    command -v "$cmd" >/dev/null 2>&1 || { echo "bench: $cmd still missing after installing $*" >&2; exit 1; }
}

# Seconds since the epoch, with fractions.
now() { date +%s.%N; }

# elapsed <start>: seconds since <start>, two decimals.
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }
