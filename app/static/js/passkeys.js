// Passkey ceremonies: enrol, sign in, sign a record. The server makes and checks every challenge;
// this file only carries options to the authenticator and its answer back. No inline script (CSP).
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) throw new Error(data.error || ("The server refused (" + response.status + ")."));
    return data;
  }

  function explain(err) {
    if (err && err.name === "NotAllowedError") return "The passkey was cancelled or did not verify you. Nothing was done.";
    if (err && err.name === "InvalidStateError") return "This passkey is already enrolled.";
    if (err && err.name === "SecurityError") return "Passkeys need this site to be opened by its proper name (e.g. localhost, not an IP address).";
    return (err && err.message) || String(err);
  }

  function show(id, message) {
    const box = document.getElementById(id);
    if (box) { box.textContent = message; box.hidden = !message; }
  }

  function supported() {
    return window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON;
  }

  document.addEventListener("click", async function (event) {
    const enrol = event.target.closest("[data-passkey-enrol]");
    const login = event.target.closest("[data-passkey-login]");
    const sign = event.target.closest("[data-passkey-sign]");
    const dismiss = event.target.closest("[data-dismiss-dialog]");
    const reveal = event.target.closest("[data-reveal]");
    if (reveal) {
      const shown = document.getElementById(reveal.dataset.reveal);
      if (shown) {
        shown.hidden = false;
        reveal.hidden = true;
        const first = shown.querySelector("input, select, textarea, button");
        if (first) first.focus();
      }
      return;
    }
    if (dismiss) {
      const slot = dismiss.closest(".sign-dialog-slot");
      if (slot) slot.innerHTML = "";
      return;
    }
    if (!enrol && !login && !sign) return;
    const button = enrol || login || sign;
    const errorBox = enrol ? "enrol-error" : login ? "passkey-login-error" : "sign-client-error";
    if (!supported()) { show(errorBox, "This browser cannot use passkeys. Use a current Chrome, Edge or Safari."); return; }
    button.disabled = true;
    show(errorBox, "");
    try {
      if (enrol) {
        const card = document.getElementById("enrol");
        const start = await postJSON(card.dataset.optionsUrl);
        const options = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(start.options));
        const credential = await navigator.credentials.create({ publicKey: options });
        const name = (document.getElementById("passkey-name") || {}).value || "Passkey";
        const done = await postJSON(card.dataset.finishUrl, { challenge_id: start.challenge_id, name: name, credential: credential.toJSON() });
        window.location.assign(done.redirect);
      } else if (login) {
        const start = await postJSON(button.dataset.optionsUrl);
        const options = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(start.options));
        const credential = await navigator.credentials.get({ publicKey: options });
        const next = (document.querySelector("input[name=next]") || {}).value || "";
        const done = await postJSON(button.dataset.finishUrl, { challenge_id: start.challenge_id, credential: credential.toJSON(), next: next });
        window.location.assign(done.redirect);
      } else {
        const form = button.closest("form");
        const options = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(button.dataset.options));
        const credential = await navigator.credentials.get({ publicKey: options });
        form.querySelector("input[name=method]").value = "passkey";
        form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
        htmx.trigger(form, "submit");
        return;  // the server's answer replaces the dialog
      }
    } catch (err) {
      show(errorBox, explain(err));
    }
    button.disabled = false;
  });

  // The signing panel opens below the record on a phone: bring it into view and put the finger
  // (or the cursor) on its first control, so tapping "Release" visibly does something.
  document.addEventListener("htmx:afterSettle", function (event) {
    const card = event.target && event.target.id === "sign-dialog" ? event.target.querySelector(".sign-dialog") : null;
    if (!card) return;
    card.scrollIntoView({ block: "start", behavior: "instant" });
    const first = card.querySelector("[aria-invalid=true], select, input:not([type=hidden]), textarea, [data-passkey-sign], a.btn, button");
    if (first) first.focus({ preventScroll: true });
  });
})();
