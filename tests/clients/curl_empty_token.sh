#!/usr/bin/env bash
# Bug (bash): always sends pageToken, empty on the first request (pageToken=). A server may
# answer that with 400 (TOKEN-EMPTY is FREE), and the kit's server does.
set -euo pipefail
url="${COMMS_BASE_URL%/}/v1/PushNotifications/Operations"
mapfile -t query < <(jq -r 'to_entries[] | "\(.key)=\(.value)"' <<<"${COMMS_LIST_PARAMS:-"{}"}")
body=$(mktemp)
trap 'rm -f "$body"' EXIT
token=""
while :; do
  args=(-sS -G -o "$body" -w '%{http_code}' -K -)
  for q in ${query[@]+"${query[@]}"}; do args+=(--data-urlencode "$q"); done
  args+=(--data-urlencode "pageToken=$token")  # the bug: also when $token is empty
  status=$(printf 'user = "%s:%s"\n' "$COMMS_ACCOUNT_ID" "$COMMS_AUTH_TOKEN" | curl "${args[@]}" "$url")
  if [ "$status" != 200 ]; then
    echo "driver: HTTP $status" >&2
    exit 1
  fi
  jq -r '.operations[].id' "$body"
  token=$(jq -r '.pagination.next // empty' "$body")
  if [ -z "$token" ]; then break; fi
done
