# Sourced by ferry-demo: records the steps of a run and writes them as a table on the terminal, as
# JSON and as an HTML page with a timeline chart (one bar per step, on one time axis).

REPORT_NAMES=()
REPORT_STARTS=()
REPORT_ENDS=()
REPORT_DETAILS=()
REPORT_STATUSES=()

# report_add <name> <start-ms> <end-ms> <detail> [status: ok (default), FAILED, skipped]
report_add() {
  REPORT_NAMES+=("$1")
  REPORT_STARTS+=("$2")
  REPORT_ENDS+=("$3")
  REPORT_DETAILS+=("$4")
  REPORT_STATUSES+=("${5:-ok}")
}

# json_string <text>: the text as a JSON string literal
json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# html_text <text>: the text with &, < and > escaped
html_text() {
  local s=$1
  s=${s//&/&amp;}
  s=${s//</&lt;}
  s=${s//>/&gt;}
  printf '%s' "$s"
}

# report_table: the steps as a text table
report_table() {
  local i
  for i in "${!REPORT_NAMES[@]}"; do
    printf '%-62s %-7s %8d ms  %s\n' "${REPORT_NAMES[$i]}" "${REPORT_STATUSES[$i]:-ok}" \
      $((REPORT_ENDS[i] - REPORT_STARTS[i])) "${REPORT_DETAILS[$i]}"
  done
}

# report_json <file> <title> <outcome>
report_json() {
  local file=$1 title=$2 outcome=$3 i sep=""
  {
    printf '{\n  "title": %s,\n  "outcome": %s,\n  "started": %s,\n  "steps": [\n' \
      "$(json_string "$title")" "$(json_string "$outcome")" "${REPORT_STARTS[0]:-0}"
    for i in "${!REPORT_NAMES[@]}"; do
      printf '%s    {"name": %s, "status": %s, "start_ms": %d, "end_ms": %d, "duration_ms": %d, "detail": %s}' "$sep" \
        "$(json_string "${REPORT_NAMES[$i]}")" "$(json_string "${REPORT_STATUSES[$i]:-ok}")" "${REPORT_STARTS[$i]}" \
        "${REPORT_ENDS[$i]}" $((REPORT_ENDS[i] - REPORT_STARTS[i])) "$(json_string "${REPORT_DETAILS[$i]}")"
      sep=$',\n'
    done
    printf '\n  ]\n}\n'
  } > "$file"
}

# report_html <file> <title> <outcome>: a table and an SVG timeline, no external resources
report_html() {
  local file=$1 title=$2 outcome=$3 i n=${#REPORT_NAMES[@]}
  local t0=${REPORT_STARTS[0]:-0} t1=0 width=900 left=360 row=22
  for i in "${!REPORT_ENDS[@]}"; do [ "${REPORT_ENDS[$i]}" -gt "$t1" ] && t1=${REPORT_ENDS[$i]}; done
  local span=$((t1 - t0)); [ $span -gt 0 ] || span=1
  local height=$((n * row + 40))
  {
    printf '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>%s</title>\n' "$(html_text "$title")"
    printf '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}td.ms{text-align:right;font-variant-numeric:tabular-nums}svg text{font-size:12px}</style></head><body>\n'
    printf '<h1>%s</h1>\n<p>Outcome: <b>%s</b>; %d steps in %.1f s.</p>\n' "$(html_text "$title")" "$(html_text "$outcome")" "$n" "$(echo "$span" | awk '{print $1/1000}')"
    printf '<h2>Timeline</h2>\n<svg width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">\n' $((left + width + 20)) "$height"
    for i in "${!REPORT_NAMES[@]}"; do
      local x=$(( left + (REPORT_STARTS[i] - t0) * width / span ))
      local w=$(( (REPORT_ENDS[i] - REPORT_STARTS[i]) * width / span )); [ $w -ge 1 ] || w=1
      local y=$(( i * row + 10 ))
      printf '<text x="0" y="%d">%s</text>' $((y + 13)) "$(html_text "${REPORT_NAMES[$i]:0:55}")"
      local fill="#3b7dd8"
      case ${REPORT_STATUSES[$i]:-ok} in FAILED) fill="#d83b3b" ;; skipped) fill="#bbbbbb" ;; esac
      printf '<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %d ms</title></rect>\n' \
        "$x" "$y" "$w" $((row - 6)) "$fill" "$(html_text "${REPORT_NAMES[$i]}")" $((REPORT_ENDS[i] - REPORT_STARTS[i]))
    done
    local s
    for s in 0 1 2 3 4; do
      printf '<text x="%d" y="%d">%ds</text>' $((left + s * width / 4)) $((n * row + 30)) $((span * s / 4 / 1000))
    done
    printf '\n</svg>\n<h2>Steps</h2>\n<table><tr><th>step</th><th>status</th><th>ms</th><th>result</th></tr>\n'
    for i in "${!REPORT_NAMES[@]}"; do
      printf '<tr><td>%s</td><td>%s</td><td class="ms">%d</td><td>%s</td></tr>\n' "$(html_text "${REPORT_NAMES[$i]}")" \
        "$(html_text "${REPORT_STATUSES[$i]:-ok}")" $((REPORT_ENDS[i] - REPORT_STARTS[i])) "$(html_text "${REPORT_DETAILS[$i]}")"
    done
    printf '</table>\n</body></html>\n'
  } > "$file"
}
