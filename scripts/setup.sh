#!/bin/sh
# Idempotent set-up for `npm start` and `npm test`: installs what is missing, quickly skips what is not.
set -eu
cd "$(dirname "$0")/.."

# System packages: binary -> Debian package. `setup.sh test` (npm's pretest) adds what only the
# tests need: skopeo, umoci and docker-registry (CNCF distribution), which the image tests check
# Hearth's images and registry client against; openssl for the token-auth test's signing
# certificate; chromium, which the dashboard test drives headless with playwright-core; dnsmasq,
# the stand-in DNS server the resolver test runs in its own network namespace; redis-sentinel (its
# own Debian package), for the Redis failover test.
# network "bridge" needs iptables rules, `ip netns` and the CNI plugins (Debian: /usr/lib/cni).
pairs="runc:runc redis-server:redis-server tini-static:tini mount:mount iptables:iptables ip:iproute2"
[ "${1:-}" = test ] && pairs="$pairs skopeo:skopeo umoci:umoci docker-registry:docker-registry openssl:openssl chromium:chromium dnsmasq:dnsmasq-base redis-sentinel:redis-sentinel"
missing=""
for pair in $pairs; do
  bin=${pair%%:*}; pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || [ -x "/usr/bin/$bin" ] || missing="$missing $pkg"
done
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || missing="$missing containernetworking-plugins"
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages:$missing (run as root, or install them)" >&2
    exit 1
  fi
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # redis-server's postinst may try to start a system service; Hearth runs its own, so ignore that.
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm dependencies (workspaces include functions/*): reinstall when the lockfile changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi
