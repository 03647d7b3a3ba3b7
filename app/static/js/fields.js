// Scanner Enter rules: one behaviour for every form a hardware scanner types into. A scanner
// types the barcode and presses Enter; a tired hand presses Enter too. No inline script (CSP).
//
// A form opts in with markup only:   <form ... data-enter-rules novalidate>
//   - Enter in a field moves to the next empty required field (then the first one left empty
//     above); the form is sent only when every required field holds something. So scanning the
//     batch number never sends a form whose lot is still empty.
//   - When the page (or a swapped-in part of it) shows a refusal, the cursor lands in the first
//     field marked aria-invalid, its text selected so the next scan replaces it rather than being
//     appended to it. Otherwise it lands on the element marked data-next (the next thing to do,
//     such as the next pick line), else in the first empty required field.
//   - Ctrl-] (how many scanners send the GS1 separator FNC1) becomes the GS character in fields
//     marked data-gs1.
// `novalidate`: the server answers what is missing in a sentence beside the field; the browser's
// bubbles would hide those sentences and differ between browsers.
(function () {
  "use strict";
  const GS = "\x1d";
  const FILLABLE = "input:not([type=hidden]):not([type=button]):not([type=submit]):not([type=checkbox]):not([type=radio]):not([disabled]):not([readonly]), select:not([disabled]), textarea:not([disabled]):not([readonly])";

  function rulesForm(el) {
    const form = el && el.form;
    return form && form.matches("[data-enter-rules]") && !form.matches("[data-scan-kit]") ? form : null;
  }

  function visible(el) { return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length); }

  function requiredEmpty(form) {
    return Array.from(form.querySelectorAll(FILLABLE))
      .filter((el) => el.required && visible(el) && !String(el.value).trim());
  }

  function place(el, select) {
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "center", behavior: "instant" });
    if (select && typeof el.select === "function" && el.type !== "date") el.select();
  }

  function next(form, from) {
    const empty = requiredEmpty(form);
    const fields = Array.from(form.querySelectorAll(FILLABLE));
    const here = fields.indexOf(from);
    return empty.find((el) => fields.indexOf(el) > here) || empty[0] || null;
  }

  document.addEventListener("keydown", function (event) {
    const field = event.target;
    if (!(field instanceof HTMLInputElement) || event.isComposing) return;
    const form = rulesForm(field);
    if (!form) return;
    const ctrlBracket = event.ctrlKey && !event.altKey && !event.metaKey
      && (event.key === "]" || event.code === "BracketRight");
    if (field.matches("[data-gs1]") && (ctrlBracket || event.key === GS)) {
      event.preventDefault();
      field.setRangeText(GS, field.selectionStart, field.selectionEnd, "end");
      return;
    }
    if (event.key !== "Enter" || field.matches("[type=checkbox], [type=radio]")) return;
    event.preventDefault();
    const missing = next(form, field);
    if (missing) place(missing, false);
    else form.requestSubmit();
  });

  // Where the cursor goes when a page or a part of it arrives.
  function settle(root) {
    const scope = root && root.querySelector ? root : document;
    // A scan kit's field keeps the cursor while scans come in (js/scan.js): never steal it.
    const active = document.activeElement;
    if (active && active.matches && active.matches("form[data-scan-kit] [data-scan-input]")) return;
    const refused = scope.querySelector("form[data-enter-rules] [aria-invalid=true]");
    if (refused) { place(refused, true); return; }
    const marked = scope.querySelector("[data-next]");
    if (marked) { place(marked, false); return; }
    const form = scope.matches && scope.matches("form[data-enter-rules]")
      ? scope : scope.querySelector("form[data-enter-rules]");
    if (!form || scope.querySelector("[autofocus]")) return;  // the page chose already
    const empty = requiredEmpty(form)[0];
    if (empty) place(empty, false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => settle(document));
  else settle(document);
  document.addEventListener("htmx:afterSettle", (event) => settle(event.target));
})();
