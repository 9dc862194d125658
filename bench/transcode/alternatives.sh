#!/usr/bin/env bash
# The measurements behind two choices of the media pipeline (figures in docs/benchmarks.md), on
# the 60 s 720p clip reel_transcode_bench makes (--keep DIR keeps it):
#   1. one decode feeding every rendition (the pipeline) against one ffmpeg run per rendition;
#   2. HLS by remuxing the MP4 renditions (-c copy, the pipeline) against encoding HLS again.
# Same encoder settings as src/transcode/plan.cc (maxrates of a 16:9 ladder up to 720p).
#   bench/transcode/alternatives.sh /tmp/reel-bench/source-1280x720-60s.mp4
set -euo pipefail
src=${1:?usage: alternatives.sh SOURCE.mp4}
out=$(mktemp -d /tmp/reel-transcode-alt.XXXXXX)
trap 'rm -rf "$out"' EXIT
x264=(-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -crf 23 -force_key_frames 'expr:gte(t,n_forced*4)'
      -c:a aac -ac 2)
ladder=("240 426 400 96" "360 640 770 96" "480 854 1220 128" "720 1280 2320 128")
graph="[0:0]split=4[a][b][c][d];[a]scale=426:240,setsar=1[v240];[b]scale=640:360,setsar=1[v360]"
graph+=";[c]scale=854:480,setsar=1[v480];[d]scale=1280:720,setsar=1[v720]"
timed() { local label=$1; shift; /usr/bin/time -f "$label: %e s wall, %U s user + %S s sys" "$@"; }
ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)

# 1a. One decode, four encodes (as the pipeline's encode step, without the images).
args=()
for r in "${ladder[@]}"; do set -- $r
  args+=(-map "[v$1]" -map 0:1 "${x264[@]}" -maxrate "$3k" -bufsize "$((2 * $3))k" -b:a "$4k" -movflags +faststart
         "$out/$1.mp4")
done
timed "one pass, 4 renditions" "${ff[@]}" -i "$src" -filter_complex "$graph" "${args[@]}"

# 1b. One ffmpeg per rendition: the source is decoded four times.
start=$(date +%s.%N)
for r in "${ladder[@]}"; do set -- $r
  timed "  separate $1p" "${ff[@]}" -i "$src" -vf "scale=$2:$1,setsar=1" -map 0:0 -map 0:1 "${x264[@]}" \
    -maxrate "$3k" -bufsize "$((2 * $3))k" -b:a "$4k" -movflags +faststart "$out/s$1.mp4"
done
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "separate runs, 4 renditions: %.2f s wall\n", e - s }'

# 2a. HLS by remuxing the MP4s (the pipeline's hls step).
args=()
i=0
for r in "${ladder[@]}"; do set -- $r; mkdir -p "$out/hls/$1"
  args+=(-map "$i:v:0" -map "$i:a:0" -c copy -f hls -hls_time 4 -hls_playlist_type vod -hls_segment_type fmp4
         -hls_segment_filename "$out/hls/$1/%d.m4s" "$out/hls/$1/index.m3u8")
  i=$((i + 1))
done
timed "HLS remux of 4 renditions" "${ff[@]}" -i "$out/240.mp4" -i "$out/360.mp4" -i "$out/480.mp4" -i "$out/720.mp4" \
  "${args[@]}"

# 2b. HLS encoded again from the source (one decode, four encodes).
args=()
for r in "${ladder[@]}"; do set -- $r; mkdir -p "$out/hls-enc/$1"
  args+=(-map "[v$1]" -map 0:1 "${x264[@]}" -maxrate "$3k" -bufsize "$((2 * $3))k" -b:a "$4k" -f hls -hls_time 4
         -hls_playlist_type vod -hls_segment_type fmp4 -hls_segment_filename "$out/hls-enc/$1/%d.m4s"
         "$out/hls-enc/$1/index.m3u8")
done
timed "HLS encoded from the source" "${ff[@]}" -i "$src" -filter_complex "$graph" "${args[@]}"

# Segment overhead of the two HLS segment formats, remuxed from the 480p MP4.
mkdir -p "$out/ts"
"${ff[@]}" -i "$out/480.mp4" -c copy -f hls -hls_time 4 -hls_playlist_type vod -hls_segment_filename "$out/ts/%d.ts" \
  "$out/ts/index.m3u8"
echo "480p bytes: mp4 $(stat -c %s "$out/480.mp4"), fMP4 segments $(cat "$out"/hls/480/*.m4s "$out"/hls/480/init.mp4 | wc -c)," \
     "TS segments $(cat "$out"/ts/*.ts | wc -c)"
