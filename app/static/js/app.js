// Batchbook shell behaviour: idle sign-out, network state, service worker. No inline script (CSP).
(function () {
  "use strict";
  const body = document.body;

  // Idle sign-out mirrors the server's timeout, so an unattended handheld shows the sign-in page
  // instead of somebody's open record. The server enforces it regardless.
  const idleSeconds = Number(body.dataset.idleTimeout || 0);
  let idleTimer = null;
  function armIdleTimer() {
    if (!idleSeconds) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => window.location.reload(), (idleSeconds + 1) * 1000);
  }
  armIdleTimer();
  document.addEventListener("htmx:afterRequest", armIdleTimer);
  document.addEventListener("scan:answered", armIdleTimer);  // the scan kit sends without htmx

  // A request that never reached the server must say so: nothing was saved.
  const banner = document.getElementById("network-banner");
  function showNetwork(online) { if (banner) banner.hidden = online; }
  window.addEventListener("offline", () => showNetwork(false));
  window.addEventListener("online", () => showNetwork(true));
  document.addEventListener("htmx:sendError", () => showNetwork(false));
  document.addEventListener("htmx:afterRequest", (e) => { if (e.detail.xhr && e.detail.xhr.status) showNetwork(true); });

  // Printable pages (labels until the bridge prints them) open the print dialog once.
  if (document.querySelector("[data-autoprint]")) window.addEventListener("load", () => window.print());

  // A Print button (data-print) opens the print dialog: no inline onclick under the CSP.
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
  });

  if ("serviceWorker" in navigator && body.dataset.sw) {
    navigator.serviceWorker.register(body.dataset.sw, { scope: "/" }).catch(() => {});
  }
})();
