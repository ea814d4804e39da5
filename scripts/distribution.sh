# Sourced by ferry-demo and the benchmarks (not run by itself): unpack, configure, start, drive
# and stop a Ferry distribution from the build, through Karaf's own bin/ scripts.
#
# Each function takes the distribution folder first. A distribution started here listens on
# ports offset from Karaf's defaults (SSH 8101, RMI 1099/44444) so that several can run at once.

FERRY_ROOT=${FERRY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
FERRY_USER=${FERRY_USER:-ferry}
FERRY_PASSWORD=${FERRY_PASSWORD:-ferry}
export JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}

# ferry_tarball: the distribution tarball: $FERRY_TARBALL if set, else the build's
ferry_tarball() {
  local t
  [ -n "${FERRY_TARBALL:-}" ] && { echo "$FERRY_TARBALL"; return 0; }
  t=$(ls "$FERRY_ROOT"/karaf-assembly/target/ferry-karaf-assembly-*.tar.gz 2>/dev/null | head -1)
  [ -n "$t" ] || { echo "no distribution built: run 'mvn -B install -DskipTests' first" >&2; return 1; }
  echo "$t"
}

# dist_unpack <dir>: a fresh distribution in <dir> (whatever was there is stopped and removed)
dist_unpack() {
  local dir=$1 tarball tmp
  tarball=$(ferry_tarball) || return 1
  [ -d "$dir" ] && dist_stop "$dir" >/dev/null 2>&1
  rm -rf "$dir"
  tmp=$(mktemp -d)
  tar xzf "$tarball" -C "$tmp"
  mkdir -p "$(dirname "$dir")"
  mv "$tmp"/ferry-karaf-assembly-* "$dir"
  rmdir "$tmp"
}

# dist_ports <dir> <offset>: SSH 8101+offset, RMI registry 1099+offset, RMI server 44444+offset
dist_ports() {
  local dir=$1 off=$2
  sed -i "s/^sshPort *=.*/sshPort = $((8101 + off))/" "$dir/etc/org.apache.karaf.shell.cfg"
  sed -i "s/^rmiRegistryPort *=.*/rmiRegistryPort = $((1099 + off))/; s/^rmiServerPort *=.*/rmiServerPort = $((44444 + off))/" \
    "$dir/etc/org.apache.karaf.management.cfg"
  echo "$((8101 + off))" > "$dir/.ssh-port"
}

# dist_host <dir> <name> <libvirt-uri>: one more hypervisor host for this distribution
dist_host() {
  local dir=$1 name=$2 uri=$3
  cat > "$dir/etc/io.ferry.hypervisor-$name.cfg" <<CFG
ferry.host = $name
uri = $uri
# testbed hosts keep disk images in one folder that every host sees
storage.shared = true
CFG
}

# dist_cmd <dir> <command...>: runs one console command; prints its output; fails if the command did
dist_cmd() {
  local dir=$1; shift
  local out rc=0
  out=$(echo "$*" | "$dir/bin/client" -a "$(cat "$dir/.ssh-port")" -u "$FERRY_USER" -p "$FERRY_PASSWORD" -b 2>&1) || rc=$?
  out=$(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g')
  printf '%s\n' "$out"
  if [ $rc -ne 0 ] || printf '%s' "$out" | grep -q "^Error executing command"; then
    return 1
  fi
}

# dist_start <dir> <host...>: starts Karaf and waits until the vm commands answer for every host
dist_start() {
  local dir=$1; shift
  "$dir/bin/start" >/dev/null
  local deadline=$((SECONDS + 120)) h
  for h in "$@"; do
    until dist_cmd "$dir" "vm:list -H $h" >/dev/null 2>&1; do
      if [ $SECONDS -ge $deadline ]; then
        echo "the distribution in $dir did not come up (see $dir/data/log/karaf.log); last answer:" >&2
        dist_cmd "$dir" "vm:list -H $h" >&2 || true
        return 1
      fi
      sleep 1
    done
  done
}

# dist_stop <dir>: stops Karaf and waits for it to exit
dist_stop() {
  local dir=$1 pid
  [ -f "$dir/karaf.pid" ] || return 0
  pid=$(cat "$dir/karaf.pid" 2>/dev/null || true)
  "$dir/bin/stop" >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
}

# guest_create <name> <vms-dir>: a fresh disk and XML for the test guest; prints the XML path
guest_create() {
  local name=$1 vms=$2 work
  work=${FERRY_TESTBED_WORK:-$FERRY_ROOT/testbed/work}
  mkdir -p "$vms"
  cp "$work/guest/disk-template.qcow2" "$vms/$name.qcow2"
  rm -f "$vms/$name.log"
  "$FERRY_ROOT/testbed/guest-xml" "$name" "$vms/$name.qcow2" "$vms/$name.log" > "$vms/$name.xml"
  echo "$vms/$name.xml"
}

# guest_counter <serial-log>: the last counter the guest printed (0 if none yet)
guest_counter() {
  local n
  n=$(grep -ao 'ferry-counter [0-9]*' "$1" 2>/dev/null | tail -1 | awk '{print $2}')
  echo "${n:-0}"
}

# guest_await_counter <serial-log> <value> [timeout-s]: waits until the counter reaches value
guest_await_counter() {
  local log=$1 value=$2 deadline=$((SECONDS + ${3:-120}))
  until [ "$(guest_counter "$log")" -ge "$value" ]; do
    [ $SECONDS -lt $deadline ] || { echo "the guest's counter did not reach $value (log $log)" >&2; return 1; }
    sleep 0.2
  done
}

# guest_boots / guest_disk_errors / guest_gaps <serial-log>: how often the guest booted, how often
# its disk gave back something else than it wrote, how often its counter skipped or went back
guest_boots() { grep -ac 'ferry-boot ' "$1" || true; }
guest_disk_errors() { grep -ac 'ferry-disk-error' "$1" || true; }
guest_gaps() {
  grep -ao 'ferry-counter [0-9]*' "$1" | awk '{ if (NR > 1 && $2 != p + 1) g++; p = $2 } END { print g + 0 }'
}

now_ms() { date +%s%3N; }
