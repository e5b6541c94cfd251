#!/bin/sh
# Command A's last step: hull makes its busybox base image locally (no network), then runs a
# container from it with `hull run`, in a private state root that is removed afterwards.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /var/tmp/hull-demo.XXXXXX)
hull="dist/hull --root $dir/root --runroot $dir/run"
cleanup() { $hull rm -f demo >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
$hull image base busybox:latest >/dev/null
$hull images
$hull run --rm --name demo busybox sh -c 'echo "Hello from a hull container: $(hostname), pid $$, $(uname -r)"'
