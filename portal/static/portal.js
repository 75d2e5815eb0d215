// No inline scripts (CSP): small behaviours are wired here.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.confirm").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm || "?")) e.preventDefault();
    });
  });
  document.querySelectorAll("select.autosubmit").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  document.querySelectorAll("[data-progress]").forEach((form) => {
    form.addEventListener("submit", () => {
      const btn = form.querySelector("button[type=submit]");
      if (btn) { btn.disabled = true; btn.textContent = form.dataset.progress; }
    });
  });
});
