# Sourced (not run): a personal cloud of separate Ferry distributions on one machine, one a device,
# built from the build's tarball with scripts/distribution.sh. An IT center distribution (feature
# ferry-itcenter, H2 embedded) and agent distributions (feature ferry-agent), each agent on its own
# testbed host (testbed/hosts-up NAME: a libvirtd and an swtpm), enrolled at the IT center by
# invitation and attested.
#
# Usable alone, from ferry-demo, benchmarks or a Java integration test:
#   bash -c 'source scripts/cloud.sh; cloud_itcenter_start work/x/itc 60 18760 && ...'
# Every function takes folders and names as arguments, keeps nothing in shell variables between calls
# (what it learns it writes into the distribution folder: .https-port, .channel-port, .agent-id,
# .agent-name), prints what a caller needs on stdout, diagnostics on stderr, and returns non-zero on
# failure. Host facts come from testbed/work/hosts.env (FERRY_TESTBED_WORK overrides the folder): bring
# the hosts up first. Ports: SSH 8101+offset, RMI 1099+offset and 44444+offset (distribution.sh), plus
# the IT center's HTTPS port and each agent's channel port, chosen by the caller.

# shellcheck source=distribution.sh
. "$(dirname "${BASH_SOURCE[0]}")/distribution.sh"

CLOUD_TESTBED_WORK=${FERRY_TESTBED_WORK:-$FERRY_ROOT/testbed/work}

# cloud_cfg <file> <key> <value>: sets key = value in a Karaf .cfg (or .properties) file, replacing the
# key's line if there is one and appending it otherwise; makes the file if it does not exist.
cloud_cfg() {
  local file=$1 key=$2 value=$3 k
  touch "$file"
  k=$(printf '%s' "$key" | sed 's/[.[\*^$/]/\\&/g')
  if grep -qE "^[[:space:]]*$k[[:space:]]*=" "$file"; then
    # a multi-line value (backslash continuations) is not expected in the keys set here
    local v
    v=$(printf '%s' "$value" | sed 's/[&|\\]/\\&/g')
    sed -i -E "s|^[[:space:]]*$k[[:space:]]*=.*$|$key = $v|" "$file"
  else
    printf '%s = %s\n' "$key" "$value" >> "$file"
  fi
}

# cloud_host_env <host> <suffix>: a value of testbed/work/hosts.env for a host, e.g. cloud_host_env mid URI
# (FERRY_HOST_MID_URI). Fails if the host is not up.
cloud_host_env() {
  local host=$1 suffix=$2 var
  var="FERRY_HOST_$(printf '%s' "$host" | tr 'a-z' 'A-Z')_$suffix"
  # shellcheck disable=SC1091
  ( . "$CLOUD_TESTBED_WORK/hosts.env" 2>/dev/null; v=${!var:-}; [ -n "$v" ] || { echo "testbed host '$host' is not up (no $var in $CLOUD_TESTBED_WORK/hosts.env)" >&2; exit 1; }; printf '%s\n' "$v" )
}

# cloud_abs <path>: the path made absolute (configuration files must not depend on Karaf's working folder)
cloud_abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }

# cloud_wait <seconds> <what> <command...>: runs the command every second until it succeeds; fails
# with "<what> did not happen within N s" otherwise.
cloud_wait() {
  local secs=$1 what=$2 deadline; shift 2
  deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "$what did not happen within $secs s" >&2; return 1; }
    sleep 1
  done
}

