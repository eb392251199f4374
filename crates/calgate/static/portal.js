// calgate portal: shows only the settings fields that apply to the chosen provider and grants,
// follows a device-code sign-in, copies a new API token, shows only the directory fields of the
// chosen kind (with filter presets), and reads a chosen CSV file into the watch-list import. The
// server renders the same field choice; this only saves a round trip when the provider or a
// grant changes. Every page works without it.
(function () {
  "use strict";

  // A row applies to the providers in `data-providers`; a row with `data-grant` applies only
  // while that grant is ticked (and offered for the provider), except for the providers in
  // `data-grant-not-needed`.
  var provider = document.getElementById("f-provider");
  function listed(el, name, value) {
    var list = (el.getAttribute(name) || "").split(" ");
    return list.indexOf(value) >= 0;
  }
  function granted(name, p) {
    var box = document.getElementById("f-" + name);
    var row = document.getElementById("row-" + name);
    return !!box && box.checked && !!row && listed(row, "data-providers", p);
  }
  function apply() {
    var p = provider.value;
    var rows = document.querySelectorAll("[data-providers]");
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var shown = listed(row, "data-providers", p);
      var grant = row.getAttribute("data-grant");
      if (shown && grant) {
        shown = listed(row, "data-grant-not-needed", p) || granted(grant, p);
      }
      row.hidden = !shown;
    }
  }
  if (provider) {
    var form = provider.form || document;
    form.addEventListener("change", apply);
    apply();
  }

  // Follows a device-code sign-in until it ends, without reloading the page.
  var device = document.getElementById("device-state");
  function poll() {
    fetch("/portal/signin/device-code", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        device.textContent = s.words;
        device.setAttribute("data-state", s.state);
        if (s.state === "pending") { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  if (device && device.getAttribute("data-state") === "pending") { setTimeout(poll, 2000); }

  // Copy buttons: `data-copy` names the element whose text is copied, `data-status` the live
  // region that says so. Without a usable clipboard the text is selected for Ctrl+C instead.
  function select(target) {
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function copier(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!target) { return; }
    function say(words) { if (status) { status.textContent = words; } }
    function fallback() {
      select(target);
      say("Selected: press Ctrl+C (or ⌘C) to copy.");
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      say("");
      var text = target.textContent.trim();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { say("Copied"); }, fallback);
      } else {
        fallback();
      }
    });
  }
  var buttons = document.querySelectorAll("button[data-copy]");
  for (var j = 0; j < buttons.length; j++) { copier(buttons[j]); }

  // The directory form: the served page shows the fields of both kinds; this hides the other
  // kind's and makes the attribute placeholders the chosen kind's defaults.
  var kind = document.getElementById("d-kind");
  function applyKind() {
    var sets = document.querySelectorAll("[data-directory-kind]");
    for (var i = 0; i < sets.length; i++) {
      sets[i].hidden = sets[i].getAttribute("data-directory-kind") !== kind.value;
    }
    var attrs = document.querySelectorAll("[data-default-" + kind.value + "]");
    for (var k = 0; k < attrs.length; k++) {
      attrs[k].placeholder = attrs[k].getAttribute("data-default-" + kind.value);
    }
  }
  if (kind) {
    kind.addEventListener("change", applyKind);
    applyKind();
  }
  // Filter presets put their filter in the input (without script the page lists them to copy).
  var presets = document.querySelectorAll("button[data-filter]");
  function preset(button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-target"));
      if (input) {
        input.value = button.getAttribute("data-filter");
        input.focus();
      }
    });
  }
  for (var m = 0; m < presets.length; m++) { preset(presets[m]); }

  // The watch-list import: a chosen .csv file is read as UTF-8 into the import box and
  // previewed through the same form (and its CSRF field) as pasted rows.
  var file = document.getElementById("rows-file");
  var FORM_LIMIT = 2 * 1024 * 1024 - 16 * 1024;
  if (file) {
    var rows = document.getElementById("rows");
    var previewButton = document.getElementById("preview");
    var fileError = document.getElementById("rows-file-error");
    var refuse = function (words) {
      fileError.textContent = words;
      fileError.hidden = false;
    };
    document.getElementById("rows-file-row").hidden = false;
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      fileError.hidden = true;
      if (!chosen) { return; }
      if (chosen.size > FORM_LIMIT) { refuse(file.getAttribute("data-too-large")); return; }
      var reader = new FileReader();
      reader.onload = function () {
        var text = String(reader.result);
        // The form travels URL-encoded: what the server accepts is measured that way.
        if (encodeURIComponent(text).length > FORM_LIMIT) {
          refuse(file.getAttribute("data-too-large"));
          return;
        }
        rows.value = text;
        if (rows.form.requestSubmit) { rows.form.requestSubmit(previewButton); } else { previewButton.click(); }
      };
      reader.onerror = function () { refuse(file.getAttribute("data-unreadable")); };
      reader.readAsText(chosen, "UTF-8");
    });
  }
})();
