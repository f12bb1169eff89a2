#!/usr/bin/env bash
# Builds tether-bench, runs the JMH benchmarks (with -prof gc, raw JSON kept), the retained-memory probe and the
# Go program, and prints one Markdown table of Tether against its peers.
#
#   tether-bench/run.sh              full run: 2 forks, 5+5 iterations of 1 s (under 30 minutes on 2 cores)
#   tether-bench/run.sh --quick      1 fork, 2 warm-up iterations of 1 s, 2 of 0.5 s (under 5 minutes)
#   tether-bench/run.sh --smoke      every benchmark once, tiny iterations; fails if any benchmark errors (CI)
#   tether-bench/run.sh --quick IsDoneBench RequestBench
#                                    only the JMH benchmarks matching these regexes (no Go, no memory probe)
#   tether-bench/run.sh --jmh ValueBench -p depth=100 -prof gc
#                                    build, then hand the rest of the line to JMH as it is
#
# Other options: --no-go (skip the Go program), --no-build (use what target/ holds).
# Results: tether-bench/results/<mode>/{jmh.json,jmh-single-shot.json,memory.json,go.json,table.md}.
#
# Go: uses `go` from PATH, else /usr/lib/go-1.19/bin/go, else installs Debian's golang-1.19-go with apt-get
# (as root, or with passwordless sudo). Nothing else is downloaded: the Go program has no module dependencies
# and runs with GOPROXY=off and GOTOOLCHAIN=local.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

mode=full
run_go=1
build=1
filters=()
jmh_args=()
passthrough=0
while [ $# -gt 0 ]; do
  if [ "$passthrough" = 1 ]; then jmh_args+=("$1"); shift; continue; fi
  case "$1" in
    --full) mode=full ;;
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --no-go) run_go=0 ;;
    --no-build) build=0 ;;
    --jmh) passthrough=1; mode=jmh ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) filters+=("$1") ;;
  esac
  shift
done

say() { printf '\n== %s\n' "$*" >&2; }

# --- a JDK >= 21: the one ../mvnw chooses -----------------------------------------------------------------------
major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
JAVA_HOME=$("$root/mvnw" --java-home)
export JAVA_HOME
java="$JAVA_HOME/bin/java"
jdk=$(major "$JAVA_HOME"); jdk=${jdk%%.*}
# The forks get a fixed heap so that GC sizing does not drift between benchmarks. ScopedValue is final from
# JDK 25; on 21-24 it is a preview API and needs --enable-preview (see ScopedValues.java).
fork_jvm_args="-Xms1g -Xmx1g"
if [ "$jdk" -lt 25 ]; then fork_jvm_args="$fork_jvm_args --enable-preview"; fi
# JMH 1.37 reads field offsets with sun.misc.Unsafe, which JDK 24+ warns about in every JVM.
host_jvm_args=()
if [ "$jdk" -ge 24 ]; then
  fork_jvm_args="$fork_jvm_args --sun-misc-unsafe-memory-access=allow"
  host_jvm_args=(--sun-misc-unsafe-memory-access=allow)
fi

# --- build ---------------------------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  say "building tether-core and tether-bench (JDK $jdk)"
  (cd "$root" && JAVA_HOME="$JAVA_HOME" ./mvnw -q -B -pl tether-bench -am package -DskipTests)
fi
[ -f "$here/target/bench.classpath" ] || { echo "run.sh: no build found; run without --no-build" >&2; exit 1; }
cp="$here/target/classes:$(cat "$here/target/bench.classpath")"
jmh() { "$java" "${host_jvm_args[@]}" -cp "$cp" org.openjdk.jmh.Main "$@"; }
# The smoke run keeps JMH's chatter in a log and shows it only when a benchmark fails.
jmh_logged() {
  if [ "$mode" != smoke ]; then jmh "$@"; return; fi
  local log="$out/jmh-$(( ++jmh_runs )).log"
  if ! jmh "$@" >"$log" 2>&1; then
    grep -v '^\s*at ' "$log" | tail -40 >&2
    echo "run.sh: a benchmark failed; full output in $log" >&2
    return 1
  fi
  awk '/^# Benchmark:/ {b = $3} /^# Parameters:/ {p = substr($0, 15)}
       /^# Run progress/ {print "  ok " b " " p; b = ""; p = ""}' "$log" >&2
}
jmh_runs=0

