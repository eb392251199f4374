"""Graph change notifications at scale, for bench/run.py (which passes itself in as `kit` for
the simulator, gateway and measuring helpers).

A gateway watches N mailboxes of the simulator's Microsoft 365 tenant over Graph with change
notifications on, the safety sweep at an hour and polling (for a mailbox without a working
subscription) at 300 s. Three phases:

- setup: every mailbox read once and subscribed (each subscription validated by the
  simulator against the gateway's endpoint);
- steady state: nothing changes for a while; every Graph request the simulator answers is
  counted, per mailbox and hour. The window begins once the first reads have fallen due again
  (a mailbox read before its subscription existed is next read at the refresh interval, and
  from then on the sweep's pacing spreads everyone's reads over the hour, in requests of 20);
  before that nothing at all is due, which would flatter the figure. A renewal per
  subscription comes at three quarters of the lifetime Graph granted, which this window is far
  too short to see, so its share is worked out from the granted lifetime and printed beside;
- latency: a stream client on the gateway, then K mailboxes each get a meeting that starts
  now, one every 0.2 s, on the simulator's control API; the delay from the control call to the
  status event on the stream is taken for each.
"""
import json
import selectors
import time

SWEEP_S = 3600
POLL_S = 300
CHANGE_GAP_S = 0.2


def graph_counts(sim):
    stats = sim.stats()
    graph = {k: v for k, v in stats.items() if k.startswith("graph.")}
    token = sum(v for k, v in stats.items() if k.startswith("entra.token"))
    return graph, token


def meeting_now(kit):
    now = time.time()
    start = kit.dt.datetime.fromtimestamp(now - 300, kit.dt.timezone.utc).isoformat()
    end = kit.dt.datetime.fromtimestamp(now + 3600, kit.dt.timezone.utc).isoformat()
    return [{"start": start, "end": end, "busy_type": "busy", "subject": "Booked now"}]


def subscriptions(gw):
    n = gw.api("GET", "/api/v1/health").get("notifications") or {}
    return int(n.get("subscriptions", 0))


def pump(sel, until):
    """Reads every stream connection until `until` (monotonic)."""
    while time.monotonic() < until:
        ready = sel.select(timeout=0.05)
        now = time.time()
        for key, _ in ready:
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            if data:
                key.data.feed(data, now)


def run(a, n, work, kit):
    kit.log(f"notifications: simulator with {n} mailboxes over Graph")
    sim = kit.Sim(a.sim, n * 12 // 10 + 50, work, a.today_as,
                  extra=("--tls", "--tenant-id", kit.GRAPH_TENANT, "--client-id",
                         kit.GRAPH_CLIENT, "--client-secret", kit.GRAPH_SECRET),
                  name=f"notify-{n}")
    gw = None
    conn = None
    try:
        emails = [p["email"] for p in sim.people()
                  if p["free_busy_access"] == "detailed"][:n]
        if len(emails) < n:
            raise RuntimeError(f"only {len(emails)} readable mailboxes in the tenant")
        base = sim.urls["graph_url"].rstrip("/").removesuffix("/v1.0")
        with open(sim.urls["ca_cert_pem_path"], encoding="ascii") as f:
            ca = f.read()
        gw = kit.Gateway(a.calgate, work, f"notify-{n}")
        gw.api("PUT", "/api/v1/settings/calendar", {
            "provider": "microsoft365", "tenant_id": kit.GRAPH_TENANT,
            "client_id": kit.GRAPH_CLIENT, "client_secret": kit.GRAPH_SECRET,
            "authority_host": base, "graph_endpoint": base, "extra_ca_pem": ca,
            "refresh_interval_s": POLL_S, "change_notifications": True,
            "notification_url": gw.base, "notification_sweep_s": SWEEP_S,
            "allow_insecure_http": True})
        time.sleep(0.5)
        sim.reset_stats()
        cpu0 = kit.cpu_s(gw.pid)
        t0 = time.monotonic()
        gw.watch(emails)
        kit.wait_until(lambda: gw.done() >= n, a.timeout, f"{n} mailboxes read", every=0.2)
        read_s = time.monotonic() - t0
        kit.wait_until(lambda: subscriptions(gw) >= n, a.timeout, f"{n} subscriptions",
                       every=0.5)
        setup = {"read_s": read_s, "subscribed_s": time.monotonic() - t0,
                 "cpu_s": kit.cpu_s(gw.pid) - cpu0, "peak_rss_mb": kit.mem_mb(gw.pid)[0]}
        setup["graph"], setup["token_requests"] = graph_counts(sim)
        listed = sim.control_api("GET", "/graph/subscriptions")
        lifetimes = [kit.parse_ts(s["expires"]) - time.time() for s in listed]
        granted_h = (sum(lifetimes) / len(lifetimes) / 3600) if lifetimes else None

        settle = max(0.0, t0 + read_s + a.notify_settle_s - time.monotonic())
        if settle:
            kit.log(f"notifications: {settle:.0f} s until the first reads fall due again")
            time.sleep(settle)
        kit.log(f"notifications: steady state for {a.notify_window_s} s")
        sim.reset_stats()
        cpu1 = kit.cpu_s(gw.pid)
        time.sleep(a.notify_window_s)
        graph, token = graph_counts(sim)
        total = sum(graph.values())
        hours = a.notify_window_s / 3600
        renew_share = (1 / (0.75 * granted_h)) if granted_h else None
        steady = {"window_s": a.notify_window_s, "began_after_read_s": a.notify_settle_s,
                  "graph": graph, "graph_requests": total,
                  "token_requests": token,
                  "per_mailbox_hour": total / n / hours,
                  "renewals_per_mailbox_hour": renew_share,
                  "granted_lifetime_h": granted_h,
                  "cpu_pct": (kit.cpu_s(gw.pid) - cpu1) / a.notify_window_s * 100,
                  "rss_mb": kit.mem_mb(gw.pid)[1]}

        k = min(a.notify_changes, n)
        changed = emails[:k]
        kit.log(f"notifications: {k} calendars cleared, then booked one every {CHANGE_GAP_S} s")
        for e in changed:
            sim.control_api("PUT", f"/mailboxes/{e}/events", [])
        kit.wait_until(lambda: all(gw.api("GET", f"/api/v1/people/{e}")["status"]["state"]
                                   == "free" for e in changed[-5:]), 60, "cleared calendars")
        time.sleep(2)
        host, port = "127.0.0.1", int(gw.base.rsplit(":", 1)[1])
        conn = kit.SseConn(host, port, gw.token)
        sel = kit.selectors.DefaultSelector()
        sel.register(conn.sock, selectors.EVENT_READ, conn)
        pump(sel, time.monotonic() + 2)
        sim.reset_stats()
        booked = {}
        for e in changed:
            booked[e] = time.time()
            sim.control_api("PUT", f"/mailboxes/{e}/events", meeting_now(kit))
            pump(sel, time.monotonic() + CHANGE_GAP_S)
        pump(sel, time.monotonic() + 10)
        delays = []
        for e in changed:
            seen = [t for t, name, d in conn.events
                    if name == "status" and t >= booked[e]
                    and json.loads(d).get("email") == e
                    and json.loads(d)["status"]["state"] == "busy"]
            if seen:
                delays.append(seen[0] - booked[e])
        graph, _ = graph_counts(sim)
        latency = {"changes": k, "seen": len(delays), "delay_s": kit.summary(delays),
                   "graph": graph}
        metrics = gw_metrics(gw)
        return {"mailboxes": n, "setup": setup, "steady": steady, "latency": latency,
                "gateway_counters": metrics}
    finally:
        if conn:
            conn.sock.close()
        if gw:
            gw.stop()
        sim.stop()


