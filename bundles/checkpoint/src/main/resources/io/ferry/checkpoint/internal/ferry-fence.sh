#!/bin/sh
# ferry-fence: Ferry's dead man's switch for one VM its agent protects with checkpoints (docs/checkpoint.md,
# "Fencing"). The agent starts it outside its JVM (setsid, under flock: one per VM) and keeps writing to the
# state file the moment, in centiseconds of /proc/uptime, until which the VM may run: shortly before its lease
# at the IT center can expire (the last renewal's sending time + the fence time). /proc/uptime is the boot-time
# clock: it runs on through a suspend, as the IT center's lease time does. Past the deadline it kills the VM's
# QEMU at once (SIGKILL; the pid from libvirt's pid file, checked to be QEMU started as "-name guest=VM,...")
# and destroys the domain through libvirt (alone that takes over a second: SIGTERM, then waiting for QEMU),
# whatever became of the agent (killed, hung, never restarted). The state file removed (protection ended:
# disable, fenced, VM gone) makes it stand down.
#
#   ferry-fence.sh VM STATE-FILE LIBVIRT-URI [VIRSH [QEMU-PID-DIR]]
vm=$1
state=$2
uri=$3
virsh=${4:-virsh}
piddir=${5:-/run/libvirt/qemu}
vm_re=$(printf '%s' "$vm" | sed 's/[.]/\\./g')
log() {
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ferry-fence $vm: $*"
}
trap 'log "terminated: standing down"; rm -f "$state.pid"; exit 0' TERM INT
echo $$ > "$state.pid"
log "on duty (pid $$, $uri)"
while :; do
    if [ ! -f "$state" ]; then
        log "protection ended: standing down"
        rm -f "$state.pid"
        exit 0
    fi
    deadline=
    read -r deadline < "$state" 2>/dev/null
    case $deadline in
        ''|*[!0-9]*) deadline=0 ;; # unreadable: fail safe
    esac
    read -r up _ < /proc/uptime
    now=${up%%.*}${up##*.}
    if [ "$now" -ge "$deadline" ]; then
        log "no lease renewal by the agent before the deadline (uptime ${deadline}0 ms, now ${now}0 ms): destroying"
        pid=
        read -r pid < "$piddir/$vm.pid" 2>/dev/null
        case $pid in
            ''|*[!0-9]*) ;;
            *)
                if tr '\000' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qx "guest=$vm_re,.*"; then
                    kill -9 "$pid" && log "killed QEMU pid $pid"
                fi ;;
        esac
        if out=$("$virsh" -q -c "$uri" destroy "$vm" 2>&1); then
            log "destroyed"
            rm -f "$state.pid"
            exit 3
        fi
        case $out in
            *"not found"*|*"not running"*|*"no domain"*)
                log "not running: $out"
                rm -f "$state.pid"
                exit 3 ;;
        esac
        log "destroy failed, trying again: $out"
    fi
    sleep 0.2
done
