#!/bin/bash
# Runs a command and prints, every 2 s, its largest descendant's resident memory (kB) beside the
# last line the command printed: where in a run the memory peak sits.
# Usage: tools/rss_trace.sh LOG_STEM COMMAND [ARGS...]   (the command's output goes to LOG_STEM.log)
set -u
stem=$1; shift
"$@" > "$stem.log" 2>&1 &
top=$!
while kill -0 "$top" 2>/dev/null; do
  max=0
  for pid in $(pgrep -P "$top") $(pgrep -g "$(ps -o pgid= "$top" | tr -d ' ')" 2>/dev/null) "$top"; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "${rss:-}" ] && [ "$rss" -gt "$max" ] && max=$rss
  done
  echo "$(date +%T) ${max} kB  $(tail -c 300 "$stem.log" | tr '\r' '\n' | tail -1 | cut -c1-80)"
  sleep 2
done
wait "$top"
