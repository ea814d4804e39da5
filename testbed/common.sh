# Sourced by the testbed scripts (not run by itself): paths, host registry, hosts.env.
# shellcheck shell=bash

TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${FERRY_TESTBED_WORK:-$TESTBED_DIR/work}
HOSTS_DIR=$WORK/hosts
REGISTRY=$HOSTS_DIR/registry        # lines "<name> <index>": a host keeps its ports
HOSTS_ENV=$WORK/hosts.env
SWTPM_CA_DIR=$WORK/swtpm-localca    # one local "TPM vendor" CA for all testbed hosts

LIBVIRT_PORT_BASE=16600             # + index
SWTPM_PORT_BASE=2321                # + 10*index (server), +1 ctrl
MIGRATION_PORT_BASE=49200           # + 20*index .. +19

# Serializes hosts-up and hosts-down (several users may share one work folder). Daemons
# started while it is held must get "9>&-" so that they do not inherit the lock.
take_lock() {
  mkdir -p "$HOSTS_DIR"
  exec 9>"$HOSTS_DIR/.lock"
  flock -w 300 9 || die "another hosts-up/hosts-down holds $HOSTS_DIR/.lock"
}

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

valid_name() { [[ "$1" =~ ^[a-z][a-z0-9]{0,15}$ ]]; }

# index of a registered host, empty when unknown
host_index() { [ -f "$REGISTRY" ] && awk -v n="$1" '$1==n {print $2; exit}' "$REGISTRY"; return 0; }

# registers a host (smallest free index) and prints its index
register_host() {
  local name=$1 idx i
  idx=$(host_index "$name")
  if [ -z "$idx" ]; then
    mkdir -p "$HOSTS_DIR"
    i=0
    while [ -f "$REGISTRY" ] && awk -v i="$i" '$2==i {f=1} END {exit !f}' "$REGISTRY"; do i=$((i+1)); done
    echo "$name $i" >> "$REGISTRY"
    idx=$i
  fi
  echo "$idx"
}

registered_hosts() { [ -f "$REGISTRY" ] && sort -k2,2n "$REGISTRY" | awk '{print $1}'; return 0; }

host_vars() { # sets H_* variables for host $1 (must be registered)
  local name=$1 idx
  idx=$(host_index "$name")
  [ -n "$idx" ] || die "unknown testbed host '$name'"
  H_NAME=$name
  H_INDEX=$idx
  H_UP=$(echo "$name" | tr '[:lower:]' '[:upper:]')
  H_DIR=$HOSTS_DIR/$name
  H_LIBVIRT_PORT=$((LIBVIRT_PORT_BASE + idx))
  H_URI=qemu+tcp://127.0.0.1:$H_LIBVIRT_PORT/system
  H_TPM_PORT=$((SWTPM_PORT_BASE + 10*idx))
  H_TPM_CTRL_PORT=$((H_TPM_PORT + 1))
  H_MIG_MIN=$((MIGRATION_PORT_BASE + 20*idx))
  H_MIG_MAX=$((H_MIG_MIN + 19))
  H_TPM_STATE=$H_DIR/tpm
  H_LIBVIRTD_PID=$H_DIR/libvirtd.pid
  H_SWTPM_PID=$H_DIR/swtpm.pid
  H_SOCKET=$H_DIR/run/libvirt-sock   # /run/libvirt/libvirt-sock inside its namespace
}

# prints the pid from pid file $1 when that process is alive and runs command $2
live_pid() {
  local f=$1 comm=$2 pid
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' < "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  echo "$pid"
}

port_listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# stops process $1 with SIGTERM, then SIGKILL after $2 seconds
stop_pid() {
  local pid=$1 secs=${2:-10} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i=0; i<secs*10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid did not stop after ${secs}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# rewrites $WORK/hosts.env for the hosts whose libvirtd and swtpm run
write_hosts_env() {
  local up=() n tmp
  for n in $(registered_hosts); do
    host_vars "$n"
    if live_pid "$H_LIBVIRTD_PID" libvirtd >/dev/null && live_pid "$H_SWTPM_PID" swtpm >/dev/null; then
      up+=("$n")
    fi
  done
  if [ ${#up[@]} -eq 0 ]; then rm -f "$HOSTS_ENV"; return 0; fi
  mkdir -p "$WORK"
  tmp=$HOSTS_ENV.tmp
  {
    echo "# Ferry testbed hosts, written by testbed/hosts-up and hosts-down. KEY=VALUE lines;"
    echo "# a value with a space is in double quotes. Source it in a shell, or parse it."
    echo "FERRY_TESTBED_WORK=$WORK"
    echo "FERRY_HOSTS=\"${up[*]}\""
    echo "FERRY_GUEST_KERNEL=$WORK/guest/vmlinuz"
    echo "FERRY_GUEST_INITRD=$WORK/guest/initrd.img"
    echo "FERRY_GUEST_DISK_TEMPLATE=$WORK/guest/disk-template.qcow2"
    for n in "${up[@]}"; do
      host_vars "$n"
      echo "FERRY_HOST_${H_UP}_URI=$H_URI"
      echo "FERRY_HOST_${H_UP}_SOCKET_URI=qemu:///system?socket=$H_SOCKET"
      echo "FERRY_HOST_${H_UP}_TPM=127.0.0.1:$H_TPM_PORT"
      echo "FERRY_HOST_${H_UP}_TPM_CTRL=127.0.0.1:$H_TPM_CTRL_PORT"
      echo "FERRY_HOST_${H_UP}_TPM_STATE=$H_TPM_STATE"
      echo "FERRY_HOST_${H_UP}_SWTPM_CA=$SWTPM_CA_DIR"
      echo "FERRY_HOST_${H_UP}_MIGRATION_PORTS=$H_MIG_MIN-$H_MIG_MAX"
      echo "FERRY_HOST_${H_UP}_DIR=$H_DIR"
    done
  } > "$tmp"
  mv "$tmp" "$HOSTS_ENV"
}
