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
})();