if [ "$mode" = jmh ]; then
  # JMH keeps only one -jvmArgsAppend: a caller's own replaces ours (then add -Xms1g -Xmx1g yourself).
  case " ${jmh_args[*]} " in
    *" -jvmArgsAppend "*) jmh "${jmh_args[@]}" ;;
    *) jmh -jvmArgsAppend "$fork_jvm_args" "${jmh_args[@]}" ;;
  esac
  exit $?
fi

# --- settings per mode ---------------------------------------------------------------------------------------
case "$mode" in
  smoke)
    avgt=(-f 1 -wi 0 -i 1 -r 100ms)
    single=(-f 1 -wi 0 -i 1 -p children=1000)
    mem_count=10000; go_benchtime=1x; go_count=1; go_children=1000 ;;
  quick)
    avgt=(-f 1 -wi 2 -w 1s -i 2 -r 500ms)
    single=(-f 1)
    mem_count=100000; go_benchtime=300ms; go_count=1; go_children=100000 ;;
  full)
    avgt=(-f 2 -wi 5 -w 1s -i 5 -r 1s)
    single=(-f 2)
    mem_count=100000; go_benchtime=1s; go_count=3; go_children=100000 ;;
esac
out="$here/results/$mode"
rm -rf "$out"
mkdir -p "$out"
common=(-prof gc -foe true -rf json -jvmArgsAppend "$fork_jvm_args")
files=()
started=$(date +%s)

# --- JMH -----------------------------------------------------------------------------------------------------
if [ ${#filters[@]} -gt 0 ]; then
  say "JMH ($mode): ${filters[*]}"
  jmh_logged "${filters[@]}" "${avgt[@]}" "${common[@]}" -rff "$out/jmh.json"
  files+=("$out/jmh.json")
  run_go=0; run_mem=0
else
  say "JMH ($mode): average-time benchmarks"
  jmh_logged 'dev\.tether\.bench\..*' -e 'ManyChildrenBench' "${avgt[@]}" "${common[@]}" -rff "$out/jmh.json"
  say "JMH ($mode): single-shot benchmarks"
  jmh_logged 'ManyChildrenBench' "${single[@]}" "${common[@]}" -rff "$out/jmh-single-shot.json"
  files+=("$out/jmh.json" "$out/jmh-single-shot.json")
  run_mem=1
fi

# --- retained memory -----------------------------------------------------------------------------------------
if [ "$run_mem" = 1 ]; then
  say "retained memory ($mem_count contexts per figure)"
  "$java" -XX:+UseSerialGC -Xms1g -Xmx1g -cp "$cp" dev.tether.bench.RetainedMemory "$mem_count" "$out/memory.json"
  files+=("$out/memory.json")
fi

# --- Go ------------------------------------------------------------------------------------------------------
no_go=()
if [ "$run_go" = 1 ]; then
  go_bin=""
  if command -v go >/dev/null 2>&1; then
    go_bin=$(command -v go)
  elif [ -x /usr/lib/go-1.19/bin/go ]; then
    go_bin=/usr/lib/go-1.19/bin/go
  else
    say "installing Debian's golang-1.19-go"
    if [ "$(id -u)" = 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      echo "run.sh: go is missing and apt-get needs root; install golang-1.19-go or pass --no-go" >&2; exit 1
    fi
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q golang-1.19-go
    go_bin=/usr/lib/go-1.19/bin/go
  fi
  say "Go ($("$go_bin" version | cut -d' ' -f3), benchtime $go_benchtime)"
  (cd "$here/go" && GOPROXY=off GOTOOLCHAIN=local "$go_bin" run . \
      -benchtime "$go_benchtime" -count "$go_count" -children "$go_children" -memcount "$mem_count" \
      -out "$out/go.json")
  files+=("$out/go.json")
else
  no_go=(--no-go)
fi

# --- the table -----------------------------------------------------------------------------------------------
strict=()
if [ "$mode" = smoke ] && [ ${#filters[@]} -eq 0 ]; then strict=(--strict); fi
say "table ($mode run, $(( $(date +%s) - started )) s)"
jvm=$("$java" -version 2>&1 | head -1)
title="Tether vs peers, $mode run: $jvm, JMH 1.37, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
if [ "$mode" = smoke ]; then
  title="$title. Smoke run: no warm-up, one 100 ms iteration, Go at 1x; it proves the benchmarks run, and its
numbers mean nothing."
fi
python3 "$here/table.py" "${strict[@]}" "${no_go[@]}" --title "$title" "${files[@]}" | tee "$out/table.md"
exit "${PIPESTATUS[0]}"