def gw_metrics(gw):
    """The gateway's own notification counters from /metrics."""
    with kit_urlopen(f"{gw.base}/metrics") as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("calgate_notification") and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            if "_bucket" not in name:
                out[name] = float(value)
    return out


def kit_urlopen(url):
    import urllib.request
    return urllib.request.urlopen(url, timeout=30)


def table(results, kit):
    rows = ["| watched | phase | figures |", "|---|---|---|"]
    for r in results:
        n = r["mailboxes"]
        if "failed" in r:
            rows.append(f"| {n} | failed | {r['failed']} |")
            continue
        s, st, lat = r["setup"], r["steady"], r["latency"]
        creates = s["graph"].get("graph.subscriptions.create", 0)
        rows.append(f"| {n} | setup | everyone read in {s['read_s']:.1f} s and subscribed in "
                    f"{s['subscribed_s']:.1f} s; {creates} subscriptions made; gateway CPU "
                    f"{s['cpu_s']:.2f} s, peak RSS {s['peak_rss_mb']:.1f} MB |")
        ops = ", ".join(f"{k.removeprefix('graph.')} {v}" for k, v in sorted(st["graph"].items()))
        renew = st["renewals_per_mailbox_hour"]
        rows.append(f"| {n} | steady, {st['window_s']} s from {st['began_after_read_s']} s after "
                    f"everyone was read, nothing changing | "
                    f"{st['graph_requests']} Graph requests ({ops or 'none'}), token "
                    f"{st['token_requests']}: **{st['per_mailbox_hour']:.4f} per mailbox per "
                    f"hour**; renewals add {kit.fmt(renew, digits=4)} per mailbox per hour "
                    f"(lifetime granted {kit.fmt(st['granted_lifetime_h'], ' h', 1)}); gateway "
                    f"CPU {st['cpu_pct']:.2f} %, RSS {st['rss_mb']:.1f} MB |")
        d = lat["delay_s"]
        if d.get("n"):
            getsched = lat["graph"].get("graph.getSchedule", 0)
            rows.append(f"| {n} | {lat['changes']} meetings booked, one every {CHANGE_GAP_S} s | "
                        f"seen on the stream: {lat['seen']} of {lat['changes']}; change → stream "
                        f"**p50 {d['p50'] * 1e3:.0f} ms, p99 {d['p99'] * 1e3:.0f} ms**, max "
                        f"{d['max'] * 1e3:.0f} ms; {getsched} getSchedule requests |")
        else:
            rows.append(f"| {n} | {lat['changes']} meetings booked | none seen on the stream |")
    rows.append("")
    rows.append(f"Polling every {POLL_S} s in requests of 20 would cost "
                f"{3600 / POLL_S / 20:.2f} Graph requests per mailbox per hour.")
    return "\n".join(rows)
