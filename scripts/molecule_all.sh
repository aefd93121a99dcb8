#!/usr/bin/env bash
# Runs the molecule scenarios side by side, each on hosts and a network of its own, and prints
# each one's wall time and result. On a 2-core machine two at once already keep both cores busy (94 %
# measured), so the order hardly changes the total; all five at once leaves no scenario waiting for a
# lane at the end of the run (most of the monitoring scenario's time is waiting for alerts).
# MOLECULE_JOBS=1 runs them one after another.
#
#   scripts/molecule_all.sh [SCENARIO ...]     default: every scenario in the table below
#
# Knobs: MOLECULE_JOBS (scenarios at once, default 5), MOLECULE_TIMEOUT (per scenario, default
# 4500 s: the CI limit is 90 minutes, and five scenarios at once on two cores are slow).
# Logs: .cache/logs/molecule-<scenario>.log, each line stamped with the seconds since its start.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOGS="$ROOT/.cache/logs"
mkdir -p "$LOGS"
JOBS="${MOLECULE_JOBS:-5}"
TIMEOUT="${MOLECULE_TIMEOUT:-4500}"

# scenario, host name prefix, network (/24), Debian suite, host image, niceness. `default` converges
# from bare hosts (it tests installing Docker and the rest); the others start from seeded hosts.
# The monitoring scenario sets the whole run's length: after its converge it mostly waits (alerts,
# ten minutes with every server down), so it converges at full priority and the others yield the
# CPU to it (CI run 37: it ended at 3256 s, the others at 2469-2549 s). The niceness reaches the
# controller's side (ansible, pytest); what runs inside the hosts is Docker's, not a child of it,
# so a niced scenario's host containers get a CPU weight to match (weigh_hosts). Both are weights,
# not limits: a core the monitoring scenario leaves idle goes to the others.
SCENARIOS="
default        molecule 172.31.0 bookworm hacron/lab-host        10
overlay        overlay  172.31.1 trixie   hacron/lab-host-seeded 10
rolling_update rolling  172.31.2 bookworm hacron/lab-host-seeded 10
scaling        scaling  172.31.3 bookworm hacron/lab-host-seeded 10
monitoring     monitor  172.31.4 trixie   hacron/lab-host-seeded 0
"

# Gives the host containers of the niced scenarios a CPU weight below Docker's default (1024), once
# each, as they appear; runs until killed.
weigh_hosts() {
  local prefixes=$1 weighed=" " name
  while sleep 15; do
    for name in $(docker ps --format '{{.Names}}' | grep -E "^($prefixes)-" || true); do
      [[ "$weighed" == *" $name "* ]] && continue
      docker update --cpu-shares 256 "$name" >/dev/null 2>&1 && weighed+="$name "
    done
  done
}

wanted=("$@")
rm -f "$LOGS/molecule-failures.txt"
declare -A started=() pids=()
run_one() {
  local name=$1 prefix=$2 net=$3 suite=$4 image=$5 niceness=$6
  HACRON_MOLECULE_PREFIX=$prefix HACRON_MOLECULE_NET=$net HACRON_LAB_SUITE=$suite HACRON_LAB_IMAGE=$image \
    nice -n "$niceness" timeout --kill-after=60 "$TIMEOUT" molecule test -s "$name" 2>&1 | stamp >"$LOGS/molecule-$name.log"
}

# Prefixes each line with the seconds since the scenario started, so a log shows where time went.
stamp() {
  local line
  SECONDS=0
  while IFS= read -r line; do printf '%4d %s\n' "$SECONDS" "$line"; done
}

# A few lines that say what failed, for the end of `make test`'s output (CI shows little more than
# its head and tail): the molecule step that failed, each failed task with its message, each failed
# test with its assertion (pytest's short summary, cut to 300 characters), and the failed tests'
# messages in full, their "E " lines, cut to 400 characters each: a test that prints an account of
# its failure does it there.
failure_digest() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
    { sub(/^ *[0-9]+ /, ""); sub(/^ *│ /, "") }  # the stamp, and the frame molecule draws in colour
    /^TASK \[/ { task = $0 }
    /^fatal: \[|^failed: \[/ { print "  " task; print "    " substr($0, 1, 300); next }
    /^(FAILED|ERROR) [^ ]*tests\// { print "  " substr($0, 1, 300); next }
    /^E   / && explained++ < 80 { print "  " substr($0, 1, 400); next }
    /Executed: Failed|timed out|Timeout/ { print "  " substr($0, 1, 300) }
  ' | head -120
}

results=()
failed=0
wait_one() {
  local pid name rc
  wait -n -p pid "${pids[@]}"
  rc=$?
  for name in "${!pids[@]}"; do
    if [[ "${pids[$name]}" == "$pid" ]]; then
      unset "pids[$name]"
      local line
      line=$(printf '%-15s %s in %d s' "$name" "$([[ $rc == 0 ]] && echo passed || echo "FAILED (exit $rc)")" $(($(date +%s) - started[$name])))
      results+=("$line")
      echo "[molecule] $line (log: $LOGS/molecule-$name.log)"
      if [[ $rc != 0 ]]; then
        failed=1
        tail -40 "$LOGS/molecule-$name.log" | sed "s/^/[$name] /"
        { echo "[$name] $line"; failure_digest "$LOGS/molecule-$name.log" | sed "s/^/[$name] /"; } >>"$LOGS/molecule-failures.txt"
      fi
    fi
  done
}

niced="" favoured=0
while read -r name prefix net suite image niceness; do
  [[ -n "$name" ]] || continue
  if ((${#wanted[@]})) && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  if ((niceness > 0)); then niced+="${niced:+|}$prefix"; else favoured=1; fi
done <<<"$SCENARIOS"
weigher=""
if [[ -n "$niced" ]] && ((favoured)); then  # weights matter only beside a scenario that is not niced
  weigh_hosts "$niced" &
  weigher=$!
fi

while read -r name prefix net suite image niceness; do
  [[ -n "$name" ]] || continue
  if ((${#wanted[@]})) && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  while ((${#pids[@]} >= JOBS)); do wait_one; done
  echo "[molecule] starting $name (hosts $prefix-*, $net.0/24, $image:$suite)"
  started[$name]=$(date +%s)
  run_one "$name" "$prefix" "$net" "$suite" "$image" "$niceness" &
  pids[$name]=$!
done <<<"$SCENARIOS"
while ((${#pids[@]})); do wait_one; done
[[ -n "$weigher" ]] && kill "$weigher" 2>/dev/null

printf '[molecule] %s\n' "${results[@]}"
exit $failed
