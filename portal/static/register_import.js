// The register import: while the page's own request checks or writes a large sheet,
// poll its progress (rows checked / written) and show it in a progress bar.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var box = document.getElementById("import-progress");
  if (!form || !box) return;
  var bar = box.querySelector("progress");
  var text = box.querySelector(".progress-text");
  var labels = { validating: box.dataset.validating, writing: box.dataset.writing };
  var timer = null;

  function show(data) {
    if (!data || !data.total) return;
    bar.max = data.total;
    bar.value = data.done;
    text.textContent = (labels[data.stage] || "")
      .replace("%(done)s", data.done).replace("%(total)s", data.total);
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () {})
      .finally(function () { timer = setTimeout(poll, 600); });
  }

  form.addEventListener("submit", function (event) {
    var stage = event.submitter ? event.submitter.value : "";
    if (stage !== "preview" && stage !== "import") return; // the download is not tracked
    box.hidden = false;
    text.textContent = box.dataset.starting;
    if (!timer) timer = setTimeout(poll, 400);
  });
})();
