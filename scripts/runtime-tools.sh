#!/bin/bash
# Runs opencontainers/runtime-tools' validation executables against crun and hull-runtime on
# this machine and prints one table row per validation: TAP ok / not-ok / skip counts for each
# runtime, and how many failure lines hull has that crun does not.
#
# Not part of `npm test`: CI has no copy of runtime-tools. Needs root, and the internet only
# for apt (golang-go, crun). Run one at a time: it starts containers with fixed cgroup paths
# (/cgrouptest, testdir/cgrouptest/container) that two runs would fight over.
#
# Usage:
#   scripts/runtime-tools.sh [SOURCE]          SOURCE, or env RUNTIME_TOOLS_SRC: a
#                                              runtime-tools tree, or a bare git dir of it
#                                              (its HEAD is exported)
# Environment:
#   RT_OUT        work dir for the build copy, Go cache and results (default /work/rt-out)
#   HULL_RUNTIME  the runtime under test (default <repo>/dist/hull-runtime; built if missing)
#   CRUN          the reference runtime (default: crun on PATH)
#   TESTS         space-separated validation names, or "all" (default: the cgroups, seccomp,
#                 devices, kill, delete, state, start, create and hooks validations)
#   RT_TIMEOUT    seconds per validation run (default 180)
#   ONLY          run only one side: "crun" or "hull"
#
# Results: $RT_OUT/results/<test>.<crun|hull>.{tap,err,rc,leak}, <test>.hull-only (failure
# lines of hull's that crun's run does not have, numbers normalised), and summary.txt (the
# table). A result is "pass" when the run exited 0, printed its plan, and has no not-ok line
# and no YAML "error" outside a test line. "leak:" names what a run left behind (containers
# of its own, the test cgroup dirs, temp bundles); the script removes it before the next run.
# Exit status: 0 when no validation passes on crun and fails on hull-runtime, else 1.
#
# Two shims keep the comparison about the runtimes rather than the tooling:
# - runtime-tools' go.mod says Go 1.21, Debian 12 has Go 1.19. The build copy gets stand-ins
#   for the few newer library calls it uses (package slices, sync.OnceValue(s),
#   strings.CutPrefix); nothing under test depends on them.
# - crun 1.8 rejects any ociVersion but 1.0.x ("unknown version specified") and
#   runtime-tools writes 1.3.0, so crun runs through a wrapper that rewrites only that
#   field of config.json at create/run. hull-runtime gets the config unchanged.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-${RUNTIME_TOOLS_SRC:-}}
out=${RT_OUT:-/work/rt-out}
hull=${HULL_RUNTIME:-$repo/dist/hull-runtime}
timeout_s=${RT_TIMEOUT:-180}
only=${ONLY:-}

die() { echo "runtime-tools.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the validations create containers and cgroups)"
[ -n "$src" ] || die "no runtime-tools source: pass a directory or set RUNTIME_TOOLS_SRC"
[ -d "$src" ] || die "runtime-tools source $src is not a directory"

need_pkg() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (apt)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}
need_pkg go golang-go
need_pkg make make
need_pkg timeout coreutils
crun_bin=${CRUN:-}
if [ -z "$crun_bin" ]; then need_pkg crun crun; crun_bin=$(command -v crun); fi
if [ ! -x "$hull" ]; then
  echo "building hull (no $hull)" >&2
  (cd "$repo" && npm run build --silent)
fi

# crun 1.8 refuses a v1 hybrid whose cgroup2 mount holds any controller (MACHINE.md has
# the workaround for hugetlb); then every crun column would only show that refusal.
for c in /sys/fs/cgroup/unified/cgroup.controllers; do
  if [ -s "$c" ] && [ "$only" != hull ]; then
    echo "runtime-tools.sh: warning: cgroup2 at ${c%/*} holds controllers ($(cat "$c")); crun will refuse every container (hybrid mode)" >&2
  fi
done

mkdir -p "$out"
build=$out/build
results=$out/results
rm -rf "$build" "$results"
mkdir -p "$build" "$results" "$out/bin"

