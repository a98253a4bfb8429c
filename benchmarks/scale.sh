#!/usr/bin/env bash
# One full run of the clinic-scale benchmarks, recorded in benchmarks/RESULTS.md.
# Usage: benchmarks/scale.sh [FOLDER]   (default /tmp; needs about 8 GB free there)
# Builds FOLDER/ptdoc-scale-{10k,100k,1m}.sqlite3 with make_clinic_db.py when missing (a
# database of an older schema is rebuilt), then runs the start-up, store (open, search, day
# view), cell commit and ICD-10-CM index benchmarks one after the other. Each section records
# the machine's load average: compare each figure with its floor from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:-/tmp}"
python=.venv/bin/python
latest="$($python -c 'from ptdoc.migrations import LATEST_VERSION; print(LATEST_VERSION)')"
dbs=()
for size in 10k:10000 100k:100000 1M:1000000; do
    label="${size%%:*}" sessions="${size#*:}"
    path="$folder/ptdoc-scale-${label,,}.sqlite3"
    if [ -f "$path" ] && [ "$($python -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version').fetchone()[0])" "$path")" != "$latest" ]; then
        echo "$path: an older schema, built again"
        rm -f "$path" "$path-wal" "$path-shm"
    fi
    if [ ! -f "$path" ]; then
        /usr/bin/env time -f "  built in %e s, peak memory %M KB" \
            "$python" benchmarks/make_clinic_db.py --sessions "$sessions" -o "$path"
    fi
    dbs+=(--db "$label=$path")
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" benchmarks/bench_startup.py "${dbs[@]}" --repeat 15 --write
"$python" benchmarks/bench_store.py "${dbs[@]}" --write
"$python" benchmarks/bench_cell.py "${dbs[@]}" --write
"$python" benchmarks/bench_icd.py --write
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
