// Back office behaviour that Flask-Admin wrote as inline handlers (blocked by the CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm], [data-model-action], a[data-noop]");
    if (!target) {
      return;
    }
    if (target.hasAttribute("data-confirm")) {
      if (!window.confirm(target.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
      return;
    }
    if (target.hasAttribute("data-model-action")) {
      event.preventDefault();
      if (window.modelActions) {
        window.modelActions.execute(target.getAttribute("data-model-action"));
      }
      return;
    }
    event.preventDefault(); // a "#" link that only opens a menu or adds a filter
  }, true);
})();