# A private copy to build in: the source stays untouched, and the shims never reach it.
if [ -f "$src/go.mod" ]; then
  cp -a "$src/." "$build/"
elif git --git-dir="$src" rev-parse --git-dir >/dev/null 2>&1; then
  git --git-dir="$src" archive HEAD | tar -x -C "$build"
else
  die "$src holds neither go.mod nor a git repository"
fi
[ -f "$build/rootfs-amd64.tar.gz" ] || die "$src has no rootfs-amd64.tar.gz"
find "$build/validation" -name '*.t' -delete
rm -f "$build/runtimetest"

export GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local
export GOCACHE=$out/gocache GOPATH=$out/gopath

go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ "${go_minor:-0}" -lt 21 ]; then
  if [ ! -d "$(go env GOROOT)/src/slices" ] && grep -rqs '"slices"' --include='*.go' "$build"; then
    mkdir -p "$build/vendor/slices"
    cat >"$build/vendor/slices/slices.go" <<'EOF'
// Package slices stands in for the Go 1.21 standard package (only what runtime-tools calls).
package slices

func Contains[S ~[]E, E comparable](s S, v E) bool {
	for i := range s {
		if s[i] == v {
			return true
		}
	}
	return false
}

func DeleteFunc[S ~[]E, E any](s S, del func(E) bool) S {
	kept := s[:0]
	for _, e := range s {
		if !del(e) {
			kept = append(kept, e)
		}
	}
	return kept
}
EOF
  fi
  # Each file that calls sync.OnceValue(s) or strings.CutPrefix gets a same-package copy.
  { grep -rlE 'sync\.OnceValues?\(|strings\.CutPrefix\(' --include='*.go' "$build" || true; } | while read -r f; do
    pkg=$(sed -n 's/^package \([a-zA-Z0-9_]*\).*/\1/p' "$f" | head -1)
    shim=$(dirname "$f")/zz_go119_compat.go
    sed -i -E 's/sync\.OnceValues\(/go119OnceValues(/g; s/sync\.OnceValue\(/go119OnceValue(/g;
               s/strings\.CutPrefix\(/go119CutPrefix(/g' "$f"
    # The file may no longer use sync/strings directly; a blank use keeps the import legal.
    printf '\nvar _ = sync.NewCond\nvar _ = strings.HasPrefix\n' >>"$f"
    grep -q '"sync"' "$f" || sed -i '0,/^import (/s//import (\n\t"sync"/' "$f"
    grep -q '"strings"' "$f" || sed -i '0,/^import (/s//import (\n\t"strings"/' "$f"
    [ -f "$shim" ] && continue
    cat >"$shim" <<EOF
package $pkg

import (
	"strings"
	"sync"
)

// Stand-ins for Go 1.20/1.21 library calls, so this copy builds with Go 1.19.
func go119OnceValue[T any](f func() T) func() T {
	var once sync.Once
	var r T
	return func() T { once.Do(func() { r = f() }); return r }
}

func go119OnceValues[T1, T2 any](f func() (T1, T2)) func() (T1, T2) {
	var once sync.Once
	var r1 T1
	var r2 T2
	return func() (T1, T2) { once.Do(func() { r1, r2 = f() }); return r1, r2 }
}

func go119CutPrefix(s, prefix string) (string, bool) {
	if !strings.HasPrefix(s, prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
EOF
  done
fi

default_tests="linux_cgroups_blkio linux_cgroups_cpus linux_cgroups_devices linux_cgroups_hugetlb
  linux_cgroups_memory linux_cgroups_network linux_cgroups_pids linux_cgroups_relative_blkio
  linux_cgroups_relative_cpus linux_cgroups_relative_devices linux_cgroups_relative_hugetlb
  linux_cgroups_relative_memory linux_cgroups_relative_network linux_cgroups_relative_pids
  linux_seccomp linux_devices kill kill_no_effect killsig delete delete_only_create_resources
  delete_resources state start create hooks hooks_stdin prestart prestart_fail poststart
  poststart_fail poststop poststop_fail"
tests=${TESTS:-$default_tests}
if [ "$tests" = all ]; then
  tests=$(cd "$build/validation" && for d in */; do d=${d%/}; if [ "$d" != util ]; then echo "$d"; fi; done)
fi
targets=""
for t in $tests; do
  [ -f "$build/validation/$t/$t.go" ] || die "no validation named $t in $src"
  targets="$targets validation/$t/$t.t"
done
echo "building runtimetest and $(echo $tests | wc -w) validations with $(go env GOVERSION)" >&2
make -C "$build" -s runtimetest $targets >"$out/build.log" 2>&1 ||
  { cat "$out/build.log" >&2; die "build failed (log: $out/build.log)"; }

# crun 1.8 only takes ociVersion 1.0.x; rewrite that field at create/run and become crun.
cat >"$out/bin/crun" <<EOF
#!/bin/sh
verb=""; bundle=.; prev=""
for a in "\$@"; do
  case "\$prev" in --bundle|-b) bundle=\$a ;; esac
  case "\$a" in --bundle=*) bundle=\${a#--bundle=} ;; esac
  case "\$prev" in --root|--log|--log-format) prev=\$a; continue ;; esac
  if [ -z "\$verb" ]; then case "\$a" in -*) ;; *) verb=\$a ;; esac; fi
  prev=\$a
