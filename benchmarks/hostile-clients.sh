#!/usr/bin/env bash
# Runs the HostileClients harness (issue 11) against the replikon source tree given with --tree
# (default: this repository). Builds the benchmarks jar first unless it exists; raises this
# process's open-file limit to its hard limit so that 5,000 connections fit (the peer inherits it).
#
#   benchmarks/hostile-clients.sh --tree /work/main              # every attack
#   benchmarks/hostile-clients.sh --tree . --only ping-flood     # one attack
#   benchmarks/hostile-clients.sh --java-opts "-Xmx512m" --keep  # other heap; keep logs/stores
set -euo pipefail
root="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/benchmarks/target/benchmarks.jar"
if [[ ! -f $jar ]]; then
  mvn -B -q -f "$root/pom.xml" -pl benchmarks -am package -DskipTests
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec java -Xmx1g -cp "$jar" io.replikon.bench.HostileClients "$@"
