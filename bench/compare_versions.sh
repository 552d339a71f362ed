#!/bin/bash
# Two versions of the code side by side on the county year (score, then nightly), each timed
# with its peak memory by /usr/bin/time. Run after `python -m bench.runner score-county-year`
# has prepared WORKDIR/score-cy (full/, base/, day/).
#
#   git worktree add /tmp/old <rev>; git worktree add /tmp/new HEAD
#   bench/compare_versions.sh /tmp/old /tmp/new bench/work
#
# Each side gets its own hard-linked copy of the lakes (lake files are never rewritten in
# place), trains its models and re-scores the year-but-one-day outside the timings, so the
# nightly increment is scored by the code that scored the base.
set -euo pipefail
OLD=$(realpath "$1"); NEW=$(realpath "$2"); W=$(realpath "$3")/score-cy
PY=${PYTHON:-$(realpath .venv/bin/python)}
for side in old new; do
  code=$OLD; [ $side = new ] && code=$NEW
  rm -rf "$W/full-$side" "$W/base-$side" "$W/inc-$side"
  cp -al "$W/full" "$W/full-$side"; rm -rf "$W/full-$side/runs" "$W/full-$side/models"
  cp -al "$W/base" "$W/base-$side"; rm -rf "$W/base-$side/runs" "$W/base-$side/models" "$W/base-$side/scored"
  (cd "$code" && "$PY" -m hrss_fraud --workspace "$W/full-$side" models train >/dev/null)
  (cd "$code" && "$PY" -m hrss_fraud --workspace "$W/base-$side" score --quiet >/dev/null)
done
for side in old new; do
  code=$OLD; [ $side = new ] && code=$NEW
  (cd "$code" && /usr/bin/time -f "score $side: %e s, peak %M KB" \
      "$PY" -m hrss_fraud --workspace "$W/full-$side" score --quiet)
done
for side in old new; do
  code=$OLD; [ $side = new ] && code=$NEW
  cp -al "$W/base-$side" "$W/inc-$side"; mkdir "$W/inc-$side/inbox"
  find "$W/day" -name '*.csv' -exec cp {} "$W/inc-$side/inbox/" \;
  (cd "$code" && /usr/bin/time -f "nightly $side: %e s, peak %M KB" \
      "$PY" -m hrss_fraud --workspace "$W/inc-$side" nightly | tail -1)
done
