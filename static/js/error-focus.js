// error-focus.js - a form shown again with its errors: move focus to the error
// summary, so a screen reader reads it first and the keyboard starts there
// (GOV.UK's error summary does the same). Without script the summary is still
// first in the page and announced by role="alert".
document.addEventListener('DOMContentLoaded', function () {
  var summary = document.querySelector('.error-summary');
  if (summary) summary.focus();
});
