// Copse's one script. Every form works without it; it only adds a preview under the boxes
// where posts and replies are written in Markdown (textarea[data-preview]).
"use strict";
document.querySelectorAll("textarea[data-preview]").forEach(function (box) {
  var form = box.form;
  var token = form && form.querySelector("input[name=csrf]");
  if (!token) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = "Preview";
  var shown = document.createElement("div");
  shown.className = "preview";
  shown.setAttribute("aria-live", "polite");
  shown.hidden = true;
  box.insertAdjacentElement("afterend", shown);
  box.insertAdjacentElement("afterend", button);
  button.addEventListener("click", function () {
    var body = new URLSearchParams();
    body.set("csrf", token.value);
    body.set("content", box.value);
    fetch("/preview", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (res) {
        return res.text().then(function (text) { return { ok: res.ok, text: text }; });
      })
      .then(function (r) {
        shown.hidden = false;
        if (r.ok) {
          // Sanitised by the server, exactly as the published post will be.
          shown.innerHTML = r.text;
        } else {
          shown.textContent = "No preview: write something first (at most 100,000 bytes).";
        }
      })
      .catch(function () {
        shown.hidden = false;
        shown.textContent = "No preview: the server could not be reached.";
      });
  });
});
