// Floor scan kit (DESIGN §9): a keyboard-wedge scan is never lost. No inline script (CSP).
//
// A page opts in with markup only; the form and the log sit outside every swap target:
//
//   <form method="post" action="/url" hx-boost="false" data-scan-kit
//         data-scan-target="#result" data-scan-swap="outerHTML" data-scan-log="#scan-log">
//     <input type="hidden" name="csrf_token" value="...">
//     <input name="scan" data-scan-input autocomplete="off">     other fields are sent too
//   </form>
//   <ol id="scan-log" class="scan-log"></ol>
//   <div id="result">...</div>
//
// Optional: data-scan-url (default: the form's action), data-scan-key (the field the scan's own
// id goes in, default "key": the floor forms' one-time key, so a resent scan records once),
// data-scan-keep (answered rows kept in the log, default 10). An element of the answer marked
// data-scan-outcome gives the log row its words. Events on the form: scan:received, scan:answered.
//
// Why not hx-post: while a request is in flight htmx drops or replaces the queued ones, which
// loses scans. Here Enter snapshots and clears the field at once, each scan gets its own id and
// waits in our own queue, sent one at a time in order; a lost connection retries the same id.
(function () {
  "use strict";
  const GS = "\x1d";
  const kits = new WeakMap();
  const sending = new Set();  // kits with scans not yet answered

  function newId() {
    // randomUUID exists only in secure contexts; a handheld may reach the plant server by http.
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function csrfToken(form) {
    const field = form.querySelector("input[name=csrf_token]");
    if (field) return field.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  function kitFor(form) {
    let kit = kits.get(form);
    if (!kit) {
      const input = form.querySelector("[data-scan-input]");
      let log = form.dataset.scanLog ? document.querySelector(form.dataset.scanLog) : null;
      if (!log) {
        log = document.createElement("ol");
        log.className = "scan-log";
        log.setAttribute("aria-live", "polite");
        form.after(log);
      }
      kit = { form, input, log, queue: [], busy: false };
      kits.set(form, kit);
    }
    return kit;
  }

  // Focus stays where the operator is typing by hand (a quantity); otherwise the scanner's next
  // keystrokes must land in the scan field. Something focused inside the region just swapped
  // (an autofocus) does not count: the scan field wins.
  function typingElsewhere(kit, region) {
    const el = document.activeElement;
    if (!el || el === kit.input || el === document.body || !el.isConnected) return false;
    if (region && region.contains(el)) return false;
    return el.matches(
      "input:not([type=hidden]):not([type=button]):not([type=submit]):not([type=checkbox]):not([type=radio]), select, textarea, [contenteditable]"
    );
  }

  function refocus(kit, region) {
    if (kit.input && kit.form.isConnected && !typingElsewhere(kit, region)) {
      kit.input.focus({ preventScroll: true });
    }
  }

  function eachKit(fn) {
    document.querySelectorAll("form[data-scan-kit]").forEach((form) => fn(kitFor(form)));
  }

  function shown(value) { return value.split(GS).join("\u241d"); }

  function addRow(kit, item) {
    const row = document.createElement("li");
    row.className = "scan-row";
    row.dataset.scanId = item.id;
    row.dataset.state = "received";
    const code = document.createElement("code");
    code.className = "scan-value";
    code.textContent = shown(item.value);
    const note = document.createElement("span");
    note.className = "scan-note";
    note.textContent = "Received";
    row.append(code, " ", note);
    kit.log.prepend(row);
    return row;
  }

  function mark(row, state, words) {
    row.dataset.state = state;
    row.querySelector(".scan-note").textContent = words;
  }

  function trim(kit) {
    const keep = Number(kit.form.dataset.scanKeep || 10);
    const done = Array.from(kit.log.children).filter((row) => !kit.queue.some((i) => i.row === row));
    done.slice(keep).forEach((row) => row.remove());
  }

  function networkBanner(down) {
    const banner = document.getElementById("network-banner");
    if (banner) banner.hidden = !down;
  }

  // Enter: snapshot and clear in the same handler, so the next scan's keystrokes start clean.
  function take(kit) {
    const value = kit.input.value;
    kit.input.value = "";
    if (!value.trim()) { kit.input.focus(); return; }
    const body = new URLSearchParams();
    for (const [name, v] of new FormData(kit.form)) if (typeof v === "string") body.append(name, v);
    const item = { id: newId(), value, body, row: null };
    body.set(kit.input.name || "scan", value);
    body.set(kit.form.dataset.scanKey || "key", item.id);
    item.row = addRow(kit, item);
    kit.queue.push(item);
    kit.form.dispatchEvent(new CustomEvent("scan:received", { bubbles: true, detail: { id: item.id, value } }));
    pump(kit);
  }

  async function pump(kit) {
    if (kit.busy) return;
    kit.busy = true;
    sending.add(kit);
    try {
      while (kit.queue.length) {
        const item = kit.queue[0];
        const moveOn = await send(kit, item);
        kit.queue.shift();
        if (moveOn) {
          kit.queue.splice(0).forEach((rest) => mark(rest.row, "unsent", "Not sent: the page moved on. Scan again."));
          sending.delete(kit);
          window.location.assign(moveOn);
        }
        trim(kit);
      }
    } finally {
      kit.busy = false;
      sending.delete(kit);
    }
  }

  // One scan until the server answers. No answer at all means nothing is known to be saved: the
  // same id goes again (the server records it once), and later scans wait behind it.
  async function send(kit, item) {
    const url = kit.form.dataset.scanUrl || kit.form.action;
    for (let attempt = 0; ; attempt++) {
      mark(item.row, "sending", attempt ? "Sending again…" : "Received, sending…");
      let response, html;
      try {
        response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "HX-Request": "true",
            "HX-Current-URL": window.location.href,
            "X-CSRFToken": csrfToken(kit.form),
          },
          body: item.body,
        });
        html = await response.text();
      } catch (err) {
        networkBanner(true);
        mark(item.row, "waiting", "No connection; will send again");
        await sleep(Math.min(500 * 2 ** attempt, 5000));
        continue;
      }
      networkBanner(false);
      return answer(kit, item, response, html);
    }
  }

  function answer(kit, item, response, html) {
    const redirect = response.headers.get("HX-Redirect");
    // A redirect here means the scan went unheard (signed out, a stale page), not that it is saved.
    const state = redirect ? "unsent" : response.ok ? "done" : response.status < 500 ? "refused" : "failed";
    const parsed = new DOMParser().parseFromString(html, "text/html");
    const said = parsed.querySelector("[data-scan-outcome]") || parsed.querySelector("[role=alert]");
    const fallback = {
      done: "Done", refused: "Refused", failed: "Not recorded: server error",
      unsent: "Not recorded: the page moved on. Scan again.",
    }[state];
    const words = !redirect && said && said.textContent.replace(/\s+/g, " ").trim();
    const outcome = words || fallback;
    if (!redirect && html.trim() && kit.form.isConnected) {
      const where = response.headers.get("HX-Retarget") || kit.form.dataset.scanTarget;
      const style = response.headers.get("HX-Reswap") || kit.form.dataset.scanSwap || "innerHTML";
      const target = where && document.querySelector(where);
      try {
        if (target) swapInto(kit, target, where, html, style);
      } catch (err) {
        console.error("scan kit: the answer could not be shown", err);  // the scan was answered
      }
    }
    triggerEvents(kit, response.headers.get("HX-Trigger"));
    mark(item.row, state, outcome);
    kit.form.dispatchEvent(new CustomEvent("scan:answered", {
      bubbles: true,
      detail: { id: item.id, value: item.value, status: response.status, state, outcome },
    }));
    return redirect;
  }

  function swapInto(kit, target, where, html, style) {
    const settled = () => refocus(kit, document.querySelector(where));
    if (window.htmx && typeof htmx.swap === "function") {
      // htmx's own pipeline: out-of-band swaps, htmx attributes in the answer, settle events.
      htmx.swap(target, html, { swapStyle: style, swapDelay: 0, settleDelay: 0, ignoreTitle: true },
        { contextElement: kit.form, afterSettleCallback: settled });
    } else {
      if (style === "outerHTML") target.outerHTML = html; else target.innerHTML = html;
      settled();
    }
  }

  function triggerEvents(kit, header) {
    if (!header) return;
    const on = kit.form.isConnected ? kit.form : document.body;
    let events;
    try { events = JSON.parse(header); } catch (e) { events = null; }
    if (events && typeof events === "object") {
      Object.keys(events).forEach((name) => on.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: events[name] })));
    } else {
      header.split(",").map((s) => s.trim()).filter(Boolean)
        .forEach((name) => on.dispatchEvent(new CustomEvent(name, { bubbles: true })));
    }
  }

  function scanInput(target) {
    return target instanceof HTMLInputElement && target.matches("form[data-scan-kit] [data-scan-input]") ? target : null;
  }

  document.addEventListener("keydown", function (event) {
    const input = scanInput(event.target);
    if (!input || event.isComposing) return;
    // GS (FNC1 in GS1 barcodes) comes as the character itself or as Ctrl-]: both become GS.
    const ctrlBracket = event.ctrlKey && !event.altKey && !event.metaKey
      && (event.key === "]" || event.code === "BracketRight");
    if (ctrlBracket || event.key === GS) {
      event.preventDefault();
      input.setRangeText(GS, input.selectionStart, input.selectionEnd, "end");
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      take(kitFor(input.form));
    }
  });

  // The button, or Enter in another field of the form (a quantity), sends what is in the field.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-scan-kit]")) return;
    event.preventDefault();
    take(kitFor(form));
  }, true);

  document.addEventListener("htmx:afterSettle", function (event) {
    eachKit((kit) => { if (!kit.form.contains(event.target) && !event.target.contains(kit.form)) refocus(kit, null); });
  });

  // Leaving the page (reload, a typed address) while scans wait would lose them: ask first.
  // Boosted navigation keeps this script alive, so queued scans are still sent then.
  window.addEventListener("beforeunload", function (event) {
    if (sending.size) { event.preventDefault(); event.returnValue = ""; }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") eachKit((kit) => refocus(kit, null));
  });
})();
