#!/usr/bin/env python3
"""The exchangelib side of the benchmark: one get_free_busy_info() for every mailbox in a file
(exchangelib itself splits it into requests of 100, sent one after another), Detailed view, a
two-day window from today's UTC midnight, every parsed view touched.

    exchangelib_freebusy.py --endpoint URL --user UPN --emails FILE --start ISO --end ISO

The password comes from CALGATE_EWS_PASSWORD. The script handshakes on stdin/stdout so the
caller can read this process's CPU and memory from /proc around the work alone (imports and
start-up excluded, as they are for the gateway):

    -> "ready"           (waits for a line on stdin)
    -> "done {json}"     (waits for a line on stdin, then exits)
"""
import argparse
import datetime as dt
import json
import os
import sys
import time

from exchangelib import (BASIC, DELEGATE, Account, Build, Configuration, Credentials, EWSDateTime,
                         EWSTimeZone, FailFast, Version)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--emails", required=True)
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    a = ap.parse_args()
    emails = [line.strip() for line in open(a.emails, encoding="utf-8") if line.strip()]
    cfg = Configuration(
        service_endpoint=a.endpoint,
        credentials=Credentials(a.user, os.environ.get("CALGATE_EWS_PASSWORD", "")),
        auth_type=BASIC,
        retry_policy=FailFast(),
        # Known version: no ConvertId probing, so only free/busy work is measured.
        version=Version(build=Build(15, 1, 2507, 6)),
    )
    utc = EWSTimeZone("UTC")
    account = Account(a.user, config=cfg, autodiscover=False, access_type=DELEGATE,
                      default_timezone=utc)
    start = EWSDateTime.from_datetime(dt.datetime.fromisoformat(a.start)).astimezone(utc)
    end = EWSDateTime.from_datetime(dt.datetime.fromisoformat(a.end)).astimezone(utc)

    print("ready", flush=True)
    sys.stdin.readline()
    began = time.monotonic()
    views = errors = events = 0
    for view in account.protocol.get_free_busy_info(
            accounts=[(e, "Required", False) for e in emails],
            start=start, end=end, merged_free_busy_interval=30, requested_view="Detailed"):
        if isinstance(view, Exception):
            errors += 1
            continue
        views += 1
        for event in view.calendar_events or []:
            # Touch what a status display needs, so nothing parsed lazily is skipped.
            _ = (event.start, event.end, event.busy_type, event.details)
            events += 1
    result = {"views": views, "errors": errors, "events": events,
              "wall_s": time.monotonic() - began}
    print("done " + json.dumps(result), flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