done
case "\$verb" in create|run)
  [ -f "\$bundle/config.json" ] &&
    sed -i 's/"ociVersion":[[:space:]]*"1\.[1-9][0-9a-z.+-]*"/"ociVersion": "1.0.2"/' "\$bundle/config.json"
esac
exec "$crun_bin" "\$@"
EOF
chmod +x "$out/bin/crun"

cg_leftovers() {
  for d in /sys/fs/cgroup/*/cgrouptest /sys/fs/cgroup/*/testdir /sys/fs/cgroup/unified/cgrouptest; do
    [ -d "$d" ] && echo "$d"
  done | sort -u
}

uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# A validation that dies leaves its container, cgroup and bundle behind. Remove what this
# run made (a new uuid-named container whose bundle is a runtime-tools temp dir; the
# fixed test cgroup paths; new /tmp/ocitest* dirs and mounts under them) so the next run
# starts clean, and say so in the table. Other people's containers are never touched.
clean_after() { # runtime ids_before bundles_before
  local rt=$1 before=$2 bundles=$3 leaked=() id d
  for id in $("$rt" list -q 2>/dev/null | grep -E "$uuid_re"); do
    grep -qxF "$id" <<<"$before" && continue
    "$rt" state "$id" 2>/dev/null | grep -q '"bundle": *"/tmp/ocitest' || continue
    leaked+=(container)
    "$rt" delete --force "$id" >/dev/null 2>&1 || true
  done
  for d in $(cg_leftovers); do
    leaked+=(cgroup)
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [ -d "$d" ] && leaked+=(cgroup-busy:"$d")
  done
  for d in /tmp/ocitest*; do
    [ -d "$d" ] || continue
    grep -qxF "$d" <<<"$bundles" && continue
    leaked+=(bundle)
    # A container without a mount namespace mounts its /proc, /dev... on the host (crun
    # does); those mounts are under this run's own temp bundle, so they go too.
    local m mounts
    mounts=$(awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    [ -z "$mounts" ] || leaked+=(host-mounts)
    for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    if awk -v d="$d" '$5 == d || index($5, d "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
      leaked+=(mount-busy:"$d")
    else
      rm -rf --one-file-system "$d"
    fi
  done
  [ ${#leaked[@]} = 0 ] || printf '%s\n' "${leaked[@]}" | sort -u | paste -sd, -
}

run_one() { # test side runtime
  local t=$1 side=$2 rt=$3 base=$results/$1.$2 before bundles rc=0
  before=$("$rt" list -q 2>/dev/null || true)
  bundles=$(ls -d /tmp/ocitest* 2>/dev/null || true)
  (cd "$build" && RUNTIME=$rt timeout --kill-after=10 "$timeout_s" "validation/$t/$t.t" \
    </dev/null >"$base.tap" 2>"$base.err") || rc=$?
  echo "$rc" >"$base.rc"
  clean_after "$rt" "$before" "$bundles" >"$base.leak"
}

# One line per failure, numbers and ids normalised so two runs compare: each not-ok line's
# description, and each "error" of a YAML block that follows no test line (the hook
# validations report that way, under a 1..0 plan).
failures() { # tapfile
  awk '
    /^(not )?ok / { attached = 1 }
    /^not ok / { d = $0; sub(/^not ok [0-9]+( - )?/, "", d); print d; next }
    /^ok / { next }
    /^  ---/ { inblk = 1; orphan = !attached; next }
    /^  \.\.\./ { inblk = 0; attached = 0; next }
    inblk && orphan && /"error": "[^"]/ {
      e = $0; sub(/^ *"error": "/, "", e); sub(/\\n.*/, "", e); sub(/",?$/, "", e); print "error: " e
    }' "$1" | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/ID/g; s/[0-9]+/N/g' | sort
}

counts() { # base -> "verdict ok/notok/skip[ err:N][ rc=N]"
  local f=$1.tap ok notok skip plan errs rc verdict=pass
  ok=$(grep -cE '^ok ' "$f" || true)
  skip=$(grep -cE '^ok [0-9]+ .*# ?SKIP' "$f" || true)
  notok=$(grep -cE '^not ok ' "$f" || true)
  plan=$(grep -cE '^1\.\.[0-9]+' "$f" || true)
  errs=$(failures "$f" | grep -c '^error: ' || true)
  rc=$(cat "$1.rc")
  if [ "$notok" -gt 0 ] || [ "$errs" -gt 0 ] || [ "$rc" != 0 ] || [ "$plan" = 0 ]; then verdict=FAIL; fi
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then verdict=TIMEOUT; fi
  local extra=""
  [ "$errs" = 0 ] || extra=" err:$errs"
  [ "$rc" = 0 ] || extra="$extra rc=$rc"
  echo "$verdict $((ok - skip))/$notok/$skip$extra"
}

both=0; regressions=""; partial=""
printf '%-32s %-30s %-30s %s\n' test "crun: result ok/nok/skip" "hull: result ok/nok/skip" "hull-only failures" >"$results/summary.txt"
for t in $tests; do
  echo "running $t" >&2
  [ "$only" = hull ] || run_one "$t" crun "$out/bin/crun"
  [ "$only" = crun ] || run_one "$t" hull "$hull"
  c="-"; h="-"; extra="-"
  if [ "$only" != hull ]; then
    c=$(counts "$results/$t.crun")
    [ -s "$results/$t.crun.leak" ] && c="$c leak:$(cat "$results/$t.crun.leak")"
  fi
  if [ "$only" != crun ]; then
    h=$(counts "$results/$t.hull")
    [ -s "$results/$t.hull.leak" ] && h="$h leak:$(cat "$results/$t.hull.leak")"
  fi
  if [ -z "$only" ]; then
    comm -13 <(failures "$results/$t.crun.tap") <(failures "$results/$t.hull.tap") >"$results/$t.hull-only"
    extra=$(wc -l <"$results/$t.hull-only")
    # A run that died before its plan fails without a not-ok line; count that too.
    case "$c $h" in pass*FAIL*|pass*TIMEOUT*) [ "$extra" = 0 ] && extra="died" ;; esac
  fi
  printf '%-32s %-30s %-30s %s\n' "$t" "$c" "$h" "$extra" >>"$results/summary.txt"
  case "$c $h" in
    pass*pass*) both=$((both + 1)) ;;
    pass*) regressions="$regressions $t" ;;
    *) if [ "$extra" != 0 ] && [ "$extra" != - ]; then partial="$partial $t"; fi ;;
  esac
done
[ -z "$only" ] && {
  echo
  echo "both pass: $both; crun passes, hull fails:${regressions:- none}"
  echo "crun fails too, hull has extra failures:${partial:- none}"
  echo "details: $results/<test>.{crun,hull}.{tap,err} and <test>.hull-only"
} >>"$results/summary.txt"
cat "$results/summary.txt"
[ -z "$regressions" ]
