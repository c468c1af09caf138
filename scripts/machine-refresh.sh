#!/usr/bin/env bash
# Issue 31's chain once the width-2 classifiers have all their epochs (trainer/DATA.md): the weights
# copied over the embedded ones, DMV-JND-NET retrained on them, the DMV-JND reproduction tables, the
# machine quantisation tables re-derived, and every machine-coding table and plot regenerated, each by
# its documented command, rebuilding `jnd-train` wherever the next step reads embedded weights. About
# 2 h on 2 idle cores; run it in the background, then read the tables and update the model cards.
#
#   nohup scripts/machine-refresh.sh /work/runs/cls-w2 [EPOCHS] > target/machine-refresh.out 2>&1 &
#
# CHECKPOINTS holds dmvjnd-classifiers.bpk and dmvjnd-classifiers-log.csv; EPOCHS (default 30) is
# how many epochs the log must show. Logs per step go to target/machine-refresh/; progress lines to
# target/machine-refresh/chain.log. Stops at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:?folder with dmvjnd-classifiers.bpk and dmvjnd-classifiers-log.csv}"
want="${2:-30}"
logs=target/machine-refresh
mkdir -p "$logs"
done_epochs=$(tail -n +2 "$src/dmvjnd-classifiers-log.csv" | grep -c .)
if [ "$done_epochs" -lt "$want" ]; then
  echo "machine-refresh: the log shows $done_epochs of $want epochs; resume the training first" >&2
  exit 1
fi
jt=./target/release/jnd-train
w=jnd-model/weights
step() {
  local name=$1
  shift
  echo "$(date +%T) $name: $*" | tee -a "$logs/chain.log"
  "$@" > "$logs/$name.log" 2>&1
  echo "$(date +%T) $name: done" | tee -a "$logs/chain.log"
}
build() { step "build-$1" cargo build --release --locked -p trainer; }
cp "$src/dmvjnd-classifiers.bpk" "$w/dmvjnd-classifiers.bpk"
cp "$src/dmvjnd-classifiers-log.csv" "$w/dmvjnd-classifiers-log.csv"
build classifiers
step net "$jt" dmvjnd --subsample 5 --epochs 4
build net
step eval-dmvjnd "$jt" eval-dmvjnd --sets test train --out "$w/dmvjnd-eval.md"
step tables "$jt" machine-tables --every 5
build tables
# Training images only: where --target machine's multipliers (MACHINE_RD_LAMBDAS) and its 4:4:4
# threshold (MACHINE_FULL_CHROMA_FROM) are read from: the rule as the default runs it, without the
# map's bound, at both samplings on the same images.
step coding-rd-free-train "$jt" eval-machine-coding --train-images --every 50 \
  --qualities 50,60,70,75,80,85,90,92,94,96,98,100 --methods machine-table,machine-rd --rd-unbounded \
  --rd-lambdas 0.0001,0.0003,0.001,0.003 \
  --out "$w/machine-coding-rd-free-train.md" --svg "$w/machine-coding-rd-free-train.svg" \
  --json "$w/machine-coding-rd-free-train.json"
step coding-rd-free-444-train "$jt" eval-machine-coding --train-images --every 50 --machine-full-chroma \
  --qualities 85,90,92,94,96,98,100 --methods machine-table,machine-rd --rd-unbounded \
  --rd-lambdas 0.0001,0.0003,0.001 \
  --out "$w/machine-coding-rd-free-444-train.md" --svg "$w/machine-coding-rd-free-444-train.svg" \
  --json "$w/machine-coding-rd-free-444-train.json"
step coding "$jt" eval-machine-coding
step coding-on-grid "$jt" eval-machine-coding --grid-shift 0 --every 20 \
  --out "$w/machine-coding-on-grid.md" --svg "$w/machine-coding-on-grid.svg" --json "$w/machine-coding-on-grid.json"
step coding-rd "$jt" eval-machine-coding --qualities 50,60,70,75,80,85,90,92,94,96,98,100 \
  --methods machine-table,machine-rd \
  --out "$w/machine-coding-rd.md" --svg "$w/machine-coding-rd.svg" --json "$w/machine-coding-rd.json"
step coding-rd-444 "$jt" eval-machine-coding --machine-full-chroma --qualities 85,90,92,94,96,98,100 \
  --methods machine-table,machine-rd --rd-lambdas 3e-5,1e-4,3e-4,1e-3 \
  --out "$w/machine-coding-rd-444.md" --svg "$w/machine-coding-rd-444.svg" --json "$w/machine-coding-rd-444.json"
echo "$(date +%T) all done: git diff --stat $w" | tee -a "$logs/chain.log"
echo "Then: set MACHINE_RD_LAMBDAS and MACHINE_FULL_CHROMA_FROM (encoder/src/settings/mod.rs) from" \
  "$w/machine-coding-rd-free-train.md and $w/machine-coding-rd-free-444-train.md, rebuild, and run" \
  "'jnd-train eval-machine-coding' again: its default method measures those constants." | tee -a "$logs/chain.log"
