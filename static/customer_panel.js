// The customer panel beside the list. When a row opens it (not when it refreshes
// itself after a live change), move focus to its heading, so keyboard and
// screen-reader users land on what they opened.
document.addEventListener("htmx:afterSwap", (event) => {
  const panel = document.getElementById("customer-panel");
  const opener = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (event.detail.target !== panel || !opener || !opener.classList.contains("open-customer")) {
    return;
  }
  const heading = panel.querySelector("h2");
  if (heading) heading.focus();
});

// The panel is open exactly when the URL is a customer's page: filtering, searching or
// paging the list pushes a list URL, so the panel closes with it (a reload shows the same).
document.addEventListener("htmx:pushedIntoHistory", (event) => {
  const panel = document.getElementById("customer-panel");
  if (panel && !/^\/customers\/\d+/.test(event.detail.path)) {
    panel.replaceChildren();
  }
});
