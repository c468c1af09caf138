#!/usr/bin/env bash
# Rebuilds the seed corpus in fuzz/corpus/ from the repository's fixtures. Run from the repository root
# after `cargo build --release -p encoder` (the HEIF and JPEG seeds are encoded by jndenc itself).
set -euo pipefail
jndenc=${JNDENC:-target/release/jndenc}
c=fuzz/corpus
rm -rf "$c" && mkdir -p "$c"/{decode_encode,argv,auto_tiny,c_abi}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$jndenc" -quality 60 -outfile "$tmp/small.jpg" fixtures/graphic.png
"$jndenc" --format heif -quality 40 -outfile "$tmp/small.heic" fixtures/graphic.png
seed() { # seed NAME SELECTOR FILE: one decode_encode input (selector byte, then the file)
  { printf "\\x$(printf %02x "$2")"; cat "$3"; } > "$c/decode_encode/$1"
}
for f in fixtures/*.{png,gif,pgm,ppm,bmp,tga,jpg} "$tmp/small.jpg" "$tmp/small.heic"; do
  seed "sniff-$(basename "$f")" 0 "$f"
done
# Forced formats (cjpeg's -targa, and each decoder on the others' bytes).
seed forced-targa-photo.tga 4 fixtures/photo.tga
seed forced-png-on-gif 3 fixtures/graphic.gif
seed forced-heif 7 "$tmp/small.heic"
n=0
argv() { n=$((n + 1)); printf '%s\0' "$@" | head -c -1 > "$c/argv/cmdline-$n"; }
argv -quality 75 -outfile out.jpg in.png
argv -q 75,80 -optim -progr -outf o.jpg in.ppm
argv -grayscale -sample 2x2,1x1 -restart 4B -smooth 20 in.bmp
argv --format heif --target strict --min-quality 20 --max-quality 90 --block 3 in.png
argv -qtables t.txt -qslots 0,1,1 -dct float -maxmemory 64m in.tga
argv --report r.html --outdir out -j 2 a.png b.png
argv -targa -rgb -icc p.icc -baseline -arith -
printf '\x10\x0c\x00\x01\x64' > "$c/auto_tiny/flat-rgb"
head -c 600 fixtures/photo.ppm | tail -c 580 | { printf '\x1f\x17\x04\x1e\x5a'; cat; } > "$c/auto_tiny/photo-rgb"
head -c 400 fixtures/gray.pgm | tail -c 380 | { printf '\x20\x20\x01\x01\x63'; cat; } > "$c/auto_tiny/gray"
printf '\x10\x08\x00\x00\x4b\x00\x00\x00' > "$c/c_abi/rgb-q75"
head -c 500 fixtures/photo.ppm | { printf '\x18\x10\x03\x02\x00\x00\x00\x04'; cat; } > "$c/c_abi/rgba-auto"
printf '\x08\x08\x00\x01\x5a\x01\x01\x08' > "$c/c_abi/gray-heif-null-out"
echo "seeds: $(find "$c" -type f | wc -l)"
