#!/bin/sh
# Measures GetUserAvailability throughput of calgate-sim on loopback: Detailed view, a two-day
# window, 100 mailboxes per request, with wrk. Prints requests/s and mailboxes/s.
#
#   crates/calgate-sim/bench/throughput.sh [PEOPLE] [SECONDS] [CONNECTIONS]
#
# Needs wrk (apt-get install -y wrk) and a release build (cargo build --release -p calgate-sim).
set -eu
people=${1:-10000}
seconds=${2:-15}
connections=${3:-4}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin="$root/target/release/calgate-sim"
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" --plain --people "$people" --seed 1 >"$work/urls.json" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/urls.json" ] && break; sleep 0.1; done
python3 - "$work" <<'PY'
import json, sys, urllib.request, datetime
work = sys.argv[1]
urls = json.load(open(f"{work}/urls.json"))
people = json.load(urllib.request.urlopen(urls["control_url"] + "/people"))
emails = [p["email"] for p in people if p["free_busy_access"] == "detailed"][:100]
start = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
end = start + datetime.timedelta(days=2)
fmt = "%Y-%m-%dT%H:%M:%S"
boxes = "".join(
    f"<t:MailboxData><t:Email><t:Address>{e}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType>"
    f"<t:ExcludeConflicts>false</t:ExcludeConflicts></t:MailboxData>" for e in emails)
tz = ("<t:TimeZone><t:Bias>0</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder>"
      "<t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>0</t:Bias>"
      "<t:Time>02:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>"
      "</t:DaylightTime></t:TimeZone>")
body = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
        'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
        '<t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header><s:Body><m:GetUserAvailabilityRequest>'
        f'{tz}<m:MailboxDataArray>{boxes}</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow>'
        f'<t:StartTime>{start.strftime(fmt)}</t:StartTime><t:EndTime>{end.strftime(fmt)}</t:EndTime></t:TimeWindow>'
        '<t:MergedFreeBusyIntervalInMinutes>30</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>Detailed'
        '</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>')
open(f"{work}/body.xml", "w").write(body)
open(f"{work}/ews_url", "w").write(urls["ews_url"])
PY
ews=$(cat "$work/ews_url")
auth="Basic $(printf '%s' 'attendant@contoso.com:Attendant-Passw0rd' | base64)"
bytes=$(curl -s -H "Authorization: $auth" -H 'Content-Type: text/xml; charset=utf-8' \
  --data-binary @"$work/body.xml" "$ews" | wc -c)
echo "one answer: $bytes bytes"
out=$(GUA_BODY="$work/body.xml" GUA_AUTH="$auth" wrk -t2 -c"$connections" -d"${seconds}s" \
  -s "$here/gua.lua" "$ews")
echo "$out"
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
echo "mailboxes/s: $(echo "$rps * 100" | bc)"
