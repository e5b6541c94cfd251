#!/bin/sh
# Command A's last step: run a container from a busybox rootfs that hull makes locally.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/hull-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
scripts/make-busybox-bundle.sh "$dir/bundle" dist/hull-runtime
node_modules/.bin/node -e '
  const fs = require("fs"), p = process.argv[1];
  const c = JSON.parse(fs.readFileSync(p));
  c.process.terminal = false;
  c.process.args = ["sh", "-c", "echo Hello from a hull container: $(hostname), pid $$, $(uname -r)"];
  fs.writeFileSync(p, JSON.stringify(c, null, 2));
' "$dir/bundle/config.json"
runtime=$PWD/dist/hull-runtime
cd "$dir/bundle"
"$runtime" --root "$dir/state" run "demo-$$"
