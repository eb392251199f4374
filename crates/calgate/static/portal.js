// calgate portal: shows only the settings fields that apply to the chosen provider.
// The server renders the same choice; this only saves a round trip when the provider changes.
(function () {
  "use strict";
  var provider = document.getElementById("f-provider");
  if (!provider) { return; }
  function apply() {
    var p = provider.value;
    var rows = document.querySelectorAll("[data-providers]");
    for (var i = 0; i < rows.length; i++) {
      var list = rows[i].getAttribute("data-providers").split(" ");
      rows[i].hidden = list.indexOf(p) < 0;
    }
  }
  provider.addEventListener("change", apply);
  apply();

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
})();
