// LDN CDS web page: print, copy the results as text, move focus to what changed, and date the form
// with the browser's local date.
// Plain JavaScript, no build; the page works without it (except these two buttons).
(function () {
  "use strict";

  function copyStatus(text) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = text; }
  }

  function selectRecord(record) {
    var range = document.createRange();
    range.selectNodeContents(record);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyByHand(record) {
    selectRecord(record);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    copyStatus(copied ? "Copied" : "The clipboard is not available: the text is selected below, press Ctrl+C (\u2318C on a Mac) to copy it.");
  }

  function copyRecord() {
    var record = document.getElementById("record-text");
    if (!record) { return; }
    var text = record.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copyStatus("Copied"); },
        function () { copyByHand(record); }
      );
    } else {
      copyByHand(record);
    }
  }

  // Today in the browser's own time zone (the server only knows the UTC date).
  function localToday() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate());
  }

  function useLocalDate() {
    var today = localToday();
    var asOf = document.getElementById("as_of");
    if (asOf && asOf.hasAttribute("data-default-today")) { asOf.value = today; }
    var limited = document.querySelectorAll("input[data-max-today]");
    for (var i = 0; i < limited.length; i += 1) { limited[i].max = today; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    useLocalDate();
    var print = document.getElementById("print-button");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
    var copy = document.getElementById("copy-button");
    if (copy) { copy.addEventListener("click", copyRecord); }
    // After a check: the errors first, else the results (on a phone they are far below the form).
    var target = document.getElementById("error-summary") || document.getElementById("results-title");
    if (target) { target.focus(); }
  });
}());
