// The desk's only script (served from the desk itself; the pages allow no other):
// keyboard moves through the queue, and the undo button counts down and goes away.
"use strict";

(function () {
  function typing(event) {
    var tag = event.target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.target.isContentEditable;
  }

  function queueKeys() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#queue .row"));
    if (!rows.length) { return; }
    var current = -1;
    function select(index) {
      if (current >= 0) { rows[current].classList.remove("current"); }
      current = Math.max(0, Math.min(rows.length - 1, index));
      rows[current].classList.add("current");
      rows[current].querySelector("a.open").focus();
    }
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "j") { select(current + 1); event.preventDefault(); }
      else if (event.key === "k") { select(current - 1); event.preventDefault(); }
      else if ((event.key === "o" || event.key === "s") && current >= 0) {
        var target = rows[current].querySelector("a.open").getAttribute("href");
        window.location.assign(event.key === "s" ? target + "#set-status" : target);
      }
    });
  }

  function tipKeys() {
    var status = document.getElementById("status-choice");
    if (!status) { return; }
    if (window.location.hash === "#set-status") { status.focus(); }
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "s") { status.focus(); event.preventDefault(); }
      else if (event.key === "n") {
        var next = document.getElementById("next");
        if (next) { window.location.assign(next.getAttribute("href")); }
      }
    });
  }

  function undoCountdown() {
    var form = document.getElementById("undo");
    if (!form) { return; }
    var left = parseInt(form.getAttribute("data-seconds"), 10) || 0;
    var button = form.querySelector("button");
    var words = button.textContent;
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) { window.clearInterval(timer); form.remove(); return; }
      button.textContent = words.replace(/\d+/, String(left));
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    queueKeys();
    tipKeys();
    undoCountdown();
  });
})();
