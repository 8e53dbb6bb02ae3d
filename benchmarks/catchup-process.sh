#!/usr/bin/env bash
# Times the catch-up of N commits of one tweet each (default 2,000) by fresh `replikon stream
# --until-synced` processes against a `replikon peer` process: what a user runs, JVM start-up
# included, with small commits so that the per-commit cost (hashing, an Ed25519 verification)
# shows. Three stream runs against one peer; prints each run's seconds.
#
#   benchmarks/catchup-process.sh            # 2,000 commits
#   benchmarks/catchup-process.sh 10000
set -euo pipefail
root="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n=${1:-2000}
jar="$root/benchmarks/target/benchmarks.jar"
if [[ ! -f $jar ]]; then
  mvn -B -q -f "$root/pom.xml" -pl benchmarks -am package -DskipTests
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/replikon-catchup-XXXX")
crdt="alice/$(cat /proc/sys/kernel/random/uuid)"
java -cp "$jar" io.replikon.bench.SmallCommitStore "$work/peer" "$crdt" "$n" >"$work/store.log" 2>&1
"$root/replikon" peer --port 0 --store "$work/peer" >"$work/peer.log" 2>&1 &
peer=$!
trap 'kill $peer 2>/dev/null || true' EXIT
url=
for _ in $(seq 120); do
  url=$(grep -o 'ws://127.0.0.1:[0-9]*/replikon' "$work/peer.log" | head -1 || true)
  [[ -n $url ]] && break
  sleep 0.5
done
[[ -n $url ]] || { echo "the peer did not start: $work/peer.log" >&2; exit 1; }
echo "$n commits of one tweet at $crdt, served by $url (work: $work)"
for run in 1 2 3; do
  start=$(date +%s%N)
  "$root/replikon" stream --connect "$url" --crdt "$crdt" --into "jsonl:$work/out$run.jsonl" \
    --until-synced >"$work/stream$run.log" 2>&1
  end=$(date +%s%N)
  echo "stream run $run: $(( (end - start) / 1000000 )) ms, $(wc -l <"$work/out$run.jsonl") lines"
done
