#!/usr/bin/env python3
"""Drive O365 for Python (unmodified) against a Graph endpoint: getSchedule for a list of people.

    python o365_schedule.py --base https://127.0.0.1:PORT --resource alice@contoso.com \
        --start 2025-06-02T08:00:00 --end 2025-06-02T18:00:00 --tz Europe/Copenhagen \
        --interval 30 a@contoso.com b@contoso.com ...

The access token comes in the environment (CALGATE_GRAPH_TOKEN) and is put on O365's own session,
because O365 would otherwise sign in at login.microsoftonline.com. Everything after that (URL,
body, time zones, parsing) is O365's. Trust for a private CA comes from REQUESTS_CA_BUNDLE.

Prints one JSON document: {"schedules": [...]} with O365's parsed results, datetimes as ISO 8601
with their offset, or {"http_error": status, "retry_after": header} when O365 raised on an error
answer.
"""
import argparse
import datetime as dt
import json
import os
import sys
from zoneinfo import ZoneInfo

import requests

from O365 import Account
from O365.connection import MSGraphProtocol


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="scheme://host:port, O365 appends /v1.0/")
    ap.add_argument("--resource", required=True, help="mailbox the call is made on")
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    ap.add_argument("--tz", default="UTC")
    ap.add_argument("--interval", type=int, default=30)
    ap.add_argument("schedules", nargs="+")
    a = ap.parse_args()
    token = os.environ.get("CALGATE_GRAPH_TOKEN", "")
    tz = ZoneInfo(a.tz)
    base = a.base.rstrip("/")

    class LocalGraph(MSGraphProtocol):
        _protocol_url = f"{base}/"

    account = Account(("calgate-test-client", "unused"), auth_flow_type="credentials", tenant_id="calgate",
                      protocol=LocalGraph(default_resource=a.resource, timezone=tz))
    con = account.con
    con.session = con.get_session()
    con.session.headers["Authorization"] = f"Bearer {token}"
    con.requests_delay = 0

    start = dt.datetime.fromisoformat(a.start).replace(tzinfo=tz)
    end = dt.datetime.fromisoformat(a.end).replace(tzinfo=tz)
    schedule = account.schedule(resource=a.resource)
    try:
        result = schedule.get_availability(a.schedules, start, end, interval=a.interval)
    except requests.HTTPError as e:
        # O365 raises on 4xx/5xx after its own retry policy; report what the server said.
        response = e.response
        json.dump({"http_error": response.status_code if response is not None else None,
                   "retry_after": response.headers.get("Retry-After") if response is not None else None},
                  sys.stdout)
        return 0

    def plain(value):
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    json.dump({"schedules": plain(result)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
