#!/usr/bin/env python3
"""Drive exchangelib (unmodified, from the test venv) against an EWS endpoint and print what it
parsed as one JSON document on stdout.

    python exchangelib_driver.py --endpoint https://127.0.0.1:PORT/EWS/Exchange.asmx \
        --user attendant@contoso.com [--policy failfast|tolerant:SECONDS]
        [--auth basic|ntlm|negotiate [--login CONTOSO\\attendant]] COMMAND ...

`--auth negotiate` is exchangelib's NTLM auth with NTLM wrapped in SPNEGO, as Windows clients
send it under `Negotiate` (see `wrap_ntlm_in_spnego`); the server must offer `Negotiate` alone, or
requests_ntlm picks `NTLM`.

The password comes from the environment (CALGATE_EWS_PASSWORD) so it never shows in a process
list. Trust for the simulator's private CA comes from REQUESTS_CA_BUNDLE (requests reads it).

Commands:
  version                           let exchangelib guess the server version (ConvertId probes)
  freebusy --start ISO --end ISO --tz ZONE --view V --interval N EMAIL...
                                    one get_free_busy_info() call for all addresses
  mailtips --sender EMAIL EMAIL...  GetMailTips with the MailTipsRequested workaround
  mailtips-stock                    account.mail_tips, as exchangelib ships it
  oof EMAIL                         Account(EMAIL).oof_settings (GetUserOofSettings)
  resolve NAME...                   one resolve_names() call per name
  resolve-together NAME...          one resolve_names() call for all names (as exchangelib batches)

Failures are reported, not raised: {"exception": class name, "message": ..., "back_off": ...}.
"""
import argparse
import datetime as dt
import json
import os
import sys
import time

from exchangelib import (BASIC, DELEGATE, NTLM, Account, Build, Configuration, Credentials, EWSDateTime,
                         EWSTimeZone, FailFast, FaultTolerance, Mailbox, Version)
from exchangelib.properties import SendingAs
from exchangelib.services import GetMailTips
from exchangelib.util import create_element


def failure(e):
    return {
        "exception": type(e).__name__,
        "message": str(e),
        "back_off": getattr(e, "back_off", None),
    }


def iso(value):
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def wrap_ntlm_in_spnego():
    """Have exchangelib's NTLM auth speak SPNEGO. requests_ntlm asks pyspnego for bare NTLM whatever
    the scheme, and exchangelib's GSSAPI and SSPI auth types need Kerberos or Windows; pyspnego's
    own Negotiate wrapper (NegotiateOptions.use_negotiate) carries its NTLM inside SPNEGO."""
    import spnego
    import requests_ntlm.requests_ntlm as requests_ntlm

    class Spnego:
        def __getattr__(self, name):
            return getattr(spnego, name)

        @staticmethod
        def client(*args, **kwargs):
            kwargs.update(protocol="negotiate", options=spnego.NegotiateOptions.use_negotiate)
            return spnego.client(*args, **kwargs)

    requests_ntlm.spnego = Spnego()


def account(a, version_known=True):
    policy = FailFast()
    if a.policy.startswith("tolerant:"):
        policy = FaultTolerance(max_wait=int(a.policy.split(":", 1)[1]))
    kwargs = {}
    if version_known:
        # The build is irrelevant: exchangelib only needs an API version to send.
        kwargs["version"] = Version(build=Build(15, 1, 2507, 6))
    cfg = Configuration(
        service_endpoint=a.endpoint,
        credentials=Credentials(a.login or a.user, os.environ.get("CALGATE_EWS_PASSWORD", "")),
        auth_type=BASIC if a.auth == "basic" else NTLM,
        retry_policy=policy,
        **kwargs,
    )
    return Account(a.user, config=cfg, autodiscover=False, access_type=DELEGATE,
                   default_timezone=EWSTimeZone("UTC"))


def view_json(v):
    if isinstance(v, Exception):
        return failure(v)
    events = []
    for e in v.calendar_events or []:
        d = e.details
        events.append({
            "start": iso(e.start),
            "end": iso(e.end),
            "busy_type": e.busy_type,
            "details": None if d is None else {
                "id": d.id,
                "subject": d.subject,
                "location": d.location,
                "is_meeting": d.is_meeting,
                "is_recurring": d.is_recurring,
                "is_private": d.is_private,
            },
        })
    wh = [
        {"days": list(p.weekdays), "start": iso(p.start), "end": iso(p.end)}
        for p in (v.working_hours or [])
    ]
    return {
        "view_type": v.view_type,
        "merged": v.merged,
        "events": events,
        "working_hours": wh,
        "working_hours_timezone": None if v.working_hours_timezone is None else {
            "bias": v.working_hours_timezone.bias,
        },
    }


