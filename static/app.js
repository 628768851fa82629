// What the dashboard does beyond plain htmx attributes. It lives here, not in the
// HTML, because the Content-Security-Policy allows script only from this site's files:
// no inline <script>, no hx-on handlers, no eval'd trigger filters. Every page works
// without it.
(function () {
  "use strict";

  /* The owner's time zone, read from the browser and remembered on the server, so
     pages show local times. Reload once when this page was drawn in another zone. */
  function reportTimeZone() {
    var body = document.body;
    var url = body.dataset.timeZoneUrl;
    if (!url || !window.Intl) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || zone === body.dataset.timeZone) return;
    var same = function (a, b) {
      var utc = ["UTC", "Etc/UTC", "Etc/GMT", "GMT", ""];
      return a === b || (utc.indexOf(a) >= 0 && utc.indexOf(b) >= 0);
    };
    var drawnIn = body.dataset.timeZone || "UTC";
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": body.dataset.csrf, "Content-Type": "application/x-www-form-urlencoded"},
      body: "time_zone=" + encodeURIComponent(zone)
    }).then(function (response) {
      if (response.ok && !same(zone, drawnIn)) window.location.reload();
    });
  }

  /* The search box follows the URL: Back and Forward restore the list, and the box
     must show the search that list is filtered by. */
  function syncSearchBox() {
    var box = document.getElementById("q");
    if (!box) return;
    var q = new URLSearchParams(window.location.search).get("q") || "";
    if (box.value !== q) box.value = q;
    box.setAttribute("value", q);
  }

  function openEdit() {
    return document.querySelector("#customers-table form.row-edit");
  }

  // A change reported while an inline edit is open would replace the row being
  // edited: mark the list stale instead, and refresh once the edit closes.
  document.addEventListener("customers-changed", function () {
    var region = document.querySelector(".live-region");
    if (!region) return;
    if (openEdit()) {
      region.dataset.stale = "1";
      return;
    }
    var table = document.querySelector("#customers-table .table-region");
    if (table) htmx.trigger(table, "customers-refresh");
  });

  document.addEventListener("htmx:afterSettle", function () {
    var region = document.querySelector(".live-region");
    if (region && region.dataset.stale && !openEdit()) {
      delete region.dataset.stale;
      htmx.trigger(document.body, "customers-changed");
    }
  });

  // Escape in an inline edit cancels it (the row listens for "edit-cancel").
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var row = event.target.closest("tr.editing");
    if (row) htmx.trigger(row, "edit-cancel");
  });

  /* Copy buttons: data-copy names the input whose value is copied. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copy + "-status");
    var done = function (message) { if (status) status.textContent = message; };
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { done("Copied."); },
        function () { done("Press Ctrl+C (⌘C) to copy."); });
    } else {
      done(document.execCommand("copy") ? "Copied." : "Press Ctrl+C (⌘C) to copy.");
    }
  });

  document.addEventListener("htmx:historyRestore", syncSearchBox);
  window.addEventListener("popstate", function () { window.setTimeout(syncSearchBox, 0); });
  /* htmx snapshots the page for Back just before leaving its URL: the snapshot's box
     must hold that URL's search, not what is being typed for the next one. */
  document.addEventListener("htmx:beforeHistorySave", function () {
    var box = document.getElementById("q");
    if (box) box.setAttribute("value", new URLSearchParams(window.location.search).get("q") || "");
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncSearchBox();
    reportTimeZone();
  });
})();
