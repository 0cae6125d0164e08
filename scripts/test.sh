#!/usr/bin/env bash
# All tests: backend (xunit, real PostgreSQL), interop (independent gRPC clients), frontend unit tests, browser end-to-end.
# Ends with one line: "N passed, N failed, N skipped". Exit status is non-zero if anything failed or could not run.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
results="$repo/TestResults"
rm -rf "$results" && mkdir -p "$results"

passed=0 failed=0 skipped=0 broken=() failures=()
count() { passed=$((passed + ${1:-0})); failed=$((failed + ${2:-0})); skipped=$((skipped + ${3:-0})); }
section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "set-up"
scripts/bootstrap.sh test || { echo "set-up failed" >&2; echo "0 passed, 1 failed"; exit 1; }

section "build"
if ! dotnet build Invisible.Dapr.sln -nologo -v:q -clp:ErrorsOnly; then
  echo "0 passed, 1 failed"
  exit 1
fi

section "backend tests (dotnet test)"
dotnet test Invisible.Dapr.sln --no-build -nologo --logger "trx" --logger "console;verbosity=normal" \
  --results-directory "$results/dotnet" -- RunConfiguration.TreatNoTestsAsError=false 2>&1 | tee "$results/dotnet.log" \
  | grep -E --line-buffered '^\s*(Failed|Skipped) |error|Passed!|Failed!|Total tests|Test Run' || true
status=${PIPESTATUS[0]}
trx_total() { # sums one attribute of <Counters> over all TRX files
  grep -ho "<Counters [^>]*" "$results"/dotnet/*.trx 2>/dev/null | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' | awk '{ sum += $1 } END { print sum + 0 }'
}
p=$(trx_total passed); f=$(( $(trx_total failed) + $(trx_total error) + $(trx_total timeout) + $(trx_total aborted) )); s=$(( $(trx_total total) - $(trx_total executed) )) # a skipped test is counted in total, not in executed
count "${p:-0}" "${f:-0}" "${s:-0}"
echo "backend: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
mapfile -t -O "${#failures[@]}" failures < <(grep -E '^\s*Failed [A-Za-z_]' "$results/dotnet.log" | sed -E 's/^\s*Failed /backend: /; s/ \[[^]]*\]$//' | sort -u)
[ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ] && broken+=("backend tests exited $status without a failed test (see TestResults/dotnet.log)")

# Node's test runner (tap or spec reporter) and Vitest both print their totals; read them from the log.
node_suite() { # $1 = name, $2 = folder, then the command
  local name="$1" folder="$2"; shift 2
  section "$name"
  if [ ! -f "$folder/package.json" ]; then echo "(no $folder yet)"; return; fi
  local log="$results/$name.log"
  (cd "$folder" && NO_COLOR=1 FORCE_COLOR=0 "$@") 2>&1 | tee "$log.raw"
  local status=${PIPESTATUS[0]}
  sed 's/\x1b\[[0-9;]*m//g' "$log.raw" > "$log" && rm -f "$log.raw"
  local p f s
  if grep -qE '^\s*Tests\s+' "$log"; then # Vitest: "Tests  2 failed | 40 passed | 1 skipped (43)"
    local line; line=$(grep -E '^\s*Tests\s+' "$log" | tail -1)
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+'); f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+'); s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+')
  else # node --test: "# pass 5" (tap) or "ℹ pass 5" (spec)
    p=$(grep -oE '^(#|ℹ) pass [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$'); f=$(grep -oE '^(#|ℹ) fail [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$'); s=$(grep -oE '^(#|ℹ) skipped [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
  fi
  count "${p:-0}" "${f:-0}" "${s:-0}"
  # Vitest marks a failed test with ×, node --test with ✖ (spec) or "not ok" (tap).
  mapfile -t -O "${#failures[@]}" failures < <(grep -E '^\s*(×|✖|not ok [0-9]+ -) ' "$log" | grep -v 'failing tests:$' | sed -E "s/^\s*(×|✖|not ok [0-9]+ -) /$name: /; s/ \([0-9.]+ ?m?s\)$//" | sort -u)
  if [ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then broken+=("$name exited $status without a failed test (see TestResults/$name.log)"); fi
}
node_suite "frontend unit tests" frontend npm test
node_suite "gRPC interop" tests/interop npm test
node_suite "browser end-to-end" tests/e2e npm test

section "summary"
for test in "${failures[@]}"; do echo "failed: $test"; done
for problem in "${broken[@]}"; do echo "not counted: $problem"; done
failed=$((failed + ${#broken[@]}))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