def cmd_version(a):
    acc = account(a, version_known=False)
    v = acc.protocol.version
    return {"api_version": v.api_version, "build": str(v.build)}


def cmd_freebusy(a):
    acc = account(a)
    tz = EWSTimeZone(a.tz)
    start = EWSDateTime.from_datetime(dt.datetime.fromisoformat(a.start)).astimezone(tz)
    end = EWSDateTime.from_datetime(dt.datetime.fromisoformat(a.end)).astimezone(tz)
    began = time.monotonic()
    results = list(acc.protocol.get_free_busy_info(
        accounts=[(e, "Required", False) for e in a.emails],
        start=start, end=end, merged_free_busy_interval=a.interval, requested_view=a.view))
    return {"views": [view_json(r) for r in results], "elapsed_s": time.monotonic() - began}


def cmd_mailtips(a):
    acc = account(a)
    # exchangelib writes the requested tips as stray text; the MailTipsRequested element has to
    # be passed in a list (a childless lxml element is falsy and would be dropped).
    requested = create_element("m:MailTipsRequested")
    requested.text = "OutOfOfficeMessage"
    tips = list(GetMailTips(protocol=acc.protocol).call(
        sending_as=SendingAs(email_address=a.sender),
        recipients=[Mailbox(email_address=e) for e in a.emails],
        mail_tips_requested=[requested]))
    out = []
    for t in tips:
        if isinstance(t, Exception):
            out.append(failure(t))
            continue
        oof = t.out_of_office
        out.append({
            "email": t.recipient_address.email_address,
            "name": t.recipient_address.name,
            "oof_reply": None if oof is None else oof.reply_body,
            "oof_start": None if oof is None else iso(oof.start),
            "oof_end": None if oof is None else iso(oof.end),
        })
    return {"tips": out}


def cmd_mailtips_stock(a):
    acc = account(a)
    return {"mail_tips": repr(acc.mail_tips)}


def cmd_oof(a):
    acc = account(a)
    other = Account(a.email, config=acc.protocol.config, autodiscover=False, access_type=DELEGATE,
                    default_timezone=EWSTimeZone("UTC"))
    s = other.oof_settings
    return {"state": s.state, "start": iso(s.start), "end": iso(s.end),
            "internal_reply": s.internal_reply}


def resolution_json(r):
    if isinstance(r, Exception):
        return failure(r)
    if isinstance(r, tuple):
        mbx, contact = r
        return {"name": mbx.name, "email": mbx.email_address,
                "display_name": contact.display_name if contact else None}
    return {"name": r.name, "email": r.email_address, "mailbox_type": r.mailbox_type}


def cmd_resolve(a):
    acc = account(a)
    out = []
    for name in a.names:
        found = acc.protocol.resolve_names([name], return_full_contact_data=a.full)
        out.append({"name": name, "found": [resolution_json(r) for r in found]})
    return {"resolutions": out}


def cmd_resolve_together(a):
    acc = account(a)
    found = acc.protocol.resolve_names(a.names)
    return {"found": [resolution_json(r) for r in found]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--policy", default="failfast")
    ap.add_argument("--auth", choices=["basic", "ntlm", "negotiate"], default="basic")
    ap.add_argument("--login", help="the sign-in name when it is not --user (DOMAIN\\user)")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("version")
    fb = sub.add_parser("freebusy")
    fb.add_argument("--start", required=True)
    fb.add_argument("--end", required=True)
    fb.add_argument("--tz", default="UTC")
    fb.add_argument("--view", default="DetailedMerged")
    fb.add_argument("--interval", type=int, default=30)
    fb.add_argument("emails", nargs="+")
    mt = sub.add_parser("mailtips")
    mt.add_argument("--sender", required=True)
    mt.add_argument("emails", nargs="+")
    sub.add_parser("mailtips-stock")
    oo = sub.add_parser("oof")
    oo.add_argument("email")
    rs = sub.add_parser("resolve")
    rs.add_argument("--full", action="store_true")
    rs.add_argument("names", nargs="+")
    rt = sub.add_parser("resolve-together")
    rt.add_argument("names", nargs="+")
    a = ap.parse_args()
    if a.auth == "negotiate":
        wrap_ntlm_in_spnego()
    handlers = {
        "version": cmd_version,
        "freebusy": cmd_freebusy,
        "mailtips": cmd_mailtips,
        "mailtips-stock": cmd_mailtips_stock,
        "oof": cmd_oof,
        "resolve": cmd_resolve,
        "resolve-together": cmd_resolve_together,
    }
    try:
        result = handlers[a.command](a)
    except Exception as e:  # the failure itself is what the caller checks
        result = failure(e)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