# cloud_itcenter_start <dir> <offset> <https-port>: unpacks a fresh distribution into <dir> (whatever was
# there is stopped and removed) that boots ferry-itcenter instead of ferry-agent (so it uses no TPM and no
# libvirt), with HTTPS on 127.0.0.1:<https-port>, the registry in embedded H2 under data/itcenter, and the
# testbed's swtpm local CA as its only trusted TPM vendor CA; starts it and waits (up to 180 s) until the
# console answers itcenter:approval-key and GET /api/v1/ca answers over HTTPS. Writes <dir>/.https-port.
cloud_itcenter_start() {
  local dir off=$2 port=$3 ca=$CLOUD_TESTBED_WORK/swtpm-localca
  dir=$(cloud_abs "$1")
  [ -f "$ca/issuercert.pem" ] || { echo "no swtpm local CA in $ca: bring a testbed host up first" >&2; return 1; }
  dist_unpack "$dir" || return 1
  dist_ports "$dir" "$off"
  sed -i -E 's|ferry-agent/|ferry-itcenter/|' "$dir/etc/org.apache.karaf.features.cfg"
  grep -q 'ferry-itcenter/' "$dir/etc/org.apache.karaf.features.cfg" \
    || { echo "no ferry-agent in featuresBoot of $dir/etc/org.apache.karaf.features.cfg" >&2; return 1; }
  cat > "$dir/etc/io.ferry.itcenter.cfg" <<CFG
https.address = 127.0.0.1
https.port = $port
certificate.lifetime.hours = 24
CFG
  mkdir -p "$dir/etc/ferry-ek-ca"
  cp "$ca/issuercert.pem" "$dir/etc/ferry-ek-ca/issuercert.pem"
  cp "$ca/swtpm-localca-rootca-cert.pem" "$dir/etc/ferry-ek-ca/rootca.pem"
  cloud_cfg "$dir/etc/io.ferry.itcenter.enrolment.cfg" ek.ca.dir "$dir/etc/ferry-ek-ca"
  # the distribution's system folder lacks CXF's conditional cxf-karaf-commands (shell is installed, so the
  # resolver wants it): the local Maven repository, else Maven Central
  cloud_cfg "$dir/etc/org.ops4j.pax.url.mvn.cfg" org.ops4j.pax.url.mvn.repositories \
    "file:\${user.home}/.m2/repository@id=m2@snapshots, https://repo1.maven.org/maven2@id=central"
  echo "$port" > "$dir/.https-port"
  "$dir/bin/start" >/dev/null || return 1
  cloud_wait 180 "the IT center console in $dir" dist_cmd "$dir" "itcenter:approval-key" || { tail -30 "$dir/data/log/karaf.log" >&2; return 1; }
  cloud_wait 120 "the IT center's HTTPS on port $port" curl -skf -o /dev/null "https://127.0.0.1:$port/api/v1/ca" \
    || { tail -30 "$dir/data/log/karaf.log" >&2; return 1; }
  # early on a path can still answer 503 for a moment (the component restarting when seal storage registers, or
  # a route cached before the API's servlet was added, until itcenter-tls rebuilds the routes): answer twice in a row
  sleep 2
  cloud_wait 60 "the IT center's HTTPS on port $port (again)" curl -skf -o /dev/null "https://127.0.0.1:$port/api/v1/ca"
}

# cloud_itcenter_url <itc-dir>: prints the IT center's URL, https://127.0.0.1:<port>/
cloud_itcenter_url() { printf 'https://127.0.0.1:%s/\n' "$(cat "$1/.https-port")"; }

# cloud_itcenter_publish <itc-dir> [features-repository-uri]: publishes a features repository with all its
# bundles into the IT center's repository, recording their reference values (itcenter:publish). Default:
# the distribution's own Ferry features (mvn:io.ferry/ferry-features/<version>/xml/features). Prints the
# command's output.
cloud_itcenter_publish() {
  local itc=$1 uri=${2:-}
  if [ -z "$uri" ]; then
    uri=$(grep -o 'mvn:io.ferry/ferry-features/[^,[:space:]]*' "$itc/etc/org.apache.karaf.features.cfg" | head -1)
    [ -n "$uri" ] || { echo "no ferry-features repository in $itc/etc/org.apache.karaf.features.cfg" >&2; return 1; }
  fi
  dist_cmd "$itc" "itcenter:publish $uri"
}

