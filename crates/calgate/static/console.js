// calgate operator console: instant search over the watch list, live status from the event
// stream, and a detail pane. Everything is written with textContent (never as HTML), so names and
// subjects from calendars cannot inject markup.
(function () {
  "use strict";
  var search = document.getElementById("search");
  var results = document.getElementById("results");
  var empty = document.getElementById("empty");
  var detail = document.getElementById("detail");
  var live = document.getElementById("live");
  var people = [];          // the current result list: {email, name, extension, status}
  var statuses = {};        // email -> status, from the stream (newer than the search answer)
  var presences = {};       // email -> Teams presence (null: none read), from the stream
  var selected = -1;
  var opened = null;        // the person record shown in the detail pane
  var searchSeq = 0;
  var timer = null;

  var ICONS = { free: "✓", busy: "●", tentative: "~", oof: "✈", working_elsewhere: "⌂", unknown: "?" };

  // The words in the reader's language, from the page (the server picked the language); dates
  // and times in that language's format.
  var WORDS = {};
  try { WORDS = JSON.parse(document.getElementById("console").getAttribute("data-i18n") || "{}"); } catch (e) { WORDS = {}; }
  var LANG = document.documentElement.lang || "en";
  // T("c-busy-until", {TIME: "14:30"}): the message with its $NAME markers filled in.
  function T(key, vars) {
    var text = WORDS[key] || key;
    Object.keys(vars || {}).forEach(function (k) { text = text.split("$" + k).join(vars[k]); });
    return text;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }
  function hhmm(d) {
    return d.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit", hour12: false });
  }
  function day(d) {
    return d.toLocaleDateString(LANG === "en" ? "en-GB" : LANG, { weekday: "short", day: "numeric", month: "short" });
  }
  // "14:30" today, "Mon 3 Dec 09:00" another day.
  function when(iso, dateOnly) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    if (sameDay(d, new Date())) { return hhmm(d); }
    return dateOnly ? day(d) : day(d) + " " + hhmm(d);
  }
  // An absence ending at a local midnight: the person is back that day.
  function atMidnight(iso) {
    var d = new Date(iso);
    return d.getHours() === 0 && d.getMinutes() === 0 && !sameDay(d, new Date());
  }
  // When an appointment runs: "09:00–10:00" within today, dates when it spans days
  // ("Wed 25 Nov – Mon 30 Nov" for a multi-day absence), never the edges of what was read.
  function span(e) {
    var s = new Date(e.start), en = new Date(e.end);
    if (e.all_day) {
      var last = new Date(en.getTime() - 1);
      return sameDay(s, last) ? T("c-all-day") : day(s) + " – " + day(last);
    }
    if (sameDay(s, en) && sameDay(s, new Date())) { return hhmm(s) + "–" + hhmm(en); }
    return when(e.start) + " – " + when(e.end);
  }
  function busyWords(busyType) {
    var key = { free: "c-free", busy: "c-busy", tentative: "c-tentative", oof: "c-oof", working_elsewhere: "c-elsewhere" }[busyType];
    return key ? T(key) : T("c-unknown");
  }
  // A weekday's short name in the reader's language ("mon" or "monday" → "lun" in Italian).
  function weekdayName(d) {
    var i = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].indexOf(String(d).slice(0, 3).toLowerCase());
    if (i < 0) { return d; }
    return new Date(Date.UTC(2024, 0, 1 + i)).toLocaleDateString(LANG, { weekday: "short", timeZone: "UTC" });
  }
  function ago(iso) {
    if (!iso) { return T("c-never"); }
    var s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 10) { return T("c-just-now"); }
    if (s < 90) { return T("c-s-ago", { N: s }); }
    if (s < 5400) { return T("c-min-ago", { N: Math.round(s / 60) }); }
    return T("c-h-ago", { N: Math.round(s / 3600) });
  }
  function words(st) {
    var state = st ? st.state : "unknown";
    var until = st && st.until;
    switch (state) {
      // A free span that reaches past today ends at the edge of what was read, not at a meeting.
      case "free": return until && sameDay(new Date(until), new Date()) ? T("c-free-until", { TIME: when(until) }) : T("c-free-rest");
      case "busy": return until ? T("c-busy-until", { TIME: when(until) }) : T("c-busy");
      case "tentative": return until ? T("c-tentative-until", { TIME: when(until) }) : T("c-tentative");
      case "oof": return !until ? T("c-oof")
        : atMidnight(until) ? T("c-oof-back", { DAY: day(new Date(until)) })
        : T("c-oof-until", { TIME: when(until, true) });
      case "working_elsewhere": return until ? T("c-elsewhere-until", { TIME: when(until) }) : T("c-elsewhere");
      default: return st && st.unknown_words ? T("c-unknown") + ": " + st.unknown_words : T("c-unknown-unavailable");
    }
  }
  // A 401 means the sign-in ended: go to the sign-in page and come back here afterwards.
  function checked(r) {
    if (r.status === 401) { window.location.assign("/portal/login?next=%2Fconsole"); }
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.json();
  }
  function stateOf(st) { return (st && st.state) || "unknown"; }

  function statusFor(p) { return statuses[p.email] || p.status; }
  function presenceFor(p) { return p.email in presences ? presences[p.email] : p.presence; }

  // Teams presence in words beside the calendar status (never colour alone): the activity when
  // it says more than the availability. Unknown presence says so; it is never "available".
  var ACTIVITY = { InACall: "c-pres-in-a-call", InAConferenceCall: "c-pres-in-a-conference-call",
    InAMeeting: "c-pres-in-a-meeting", Presenting: "c-pres-presenting" };
  var AVAILABILITY = { DoNotDisturb: "c-pres-do-not-disturb", Busy: "c-pres-busy", BusyIdle: "c-pres-busy",
    Away: "c-pres-away", BeRightBack: "c-pres-be-right-back", Available: "c-pres-available",
    AvailableIdle: "c-pres-available", Offline: "c-pres-offline" };
  function presenceWords(pr) {
    if (!pr) { return null; }
    if (!pr.availability || pr.availability === "PresenceUnknown") { return T("c-pres-unknown"); }
    var key = ACTIVITY[pr.activity] || AVAILABILITY[pr.availability];
    return key ? T(key) : T("c-pres-other", { VALUE: pr.availability });
  }
  function presenceBadge(pr) {
    var text = presenceWords(pr);
    if (!text) { return null; }
    var badge = el("span", "presence", T("c-teams") + ": " + text);
    badge.setAttribute("data-availability", pr.availability || "PresenceUnknown");
    badge.setAttribute("data-activity", pr.activity || "PresenceUnknown");
    return badge;
  }

  function renderRow(li, p) {
    var st = statusFor(p);
    var state = stateOf(st);
    li.className = "st-" + state;
    li.setAttribute("data-state", state);
    li.textContent = "";
    var icon = el("span", "icon", ICONS[state] || "?");
    icon.setAttribute("aria-hidden", "true");
    li.appendChild(icon);
    li.appendChild(el("span", "name", p.name || p.email));
    li.appendChild(el("span", "ext", p.extension ? "☎ " + p.extension : ""));
    li.appendChild(el("span", "words", words(st)));
    var badge = presenceBadge(presenceFor(p));
    if (badge) { li.appendChild(badge); }
    // Data that is not current says so on the row itself, not only in the detail pane.
    var fresh = p.freshness;
    if (fresh === "stale" || (fresh === "error" && state !== "unknown")) {
      li.className += " not-current";
      li.appendChild(el("span", "age", T("c-not-current", { AGO: ago(p.as_of) })));
    } else if (fresh === "pending") {
      li.appendChild(el("span", "age", T("c-not-read")));
    }
  }

  function renderList() {
    results.textContent = "";
    people.forEach(function (p, i) {
      var li = el("li");
      li.id = "person-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("data-email", p.email);
      li.setAttribute("aria-selected", i === selected ? "true" : "false");
      renderRow(li, p);
      li.addEventListener("click", function () { select(i); open(); });
      results.appendChild(li);
    });
    empty.hidden = people.length > 0;
  }

  function select(i) {
    if (people.length === 0) { selected = -1; return; }
    selected = Math.max(0, Math.min(people.length - 1, i));
    var items = results.children;
    for (var k = 0; k < items.length; k++) {
      items[k].setAttribute("aria-selected", k === selected ? "true" : "false");
    }
    var cur = items[selected];
    if (cur) {
      search.setAttribute("aria-activedescendant", cur.id);
      cur.scrollIntoView({ block: "nearest" });
    }
  }

  // `keep`: a periodic re-read (the rows' freshness), which keeps the person selected.
  function runSearch(keep) {
    var seq = ++searchSeq;
    var q = search.value.trim();
    var was = keep && people[selected] ? people[selected].email : null;
    fetch("/api/v1/people?limit=200&query=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(checked)
      .then(function (list) {
        if (seq !== searchSeq) { return; }
        people = list;
        var at = 0;
        if (was) { list.forEach(function (p, i) { if (p.email === was) { at = i; } }); }
        selected = list.length > 0 ? at : -1;
        renderList();
        if (selected >= 0) { select(selected); }
      })
      .catch(function (e) { live.textContent = T("c-search-failed", { ERROR: e.message }); });
  }

  function open() {
    if (selected < 0 || !people[selected]) { return; }
    load(people[selected].email);
  }

  // Reads the whole record (timeline, out of office, freshness) of the person shown.
  var wanted = null;
  function load(email) {
    wanted = email;
    fetch("/api/v1/people/" + encodeURIComponent(email), { credentials: "same-origin" })
      .then(checked)
      .then(function (rec) { if (rec.email === wanted) { opened = rec; renderDetail(); } })
      .catch(function (e) { detail.textContent = T("c-could-not-load", { EMAIL: email, ERROR: e.message }); });
  }

  // Minutes east of UTC of a zone ("Europe/Berlin" or "UTC+01:00") at an instant, or null when
  // the browser cannot tell (a Windows zone name).
  function zoneOffset(zone, at) {
    var m = /^UTC([+-])(\d\d):(\d\d)$/.exec(zone);
    if (m) { return (m[1] === "-" ? -1 : 1) * (parseInt(m[2], 10) * 60 + parseInt(m[3], 10)); }
    try {
      var parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" }).formatToParts(at);
      var v = {};
      parts.forEach(function (p) { v[p.type] = parseInt(p.value, 10); });
      var asUtc = Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute);
      return Math.round((asUtc - Math.floor(at.getTime() / 60000) * 60000) / 60000);
    } catch (e) { return null; }
  }
  // The person's working hours today, in the operator's clock ("15:00–23:00"), when they differ.
  function localHours(w) {
    var now = new Date();
    var theirs = zoneOffset(w.time_zone, now);
    if (theirs === null) { return null; }
    var ours = -now.getTimezoneOffset();
    if (theirs === ours) { return null; }
    function shift(hm) {
      var p = hm.split(":");
      var mins = parseInt(p[0], 10) * 60 + parseInt(p[1], 10) - theirs + ours;
      mins = ((mins % 1440) + 1440) % 1440;
      return String(Math.floor(mins / 60)).padStart(2, "0") + ":" + String(mins % 60).padStart(2, "0");
    }
    return shift(w.start) + "–" + shift(w.end);
  }

  function row(dl, term, value, id) {
    if (value === null || value === undefined || value === "") { return; }
    dl.appendChild(el("dt", null, term));
    var dd = el("dd", null, value);
    if (id) { dd.id = id; }
    dl.appendChild(dd);
  }

  function renderDetail() {
    if (!opened) { return; }
    var rec = opened;
    var st = statuses[rec.email] || rec.status;
    var state = stateOf(st);
    detail.textContent = "";
    detail.setAttribute("data-email", rec.email);
    detail.appendChild(el("h2", null, rec.name || rec.email));
    detail.appendChild(el("p", "sub", rec.email + (rec.extension ? " · " + T("c-extension") + " " + rec.extension : "")));
    var banner = el("div", "status-banner st-" + state);
    banner.id = "detail-status";
    banner.setAttribute("data-state", state);
    var icon = el("span", "icon", ICONS[state] || "?");
    icon.setAttribute("aria-hidden", "true");
    banner.appendChild(icon);
    banner.appendChild(el("span", "words", words(st)));
    detail.appendChild(banner);
    var presence = presenceBadge(presenceFor(rec));
    if (presence) {
      presence.id = "detail-presence";
      detail.appendChild(presence);
    }
    var dl = el("dl", "grid");
    if (st && st.next_free && state !== "free") { row(dl, T("c-next-free"), when(st.next_free)); }
    if (st && st.event) {
      var ev = st.event;
      var text = ev.private ? T("c-private") : (ev.subject || T("c-subject-hidden"));
      if (ev.location) { text += " — " + ev.location; }
      row(dl, T("c-now"), text);
    }
    if (state === "unknown" && st && st.unknown_reason) {
      row(dl, T("c-why-unknown"), (st.unknown_words ? st.unknown_words + " " : "") + "(" + st.unknown_reason + ")");
    }
    var fresh = rec.freshness;
    var freshText = T("c-as-of", { AGO: ago(rec.as_of) });
    if (fresh === "stale") { freshText += " — " + T("c-stale-note"); }
    if (fresh === "error") { freshText += " — " + T("c-error-note") + (rec.error ? ": " + rec.error.message + " (" + rec.error.code + ")" : ""); }
    if (fresh === "pending") { freshText = T("c-not-read"); }
    var dt = el("dt", null, T("c-data"));
    var dd = el("dd", "freshness " + fresh, freshText);
    dd.id = "detail-freshness";
    dl.appendChild(dt); dl.appendChild(dd);
    if (rec.out_of_office) {
      var o = rec.out_of_office;
      row(dl, T("c-out-of-office"), (o.until ? T("c-until-day", { DAY: when(o.until, true) }) + " " : "") + (o.message || ""));
    }
    if (rec.working_hours) {
      var w = rec.working_hours;
      var days = w.days.map(weekdayName);
      var text = days.join(", ") + " " + w.start + "–" + w.end + " " + w.time_zone;
      var mine = localHours(w);
      if (mine) { text += " · " + mine + " " + T("c-your-time"); }
      row(dl, T("c-working-hours"), text, "detail-hours");
    }
    detail.appendChild(dl);
    detail.appendChild(el("h3", null, T("c-today")));
    var ul = el("ul", "timeline");
    ul.id = "timeline";
    var now = Date.now();
    if (!rec.today || rec.today.length === 0) {
      ul.appendChild(el("li", "none", state === "unknown" ? T("c-no-data") : T("c-no-appointments")));
    } else {
      rec.today.forEach(function (e) {
        var li = el("li", "bt-" + e.busy_type);
        var s = new Date(e.start).getTime(), en = new Date(e.end).getTime();
        if (s <= now && now < en) { li.className += " now"; } else if (en <= now) { li.className += " past"; }
        li.appendChild(el("span", "t", span(e)));
        // A free/busy-only appointment has no subject: it is named by what it shows as.
        var subj = e.private ? T("c-private") : (e.subject || busyWords(e.busy_type));
        li.appendChild(el("span", null, subj + (e.location ? " — " + e.location : "")));
        ul.appendChild(li);
      });
    }
    detail.appendChild(ul);
  }

  function applyStatus(email, status, presence) {
    statuses[email] = status;
    presences[email] = presence || null;
    var items = results.querySelectorAll("li[data-email]");
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute("data-email") === email) {
        var p = people[i];
        if (p) { renderRow(items[i], p); }
      }
    }
    if (opened && opened.email === email) {
      renderDetail();
      // A status change often means a calendar edit: the timeline may have changed too.
      load(email);
    }
  }

  function connect() {
    var es = new EventSource("/api/v1/stream");
    es.addEventListener("open", function () { live.textContent = T("c-live"); live.className = "live-state on"; });
    // A snapshot comes in parts; the list changes once the last part is in.
    var incoming = null;
    var incomingPresence = null;
    es.addEventListener("snapshot", function (m) {
      var snap = JSON.parse(m.data);
      if (!snap.part || incoming === null) { incoming = {}; incomingPresence = {}; }
      (snap.people || []).forEach(function (e) {
        incoming[e.email] = e.status;
        incomingPresence[e.email] = e.presence || null;
      });
      if (snap.more) { return; }
      statuses = incoming;
      presences = incomingPresence;
      incoming = null;
      incomingPresence = null;
      renderList();
      select(selected);
      renderDetail();
    });
    es.addEventListener("status", function (m) {
      var ch = JSON.parse(m.data);
      applyStatus(ch.email, ch.status, ch.presence);
    });
    es.addEventListener("error", function () {
      live.textContent = T("c-reconnecting");
      live.className = "live-state off";
      // After a gateway restart (or a revoked sign-in) the session is gone: the old rows must
      // not sit there "reconnecting" — back to the sign-in page.
      fetch("/api/v1/health", { credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 401) {
            es.close();
            live.textContent = T("c-signed-out");
            window.location.assign("/portal/login?next=%2Fconsole");
          } else if (es.readyState === EventSource.CLOSED) {
            setTimeout(connect, 3000);
          }
        })
        .catch(function () {
          if (es.readyState === EventSource.CLOSED) { setTimeout(connect, 3000); }
        });
    });
  }

  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(runSearch, 80);
  });
  search.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { select(selected + 1); e.preventDefault(); }
    else if (e.key === "ArrowUp") { select(selected - 1); e.preventDefault(); }
    else if (e.key === "Enter") { clearTimeout(timer); open(); e.preventDefault(); }
    else if (e.key === "Escape") { search.value = ""; runSearch(); }
  });
  // Type anywhere to search.
  document.addEventListener("keydown", function (e) {
    if (document.activeElement === search || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var tag = document.activeElement && document.activeElement.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || tag === "BUTTON") { return; }
    if (e.key.length === 1 || e.key === "ArrowDown" || e.key === "ArrowUp") { search.focus(); }
  });
  setInterval(renderDetail, 15000);
  // The rows' freshness is re-read every minute: an outage shows on the list, not only here.
  setInterval(function () { runSearch(true); }, 60000);
  runSearch();
  connect();
  search.focus();
})();
