#!/usr/bin/env bash
# `make test`: setup, then two lanes side by side, and each phase's wall time at the end.
#   checks:   ansible-lint and antsibull-changelog lint, ansible-test sanity, unit tests, loopback integration tests
#   molecule: the scenarios, themselves side by side (scripts/molecule_all.sh)
# On two cores the lanes slow each other (integration took 958 to 1696 s beside the scenarios,
# 818 s nearly alone): see the README's figures.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOGS="$ROOT/.cache/logs"
mkdir -p "$LOGS"
run_started=$(date +%s)
phases=()

# phase NAME COMMAND...: runs COMMAND, records its wall time and result.
phase() {
  local name=$1 start rc
  shift
  start=$(date +%s)
  echo "[test] === $name"
  "$@"
  rc=$?
  phases+=("$(printf '%-12s %5d s  %s' "$name" $(($(date +%s) - start)) "$([[ $rc == 0 ]] && echo passed || echo "FAILED (exit $rc)")")")
  return $rc
}

summary() {
  echo "[test] phase times (wall clock; the lanes overlap):"
  printf '[test]   %s\n' "${phases[@]}"
  echo "[test] whole run: $(($(date +%s) - run_started)) s"
}

phase setup ./scripts/setup.sh || { summary; exit 1; }

# The checks lane writes its phases to a file, read back once it is done (it runs in a subshell).
checks_lane() {
  local status=0
  phases=()
  phase lint make --no-print-directory lint || status=1
  phase sanity make --no-print-directory sanity || status=1
  phase unit make --no-print-directory units || status=1
  phase integration make --no-print-directory integration || status=1
  printf '%s\n' "${phases[@]}" >"$LOGS/checks-phases.txt"
  return $status
}

rm -f "$LOGS/checks-phases.txt"
checks_lane >"$LOGS/checks.log" 2>&1 &
checks_pid=$!
phase molecule make --no-print-directory molecule
molecule_rc=$?
wait "$checks_pid"
checks_rc=$?
echo "[test] --- checks lane output ($LOGS/checks.log):"
cat "$LOGS/checks.log"
if [[ -s "$LOGS/molecule-failures.txt" ]]; then
  echo "[test] --- what failed in the molecule scenarios ($LOGS/molecule-<scenario>.log has the rest):"
  cat "$LOGS/molecule-failures.txt"
fi
[[ -f "$LOGS/checks-phases.txt" ]] && mapfile -t -O "${#phases[@]}" phases <"$LOGS/checks-phases.txt"

summary
((molecule_rc == 0 && checks_rc == 0))