# cloud_agent_configure <dir> <offset> <host> <itc-dir> <channel-port>: unpacks a fresh agent distribution
# into <dir> (whatever was there is stopped and removed) for testbed host <host>: its hypervisor host
# "local" is the host's libvirtd (migration and checkpoints use "local"), its TPM the host's swtpm, its
# agent channels on 127.0.0.1:<channel-port>; it trusts the IT center of <itc-dir> (running): the seal
# approval key and policy key from it, its features repository over HTTPS (pax-url with the IT center's
# root in etc/ferry-itcenter-trust.p12), the updater polling every ${CLOUD_UPDATER_POLL:-2} s. QEMU and
# libvirtd are not measured (the IT center has no reference values for the testbed's binaries). Does not
# start it. Writes <dir>/.channel-port and <dir>/.host.
cloud_agent_configure() {
  local dir off=$2 host=$3 itc=$4 cport=$5 uri tpm lport https
  dir=$(cloud_abs "$1")
  uri=$(cloud_host_env "$host" URI) || return 1
  tpm=$(cloud_host_env "$host" TPM) || return 1
  lport=${uri##*:}; lport=${lport%%/*}
  https=$(cat "$itc/.https-port") || return 1
  dist_unpack "$dir" || return 1
  dist_ports "$dir" "$off"
  cat > "$dir/etc/io.ferry.hypervisor-local.cfg" <<CFG
ferry.host = local
uri = $uri
# testbed hosts keep disk images in one folder that every host sees
storage.shared = true
CFG
  cloud_cfg "$dir/etc/io.ferry.tpm.cfg" device swtpm
  cloud_cfg "$dir/etc/io.ferry.tpm.cfg" swtpm.host "${tpm%:*}"
  cloud_cfg "$dir/etc/io.ferry.tpm.cfg" swtpm.port "${tpm##*:}"
  cloud_cfg "$dir/etc/io.ferry.attestation.cfg" binaries ""
  cloud_cfg "$dir/etc/io.ferry.migration.cfg" libvirt.address "127.0.0.1:$lport"
  cloud_cfg "$dir/etc/io.ferry.migration.cfg" host local
  # QEMU's migration stream sockets: /run/libvirt/ferry inside the host's libvirtd namespace is its run/ferry here
  cloud_cfg "$dir/etc/io.ferry.migration.cfg" stream.dir.local "$(cloud_host_env "$host" DIR)/run/ferry"
  cloud_cfg "$dir/etc/io.ferry.channel.cfg" port "$cport"
  cloud_cfg "$dir/etc/io.ferry.channel.cfg" bind.address 127.0.0.1
  cloud_cfg "$dir/etc/io.ferry.updater.cfg" poll.seconds "${CLOUD_UPDATER_POLL:-2}"
  # keys the IT center signs with: seal approvals and VM policies
  dist_cmd "$itc" "itcenter:approval-key" | tr -d '\r' | sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p' > "$dir/etc/ferry-approval-key.pem"
  dist_cmd "$itc" "itcenter:vms --key" | tr -d '\r' | sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p' > "$dir/etc/ferry-policy-key.pem"
  [ -s "$dir/etc/ferry-approval-key.pem" ] && [ -s "$dir/etc/ferry-policy-key.pem" ] \
    || { echo "could not get the IT center's approval and policy keys from $itc" >&2; return 1; }
  # the IT center's features repository, trusted through its root only
  curl -skf "https://127.0.0.1:$https/api/v1/ca" -o "$dir/etc/ferry-itcenter-root.der" || { echo "no root from the IT center" >&2; return 1; }
  rm -f "$dir/etc/ferry-itcenter-trust.p12"
  keytool -importcert -noprompt -alias ferry-itcenter -file "$dir/etc/ferry-itcenter-root.der" -storetype PKCS12 \
    -keystore "$dir/etc/ferry-itcenter-trust.p12" -storepass ferry-trust >/dev/null 2>&1 || { echo "keytool failed" >&2; return 1; }
  cloud_cfg "$dir/etc/org.ops4j.pax.url.mvn.cfg" org.ops4j.pax.url.mvn.repositories \
    "https://127.0.0.1:$https/repository@id=ferry-itcenter@snapshots"
  cloud_cfg "$dir/etc/org.ops4j.pax.url.mvn.cfg" org.ops4j.pax.url.mvn.certificateCheck true
  cat >> "$dir/etc/system.properties" <<'PROPS'

# the IT center's root (cloud_agent_configure): the only CA this JVM trusts for its own TLS clients
javax.net.ssl.trustStore = ${karaf.etc}/ferry-itcenter-trust.p12
javax.net.ssl.trustStoreType = PKCS12
javax.net.ssl.trustStorePassword = ferry-trust
PROPS
  echo "$cport" > "$dir/.channel-port"
  echo "$host" > "$dir/.host"
}

# cloud_agent_start <dir>: starts a configured agent distribution and waits (up to 240 s) until the
# ferry-agent feature is Started and seal storage has the IT center's approval key.
cloud_agent_start() {
  local dir=$1
  "$dir/bin/start" >/dev/null || return 1
  cloud_wait 240 "ferry-agent started in $dir" cloud__agent_started "$dir" \
    || { tail -30 "$dir/data/log/karaf.log" >&2; return 1; }
  cloud_wait 60 "seal storage's approval key in $dir" cloud__seal_keyed "$dir"
}
cloud__agent_started() { dist_cmd "$1" "feature:list -i" | grep -q 'ferry-agent .*Started'; }
cloud__seal_keyed() { dist_cmd "$1" "seal:request" | grep -q '^minimum.version'; }

# cloud_seal_approve <agent-dir> <itc-dir> <device>: the IT center approves the agent's platform as it is
# now for its seal storage: seal:request on the agent, itcenter:approve <device> on the IT center,
# seal:approve on the agent. <device> is the agent's name (or id). Run it after every change of the
# measured platform (bundles installed or updated). Prints the agent's answer.
cloud_seal_approve() {
  local dir=$1 itc=$2 device=$3 req
  req=$(mktemp /tmp/ferry-seal-request.XXXXXX)
  dist_cmd "$dir" "seal:request" | tr -d '\r' > "$req" || { rm -f "$req"; return 1; }
  dist_cmd "$itc" "itcenter:approve -o $req.approval $device $req" >/dev/null || { cat "$req" >&2; rm -f "$req"; return 1; }
  dist_cmd "$dir" "seal:approve $req.approval"
  local rc=$?
  rm -f "$req" "$req.approval"
  return $rc
}

# cloud_enrol <agent-dir> <itc-dir> <name> <owner> [group]: invites the device at the IT center
# (itcenter:invite) and enrols the agent with the token and the pinned root (agent:enrol); waits (up to
# 60 s) until agent:status says the IT center accepts its certificate. Seal storage must be approved first
# (cloud_seal_approve). Writes <agent-dir>/.agent-id and .agent-name; prints the agent id.
cloud_enrol() {
  local dir=$1 itc=$2 name=$3 owner=$4 group=${5:-} invite token root out id
  invite=$(dist_cmd "$itc" "itcenter:invite -o $owner ${group:+-g $group} $name" | tr -d '\r') || { echo "$invite" >&2; return 1; }
  token=$(printf '%s\n' "$invite" | awk '/token:/ {print $2; exit}')
  root=$(printf '%s\n' "$invite" | awk '/IT center root:/ {print $4; exit}')
  [ -n "$token" ] && [ -n "$root" ] || { echo "no token in: $invite" >&2; return 1; }
  out=$(dist_cmd "$dir" "agent:enrol -t $token -r $root $(cloud_itcenter_url "$itc") $name" | tr -d '\r') \
    || { echo "$out" >&2; return 1; }
  id=$(printf '%s\n' "$out" | sed -n 's/.*Enrolled as agent \([^ ]*\) .*/\1/p' | head -1)
  [ -n "$id" ] || { echo "no agent id in: $out" >&2; return 1; }
  echo "$id" > "$dir/.agent-id"
  echo "$name" > "$dir/.agent-name"
  cloud_wait 60 "$name's IT center link" cloud__reachable "$dir" || { dist_cmd "$dir" "agent:status" >&2; return 1; }
  echo "$id"
}
cloud__reachable() { dist_cmd "$1" "agent:status" | grep -q 'Reachable:    yes'; }

# cloud_attest <agent-dir> [level]: attests the agent at its IT center now (attestation:attest); with a
# level, remediates below it (installs what the IT center names) until it qualifies. Prints the output;
# fails if the command failed or, with a level, if the agent did not qualify.
cloud_attest() {
  local dir=$1 level=${2:-} out rc=0
  out=$(dist_cmd "$dir" "attestation:attest ${level:+-l $level}") || rc=$?
  printf '%s\n' "$out"
  [ $rc -eq 0 ] || return $rc
  if [ -n "$level" ]; then
    printf '%s\n' "$out" | grep -q "^Qualifies:  $level" || return 1
  fi
}

# cloud_agent_address <agent-dir>: prints the enrolled agent's channel address, <agent-id>@127.0.0.1:<port>
# (what migration:migrate and checkpoint:enable take)
cloud_agent_address() { printf '%s@127.0.0.1:%s\n' "$(cat "$1/.agent-id")" "$(cat "$1/.channel-port")"; }

# cloud_agent_up <dir> <offset> <host> <itc-dir> <channel-port> <name> <owner> [group]: all of the above
# for one device: configure, start, approve seal storage, enrol. Prints the agent id.
cloud_agent_up() {
  local dir=$1 off=$2 host=$3 itc=$4 cport=$5 name=$6 owner=$7 group=${8:-}
  cloud_agent_configure "$dir" "$off" "$host" "$itc" "$cport" || return 1
  cloud_agent_start "$dir" || return 1
  cloud_seal_approve "$dir" "$itc" "$name" >/dev/null || return 1
  cloud_enrol "$dir" "$itc" "$name" "$owner" "$group"
}

# cloud_bundle_version <jar> <version> <out-jar>: a copy of a bundle jar with another Bundle-Version (the
# same code, hence another digest: what a newer or older build of it looks like to attestation)
cloud_bundle_version() {
  local jar version=$2 out tmp
  jar=$(readlink -f "$1"); out=$(readlink -f "$3")
  tmp=$(mktemp -d)
  ( cd "$tmp" && unzip -q -o "$jar" META-INF/MANIFEST.MF ) || { rm -rf "$tmp"; return 1; }
  sed -i -E "s/^Bundle-Version: .*\r?$/Bundle-Version: $version\r/" "$tmp/META-INF/MANIFEST.MF"
  cp "$jar" "$out"
  ( cd "$tmp" && zip -q "$out" META-INF/MANIFEST.MF )
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

# cloud_release <itc-dir> <feature> <version> [label]: makes a new version of a Ferry feature on the IT center
# as a release build would: the feature's io.ferry bundle rebuilt with Bundle-Version <version>
# (cloud_bundle_version; same code, new digest) under mvn:io.ferry/<artifact>/<version>, and a features
# repository mvn:io.ferry/ferry-<label>-features/<version>/xml/features (label default "release") holding
# the feature at <version> (the distribution's definition of it, that bundle replaced), both in the IT
# center's system folder; then publishes it (itcenter:publish: files, reference values, release
# <feature>/<version>). Prints the features repository's URI.
cloud_release() {
  local itc=$1 feature=$2 version=$3 label=${4:-release} sys xml old artifact oldver jar repo out
  sys=$itc/system/io/ferry
  xml=$(ls "$sys"/ferry-features/*/ferry-features-*-features.xml 2>/dev/null | head -1)
  [ -n "$xml" ] || { echo "no ferry-features in $sys" >&2; return 1; }
  old=$(awk -v f="$feature" '$0 ~ "<feature name=\"" f "\"" {on=1} on {print} on && /^[[:space:]]*<\/feature>[[:space:]]*$/ {exit}' "$xml")
  [ -n "$old" ] || { echo "no feature $feature in $xml" >&2; return 1; }
  artifact=$(printf '%s\n' "$old" | sed -n 's|.*<bundle>mvn:io.ferry/\([^/]*\)/\([^<]*\)</bundle>.*|\1|p' | head -1)
  oldver=$(printf '%s\n' "$old" | sed -n 's|.*<bundle>mvn:io.ferry/\([^/]*\)/\([^<]*\)</bundle>.*|\2|p' | head -1)
  [ -n "$artifact" ] || { echo "feature $feature has no io.ferry bundle" >&2; return 1; }
  jar=$sys/$artifact/$version/$artifact-$version.jar
  mkdir -p "$(dirname "$jar")"
  cloud_bundle_version "$sys/$artifact/$oldver/$artifact-$oldver.jar" "$version" "$jar" || return 1
  repo=$sys/ferry-$label-features/$version/ferry-$label-features-$version-features.xml
  mkdir -p "$(dirname "$repo")"
  {
    printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<features name="ferry-%s-%s" xmlns="http://karaf.apache.org/xmlns/features/v1.6.0">\n' "$label" "$version"
    printf '%s\n' "$old" | sed -E "1s/version=\"[^\"]*\"/version=\"$version\"/; s|mvn:io.ferry/$artifact/$oldver|mvn:io.ferry/$artifact/$version|"
    printf '</features>\n'
  } > "$repo"
  out="mvn:io.ferry/ferry-$label-features/$version/xml/features"
  dist_cmd "$itc" "itcenter:publish $out" >&2 || return 1
  echo "$out"
}

# cloud_stop <dir...>: stops distributions (bin/stop, then kill -9 after 30 s)
cloud_stop() { local d; for d in "$@"; do [ -d "$d" ] && dist_stop "$d"; done; return 0; }
