#!/usr/bin/env bash
# On a GPU machine, after scripts/gpu-check.sh (which unpacks carry/ into /tmp/jnd): trains the four
# CIFAR-10 classifiers and then DMV-JND-NET on CUDA against a wall-clock budget, and evaluates them on
# the test set. The CIFAR-10 archive travels as carry/cifar10-jpeg.tar.gz (scripts/gpu-prepare.sh).
#
#   scripts/gpu-train.sh OUT SECONDS     # SECONDS: what is left of the call for this script
#
# The classifiers get what is left after NET_SECONDS (DMV-JND-NET, default 60) and EVAL_SECONDS
# (default 45); each stage checkpoints every epoch, so a stage cut short still leaves weights. Writes
# the weights, logs (CSV and text) and the evaluation table to OUT. See docs/gpu.md.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:?output folder}"
budget="${2:?seconds left}"
started=$SECONDS
mkdir -p "$out"
[ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] \
  && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export CUDA_PATH="${CUDA_PATH:-/usr/local/cuda}"
export LD_LIBRARY_PATH="/tmp/jnd/lib:$CUDA_PATH/lib64:${LD_LIBRARY_PATH:-}"
jt=/tmp/jnd/jnd-train
cifar=carry/cifar10-jpeg.tar.gz
net_seconds="${NET_SECONDS:-60}"
eval_seconds="${EVAL_SECONDS:-45}"
left() { echo $((budget - (SECONDS - started))); }
minutes() { awk -v s="$1" 'BEGIN { printf "%.2f", s / 60 }'; }
# The classifiers: all but the later stages' share, less ~25 s to load CIFAR-10 and start.
cls=$(( $(left) - net_seconds - eval_seconds - 25 ))
echo "classifiers: $cls s" | tee "$out/train.log"
device=cuda
classifiers() {
  timeout $(( $1 + 40 )) "$jt" --device "$device" classifiers --cifar "$cifar" \
    --out "$out/dmvjnd-classifiers.bpk" --log "$out/dmvjnd-classifiers-log.csv" \
    --epochs "${CLASSIFIER_EPOCHS:-80}" --batch "${CLASSIFIER_BATCH:-256}" --lr "${CLASSIFIER_LR:-3e-3}" \
    --deadline "$(minutes "$1")" >> "$out/train.log" 2>&1
}
classifiers "$cls"
status=$?
echo "classifiers ($device) exit $status at $((SECONDS - started)) s" >> "$out/train.log"
if [ "$status" -ne 0 ] && [ ! -s "$out/dmvjnd-classifiers.bpk" ]; then
  # CUDA failed before the first epoch ended: the same run on wgpu (Vulkan) with what is left.
  device=wgpu
  cls=$(( $(left) - net_seconds - eval_seconds - 25 ))
  [ "$cls" -gt 60 ] && classifiers "$cls"
  echo "classifiers ($device) exit $? at $((SECONDS - started)) s" >> "$out/train.log"
fi
net=$(( $(left) - eval_seconds - 15 ))
if [ -s "$out/dmvjnd-classifiers.bpk" ] && [ "$net" -gt 20 ]; then
  timeout $(( net + 20 )) "$jt" --device "$device" dmvjnd --cifar "$cifar" \
    --classifiers "$out/dmvjnd-classifiers.bpk" --init jnd-model/weights/dmvjnd-net.bpk \
    --out "$out/dmvjnd-net.bpk" --log "$out/dmvjnd-net-log.csv" \
    --epochs 200 --batch "${NET_BATCH:-100}" --deadline "$(minutes "$net")" >> "$out/train.log" 2>&1
  echo "dmvjnd exit $? at $((SECONDS - started)) s" >> "$out/train.log"
fi
if [ -s "$out/dmvjnd-net.bpk" ] && [ "$(left)" -gt 10 ]; then
  timeout $(( $(left) - 5 )) "$jt" --device "$device" eval-dmvjnd --cifar "$cifar" \
    --classifiers "$out/dmvjnd-classifiers.bpk" --net "$out/dmvjnd-net.bpk" --sets test \
    --out "$out/dmvjnd-eval-test.md" >> "$out/train.log" 2>&1
  echo "eval exit $? at $((SECONDS - started)) s" >> "$out/train.log"
fi
tail -n 30 "$out/train.log"
