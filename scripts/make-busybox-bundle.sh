#!/bin/sh
# Make an OCI bundle (rootfs + config.json) from the host's busybox-static, with no network.
# Usage: make-busybox-bundle.sh DIR [hull-runtime]
set -eu
dir=$1
runtime=$(realpath "${2:-$(dirname "$0")/../dist/hull-runtime}")
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-busybox-bundle: $bb is missing: apt-get install busybox-static" >&2; exit 1; }
ldd "$bb" 2>&1 | grep -q "not a dynamic" || {
  echo "make-busybox-bundle: $bb is not static: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir/rootfs"
cd "$dir/rootfs"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home var/run
chmod 1777 tmp
cp "$bb" bin/busybox
for applet in $(bin/busybox --list-full); do
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > etc/passwd
echo 'nobody:x:65534:65534:nobody:/home:/bin/false' >> etc/passwd
echo 'root:x:0:' > etc/group
echo 'nogroup:x:65534:' >> etc/group
cd ..
[ -f config.json ] || "$runtime" spec
