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
  var selected = -1;
  var opened = null;        // the person record shown in the detail pane
  var searchSeq = 0;
  var timer = null;

  var ICONS = { free: "✓", busy: "●", tentative: "~", oof: "✈", working_elsewhere: "⌂", unknown: "?" };

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
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  }
  function day(d) {
    return d.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" });
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
      return sameDay(s, last) ? "all day" : day(s) + " – " + day(last);
    }
    if (sameDay(s, en) && sameDay(s, new Date())) { return hhmm(s) + "–" + hhmm(en); }
    return when(e.start) + " – " + when(e.end);
  }
  function ago(iso) {
    if (!iso) { return "never"; }
    var s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 10) { return "just now"; }
    if (s < 90) { return s + " s ago"; }
    if (s < 5400) { return Math.round(s / 60) + " min ago"; }
    return Math.round(s / 3600) + " h ago";
  }
  function words(st) {
    var state = st ? st.state : "unknown";
    var until = st && st.until;
    switch (state) {
      // A free span that reaches past today ends at the edge of what was read, not at a meeting.
      case "free": return until && sameDay(new Date(until), new Date()) ? "Free until " + when(until) : "Free for the rest of today";
      case "busy": return until ? "In a meeting until " + when(until) : "In a meeting";
      case "tentative": return until ? "Tentative until " + when(until) : "Tentative";
      case "oof": return !until ? "Out of office"
        : atMidnight(until) ? "Out of office, back " + day(new Date(until))
        : "Out of office until " + when(until, true);
      case "working_elsewhere": return until ? "Working elsewhere until " + when(until) : "Working elsewhere";
      default: return "Unknown" + (st && st.unknown_words ? ": " + st.unknown_words : " — calendar unavailable");
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
    // Data that is not current says so on the row itself, not only in the detail pane.
    var fresh = p.freshness;
    if (fresh === "stale" || (fresh === "error" && state !== "unknown")) {
      li.className += " not-current";
      li.appendChild(el("span", "age", "not current: read " + ago(p.as_of)));
    } else if (fresh === "pending") {
      li.appendChild(el("span", "age", "not read yet"));
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
      .catch(function (e) { live.textContent = "search failed: " + e.message; });
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
      .catch(function (e) { detail.textContent = "Could not load " + email + ": " + e.message; });
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
    detail.appendChild(el("p", "sub", rec.email + (rec.extension ? " · extension " + rec.extension : "")));
    var banner = el("div", "status-banner st-" + state);
    banner.id = "detail-status";
    banner.setAttribute("data-state", state);
    var icon = el("span", "icon", ICONS[state] || "?");
    icon.setAttribute("aria-hidden", "true");
    banner.appendChild(icon);
    banner.appendChild(el("span", "words", words(st)));
    detail.appendChild(banner);
    var dl = el("dl", "grid");
    if (st && st.next_free && state !== "free") { row(dl, "Next free", when(st.next_free)); }
    if (st && st.event) {
      var ev = st.event;
      var text = ev.private ? "Private appointment" : (ev.subject || "(subject hidden)");
      if (ev.location) { text += " — " + ev.location; }
      row(dl, "Now", text);
    }
    if (state === "unknown" && st && st.unknown_reason) {
      row(dl, "Why unknown", (st.unknown_words ? st.unknown_words + " " : "") + "(" + st.unknown_reason + ")");
    }
    var fresh = rec.freshness;
    var freshText = "as of " + ago(rec.as_of);
    if (fresh === "stale") { freshText += " — stale: the calendar could not be read recently"; }
    if (fresh === "error") { freshText += " — the calendar could not be read" + (rec.error ? ": " + rec.error.message + " (" + rec.error.code + ")" : ""); }
    if (fresh === "pending") { freshText = "not read yet"; }
    var dt = el("dt", null, "Data");
    var dd = el("dd", "freshness " + fresh, freshText);
    dd.id = "detail-freshness";
    dl.appendChild(dt); dl.appendChild(dd);
    if (rec.out_of_office) {
      var o = rec.out_of_office;
      row(dl, "Out of office", (o.until ? "until " + when(o.until, true) + ". " : "") + (o.message || ""));
    }
    if (rec.working_hours) {
      var w = rec.working_hours;
      var days = w.days.map(function (d) { return d.charAt(0).toUpperCase() + d.slice(1); });
      var text = days.join(", ") + " " + w.start + "–" + w.end + " " + w.time_zone;
      var mine = localHours(w);
      if (mine) { text += " · " + mine + " your time"; }
      row(dl, "Working hours", text, "detail-hours");
    }
    detail.appendChild(dl);
    detail.appendChild(el("h3", null, "Today"));
    var ul = el("ul", "timeline");
    ul.id = "timeline";
    var now = Date.now();
    if (!rec.today || rec.today.length === 0) {
      ul.appendChild(el("li", "none", state === "unknown" ? "Unknown: no calendar data." : "No appointments today."));
    } else {
      rec.today.forEach(function (e) {
        var li = el("li", "bt-" + e.busy_type);
        var s = new Date(e.start).getTime(), en = new Date(e.end).getTime();
        if (s <= now && now < en) { li.className += " now"; } else if (en <= now) { li.className += " past"; }
        li.appendChild(el("span", "t", span(e)));
        var subj = e.private ? "Private appointment" : (e.subject || e.busy_type);
        li.appendChild(el("span", null, subj + (e.location ? " — " + e.location : "")));
        ul.appendChild(li);
      });
    }
    detail.appendChild(ul);
  }

  function applyStatus(email, status) {
    statuses[email] = status;
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
    es.addEventListener("open", function () { live.textContent = "live"; live.className = "live-state on"; });
    // A snapshot comes in parts; the list changes once the last part is in.
    var incoming = null;
    es.addEventListener("snapshot", function (m) {
      var snap = JSON.parse(m.data);
      if (!snap.part || incoming === null) { incoming = {}; }
      (snap.people || []).forEach(function (e) { incoming[e.email] = e.status; });
      if (snap.more) { return; }
      statuses = incoming;
      incoming = null;
      renderList();
      select(selected);
      renderDetail();
    });
    es.addEventListener("status", function (m) {
      var ch = JSON.parse(m.data);
      applyStatus(ch.email, ch.status);
    });
    es.addEventListener("error", function () {
      live.textContent = "reconnecting…";
      live.className = "live-state off";
      // After a gateway restart (or a revoked sign-in) the session is gone: the old rows must
      // not sit there "reconnecting" — back to the sign-in page.
      fetch("/api/v1/health", { credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 401) {
            es.close();
            live.textContent = "signed out";
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
