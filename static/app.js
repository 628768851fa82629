// What the dashboard does beyond plain htmx attributes. It lives here, not in the
// HTML, because the Content-Security-Policy allows script only from this site's files:
// no inline <script>, no hx-on handlers, no eval'd trigger filters.
(function () {
  "use strict";

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
})();
