// LDN CDS web page: print, copy the results as text, and move focus to what changed.
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

  document.addEventListener("DOMContentLoaded", function () {
    var print = document.getElementById("print-button");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
    var copy = document.getElementById("copy-button");
    if (copy) { copy.addEventListener("click", copyRecord); }
    // After a check: the errors first, else the results (on a phone they are far below the form).
    var target = document.getElementById("error-summary") || document.getElementById("results-title");
    if (target) { target.focus(); }
  });
}());
