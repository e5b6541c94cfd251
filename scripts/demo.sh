#!/bin/sh
# Command A's last step: hull makes its busybox base image locally (no network), then runs a
# container from it: the image's snapshot as an overlay lower layer, under a fresh upper layer.
# (`hull run` comes with the engine issue; until then the overlay and hull-runtime are driven here.)
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/hull-demo.XXXXXX)
cleanup() { umount "$dir/bundle/rootfs" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
hull="dist/hull --root $dir/images"
$hull image base busybox:latest >/dev/null
$hull images
lower=$($hull image inspect -f '{{.GraphDriver.Data.LowerDir}}' busybox)
mkdir -p "$dir/bundle/rootfs" "$dir/upper" "$dir/work"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/bundle/rootfs"
runtime=$PWD/dist/hull-runtime
(cd "$dir/bundle" && "$runtime" spec)
node_modules/.bin/node -e '
  const fs = require("fs"), p = process.argv[1];
  const c = JSON.parse(fs.readFileSync(p));
  c.process.terminal = false;
  c.root.readonly = false;
  c.process.args = ["sh", "-c", "echo Hello from a hull container: $(hostname), pid $$, $(uname -r)"];
  fs.writeFileSync(p, JSON.stringify(c, null, 2));
' "$dir/bundle/config.json"
cd "$dir/bundle"
"$runtime" --root "$dir/state" run "demo-$$"
