#!/usr/bin/env bash
# A check-client driver in bash: curl for HTTP, jq for JSON. Prints every id, one per line, once
# the whole list is in; exits 1 on an API error. Credentials go to curl on stdin (-K -), never
# on its command line, where ps would show them.
set -euo pipefail
url="${COMMS_BASE_URL%/}/v1/PushNotifications/Operations"
mapfile -t query < <(jq -r 'to_entries[] | "\(.key)=\(.value)"' <<<"${COMMS_LIST_PARAMS:-"{}"}")
headers=$(mktemp)
body=$(mktemp)
trap 'rm -f "$headers" "$body"' EXIT
ids=()
token=""
while :; do
  args=(-sS -G -o "$body" -D "$headers" -w '%{http_code}' -K -)
  for q in ${query[@]+"${query[@]}"}; do args+=(--data-urlencode "$q"); done  # + / = : encoded
  if [ -n "$token" ]; then args+=(--data-urlencode "pageToken=$token"); fi
  for attempt in 1 2 3 4 5; do
    status=$(printf 'user = "%s:%s"\n' "$COMMS_ACCOUNT_ID" "$COMMS_AUTH_TOKEN" | curl "${args[@]}" "$url")
    if [ "$status" != 429 ] && [ "$status" != 503 ] || [ "$attempt" = 5 ]; then break; fi
    retry=$(grep -i '^retry-after:' "$headers" | cut -d' ' -f2- | tr -d '\r')
    if [[ "$retry" =~ ^[0-9]+$ ]]; then
      wait=$retry
    else  # an HTTP-date: whole seconds, rounded up by comparing with the current whole second
      wait=$(( $(date -d "$retry" +%s) - $(date +%s) ))
      if (( wait < 0 )); then wait=0; fi
    fi
    sleep "$wait"
  done
  if [ "$status" != 200 ]; then
    echo "driver: HTTP $status: $(head -c 200 "$body")" >&2
    exit 1
  fi
  mapfile -t page < <(jq -r '.operations[].id' "$body")
  ids+=(${page[@]+"${page[@]}"})
  token=$(jq -r '.pagination.next // empty' "$body")  # absent, null and "" all end the list
  if [ -z "$token" ]; then break; fi
done
if [ ${#ids[@]} -gt 0 ]; then printf '%s\n' "${ids[@]}"; fi
