#!/usr/bin/env bash
# What the prediction log costs a workspace endpoint end to end: `cairn server` with endpoint
# `bench` (a 100-tree, depth-6 model trained on telco_churn.csv), single-row JSON requests from
# `wrk -t1 -c32` on the same machine (each a different customer's row, BODIES=4000 of them),
# alternating the endpoint's sample rate between 0 (nothing logged) and 1 (every request's inputs
# and outputs logged). Prints requests/s per run, the medians and their ratio (target: logging
# everything keeps ≥ 0.90 of the throughput).
#   bench/endpoint_http_bench.sh [CAIRN_BINARY] [RUNS] [SECONDS]
set -euo pipefail
cairn_bin=$(realpath "${1:-build/cairn}")
runs=${2:-5}
seconds=${3:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
csv="${CAIRN_SHARED:-$here/../shared}/data/telco_churn.csv"
work=$(mktemp -d /tmp/cairn-endpoint-bench.XXXXXX)
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$cairn_bin" server --data "$work/data" --port 0 --port-file "$work/port" --no-access-log 2>"$work/server.log" &
server=$!
for _ in $(seq 1 500); do [[ -s $work/port ]] && break; sleep 0.02; done
export CAIRN_TRACKING_URI="http://127.0.0.1:$(cat "$work/port")"
c() { "$cairn_bin" "$@" >/dev/null; }
c data snapshot telco "$csv"
c train --data telco --target churn --param max_depth=6 --param num_boost_round=100 \
  --param early_stopping_rounds=0 --register bench
c endpoints create bench
c deployments create --endpoint bench --name blue --model models:/bench/1
c endpoints traffic bench blue=100
# Distinct single-row requests, one per customer of telco_churn.csv (the rows' raw values, typed
# as the model's input example types them): a repeated row would compress to almost nothing and
# hide what logging real traffic costs. wrk cycles through them.
"$cairn_bin" artifacts download "$("$cairn_bin" --output json models show models:/bench/1 |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["model_version"]["run_id"])')" \
  model/input_example.json --to "$work" >/dev/null
/usr/bin/python3 - "$work/model/input_example.json" "$csv" "$work/bodies.jsonl" "${BODIES:-4000}" <<'PY'
import csv, json, sys
example = json.load(open(sys.argv[1]))
columns = example["columns"]
kinds = {}
for i, name in enumerate(columns):
    seen = {type(row[i]) for row in example["data"] if row[i] is not None}
    kinds[name] = bool if bool in seen else str if str in seen else float if float in seen else int
def value(kind, field):
    if field == "":
        return None
    if kind is bool:
        return field.strip().lower() in ("1", "true", "yes", "t", "y")
    return kind(float(field)) if kind is int else kind(field)
with open(sys.argv[2], newline="") as f, open(sys.argv[3], "w") as out:
    for n, row in enumerate(csv.DictReader(f)):
        if n >= int(sys.argv[4]):
            break
        body = {"dataframe_split": {"columns": columns,
                                    "data": [[value(kinds[c], row[c]) for c in columns]]}}
        out.write(json.dumps(body, separators=(",", ":")) + "\n")
PY
cat >"$work/post.lua" <<LUA
local requests = {}
for body in io.lines("$work/bodies.jsonl") do
  requests[#requests + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
local next_request = 0
request = function()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
LUA
url="$CAIRN_TRACKING_URI/endpoints/bench/invocations"
declare -a off on
for run in $(seq 1 "$runs"); do
  for rate in 0 1; do
    c endpoints update bench --sample-rate "$rate"
    wrk -t1 -c32 -d"${seconds}s" -s "$work/post.lua" "$url" >"$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then
      echo "failed requests:" >&2; cat "$work/wrk.out" >&2; exit 1
    fi
    rps=$(awk '/Requests\/sec/{print $2}' "$work/wrk.out")
    echo "run $run  sample rate $rate  $rps requests/s"
    if [[ $rate == 0 ]]; then off+=("$rps"); else on+=("$rps"); fi
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
m_off=$(median "${off[@]}"); m_on=$(median "${on[@]}")
echo "median: not logged $m_off requests/s, everything logged $m_on requests/s, ratio $(awk -v a="$m_on" -v b="$m_off" 'BEGIN{printf "%.3f", a/b}')"
"$cairn_bin" --output json endpoints predictions bench --limit 1 >/dev/null
