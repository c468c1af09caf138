#!/usr/bin/env bash
# On a GPU machine, from the repository root, with carry/ and .gl/ from scripts/gpu-prepare.sh:
#   1. the backends this machine runs (`jnd-train devices`);
#   2. `jnd-train gpu-check`: VP-JND judge scores and DMV-JND maps on each backend against the CPU
#      (largest difference; aim <= 1e-3) and throughput (judging, the map, a training step of each model);
#   3. jndenc with --device cpu|cuda|wgpu on the fixture: the learned decision and the machine map, and
#      whether the outputs are the same bytes.
# Writes everything to $OUT (or the folder given) and finishes in about five minutes on an H200.
# Time caps (seconds) can be lowered to leave a lease's time to training: GPU_CHECK_SECONDS (the
# gpu-check table, 240), JNDENC_SECONDS (each of the six jndenc runs, 60).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-gpu-check-out}}"
mkdir -p "$out" /tmp/jnd
for f in .gl/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
ldconfig
[ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] \
  && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
tar -C /tmp/jnd -xJf carry/libs.tar.xz
for bin in jnd-train jndenc; do xz -dc "carry/$bin.xz" > "/tmp/jnd/$bin" && chmod +x "/tmp/jnd/$bin"; done
# burn-cuda compiles CUDA C++ with NVRTC at run time: it needs the toolkit's headers and libnvrtc.
export CUDA_PATH="${CUDA_PATH:-/usr/local/cuda}"
export LD_LIBRARY_PATH="/tmp/jnd/lib:$CUDA_PATH/lib64:${LD_LIBRARY_PATH:-}"
jt=/tmp/jnd/jnd-train je=/tmp/jnd/jndenc
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$je" -version 2>&1
} > "$out/machine.txt" 2>&1
timeout 60 "$jt" devices 2>&1 | tee "$out/devices.txt"
timeout "${GPU_CHECK_SECONDS:-240}" "$jt" gpu-check --out "$out/gpu-check.md" 2> "$out/gpu-check.log"
echo "gpu-check exit $?" >> "$out/gpu-check.log"
cat "$out/gpu-check.md" 2>/dev/null
for d in cpu cuda wgpu; do
  for mode in "--decider model" "--target machine --map-strength 0.5 -quality 75"; do
    tag="$d-$(echo "$mode" | awk '{print $2}')"
    # shellcheck disable=SC2086
    /usr/bin/time -f "$tag %e s %M kB" timeout "${JNDENC_SECONDS:-60}" "$je" --device "$d" $mode --report "$out/$tag.json" \
      -outfile "/tmp/jnd/$tag.jpg" fixtures/photo.png 2>> "$out/jndenc.log"
    echo "$tag exit $? $(stat -c %s "/tmp/jnd/$tag.jpg" 2>/dev/null) bytes" >> "$out/jndenc.log"
  done
done
for mode in model machine; do
  for d in cuda wgpu; do
    if cmp -s "/tmp/jnd/cpu-$mode.jpg" "/tmp/jnd/$d-$mode.jpg"; then s=same; else s=differ; fi
    echo "$mode: cpu and $d outputs $s" >> "$out/jndenc.log"
  done
done
cat "$out/jndenc.log"
