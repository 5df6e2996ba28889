/*
 * read-aloud.js - the elder-mode "read this page aloud" button.
 *
 * The button is in the page hidden; it is shown only when the browser can
 * speak (window.speechSynthesis), so nobody sees a button that does nothing.
 * It reads the text of <main> in the page's language and toggles to "stop".
 * No inline script is needed: the CSP allows only files from /static.
 */
(function () {
  "use strict";
  function init() {
    var button = document.querySelector(".read-aloud-button");
    if (!button || !("speechSynthesis" in window) || !window.SpeechSynthesisUtterance) {
      return;
    }
    var synth = window.speechSynthesis;
    var lang = document.documentElement.lang || "zh-CN";
    function label(speaking) {
      button.textContent = speaking ? button.dataset.stop : button.dataset.start;
      button.setAttribute("aria-pressed", speaking ? "true" : "false");
    }
    function text() {
      var main = document.getElementById("main");
      if (!main) {
        return "";
      }
      var copy = main.cloneNode(true);
      var skip = copy.querySelectorAll(".read-aloud, script, [hidden], [aria-hidden='true']");
      for (var i = 0; i < skip.length; i++) {
        skip[i].parentNode.removeChild(skip[i]);
      }
      return (copy.textContent || "").replace(/\s+/g, " ").trim();
    }
    button.addEventListener("click", function () {
      if (synth.speaking) {
        synth.cancel();
        label(false);
        return;
      }
      var u = new window.SpeechSynthesisUtterance(text());
      u.lang = lang;
      u.rate = 0.9;
      u.onend = function () { label(false); };
      u.onerror = function () { label(false); };
      synth.speak(u);
      label(true);
    });
    button.hidden = false;
    label(false);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
