#!/usr/bin/env bash
# check-goldens.py (the logits and stories cases) against a GPU build, on a
# golden root assembled from the fixtures in tests/data plus the extra files
# of ../shared that a device call can carry (the tree's size limit: in parts).
#   bench/device/gpu_check_goldens.sh JETLM CHECKER PART_DIR... 
# PART_DIR: a folder of models/*.gguf and logits/*.json + *.exact.f32 (from
# ../shared/models and ../shared/golden/logits). Runs with -ngl unset (auto:
# every layer that fits on the GPU). Environment: OUT (logs), TAG (log name).
set -u
jetlm="$1"; checker="$2"; shift 2
root=/tmp/golden-root
rm -rf "$root"; mkdir -p "$root/golden/logits" "$root/models"
if [ -d tests/data/models ]; then
  for f in tests/data/golden/tiny-*; do ln -s "$PWD/$f" "$root/golden/logits/"; done
  for f in tests/data/models/*.gguf; do ln -s "$PWD/$f" "$root/models/"; done
fi
cp tests/data/golden/stories260K.* "$root/golden/"
ln -s "$PWD/models/stories260K.gguf" "$root/models/"
for part in "$@"; do
  for f in "$part"/models/*.gguf; do ln -sf "$PWD/$f" "$root/models/"; done
  for f in "$part"/logits/*; do ln -sf "$PWD/$f" "$root/golden/logits/"; done
done
echo "golden root: $(ls "$root/golden/logits" | grep -c json) logits cases"
python3 "$checker" --jetlm "$jetlm" --root "$root" --only logits,stories > "${OUT:-/tmp}/goldens-${TAG:-gpu}.log" 2>&1
rc=$?
grep -viE "^\s*(ok|pass)" "${OUT:-/tmp}/goldens-${TAG:-gpu}.log" | tail -8
echo "check-goldens ${TAG:-gpu}: exit $rc"
exit $rc
