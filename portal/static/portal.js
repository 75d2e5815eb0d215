// No inline scripts (CSP script-src 'self'): the shell's small behaviours are wired here.
document.addEventListener("DOMContentLoaded", () => {
  const body = document.body;

  // Confirmation before consequential one-click actions: a form with class "confirm"
  // (its data-confirm is the question), or a submit button with its own data-confirm.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    const button = e.submitter;
    const text = (button && button.dataset.confirm) ||
      (form.classList.contains("confirm") ? (form.dataset.confirm || "?") : null);
    if (text && !window.confirm(text)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);

  document.querySelectorAll("select.autosubmit").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  document.querySelectorAll("[data-progress]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (e.defaultPrevented) return;
      const btn = form.querySelector("button[type=submit]");
      if (btn) { btn.disabled = true; btn.textContent = form.dataset.progress; }
    });
  });

  // The left menu: a drawer below 900 px, collapsible on wider screens (remembered).
  const toggle = document.getElementById("menu-toggle");
  const scrim = document.getElementById("scrim");
  const setOpen = (open) => {
    body.classList.toggle("nav-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (scrim) scrim.hidden = !open;
  };
  if (toggle) toggle.addEventListener("click", () => setOpen(!body.classList.contains("nav-open")));
  if (scrim) scrim.addEventListener("click", () => setOpen(false));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      setOpen(false);
      document.querySelectorAll("details.user-menu[open]").forEach((d) => d.removeAttribute("open"));
    }
  });
  const collapse = document.getElementById("collapse-toggle");
  try {
    if (window.localStorage.getItem("portal.nav") === "collapsed") body.classList.add("nav-collapsed");
  } catch (err) { /* storage unavailable: the menu stays open */ }
  if (collapse) collapse.addEventListener("click", () => {
    const collapsed = body.classList.toggle("nav-collapsed");
    try { window.localStorage.setItem("portal.nav", collapsed ? "collapsed" : "open"); } catch (err) { /* ignore */ }
  });
  // The user menu closes when clicking elsewhere.
  document.addEventListener("click", (e) => {
    document.querySelectorAll("details.user-menu[open]").forEach((d) => {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  // Department pickers (templates/_dept_picker.html): search as one types, count the chosen.
  document.querySelectorAll("[data-dept-picker]").forEach((picker) => {
    const tools = picker.querySelector(".picker-tools");
    const search = picker.querySelector(".picker-search");
    const items = Array.from(picker.querySelectorAll(".picker-item"));
    const empty = picker.querySelector(".picker-empty");
    const count = picker.querySelector("[data-picker-count]");
    const recount = () => {
      const n = items.filter((i) => i.querySelector("input").checked).length;
      if (count) count.textContent = count.dataset.template.replace("{n}", String(n));
    };
    const filter = () => {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      items.forEach((i) => {
        const hit = !q || i.textContent.toLowerCase().includes(q);
        i.hidden = !hit;
        if (hit) shown += 1;
      });
      if (empty) empty.hidden = shown > 0;
    };
    if (tools) tools.hidden = false;
    if (search) search.addEventListener("input", filter);
    search && search.addEventListener("keydown", (e) => { if (e.key === "Enter") e.preventDefault(); });
    const all = picker.querySelector("[data-picker-all]");
    const none = picker.querySelector("[data-picker-none]");
    if (all) all.addEventListener("click", () => { items.forEach((i) => { if (!i.hidden) i.querySelector("input").checked = true; }); recount(); });
    if (none) none.addEventListener("click", () => { items.forEach((i) => { i.querySelector("input").checked = false; }); recount(); });
    picker.addEventListener("change", recount);
  });

  // "Show the numbers" toggles on dashboard cards.
  document.querySelectorAll("button[data-toggle-table]").forEach((btn) => {
    btn.addEventListener("click", () => {
      const table = document.getElementById(btn.dataset.toggleTable);
      if (!table) return;
      const show = table.hidden;
      table.hidden = !show;
      btn.setAttribute("aria-expanded", show ? "true" : "false");
      btn.textContent = show ? btn.dataset.hideLabel : btn.dataset.showLabel;
    });
  });
});

// Live preview of Markdown fields (textarea[data-markdown-preview]): the server renders
// with the same sanitiser (nh3) as the saved view, so the preview is what readers get;
// nothing from a CDN, no inline script. The HTML inserted is the sanitised rendering.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("textarea[data-markdown-preview]").forEach((area) => {
    const form = area.form;
    const token = form && form.querySelector("input[name=csrf_token]");
    if (!token) return;
    const box = document.createElement("div");
    box.className = "md-preview";
    box.setAttribute("aria-live", "polite");
    const title = document.createElement("p");
    title.className = "md-preview-label muted";
    title.textContent = area.dataset.previewLabel || "";
    const body = document.createElement("div");
    body.className = "md-preview-body";
    box.append(title, body);
    area.insertAdjacentElement("afterend", box);
    let timer = null;
    let sent = 0;
    const render = () => {
      const mine = ++sent;
      const data = new FormData();
      data.append("text", area.value);
      data.append("csrf_token", token.value);
      fetch(area.dataset.markdownPreview, { method: "POST", body: data, credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => { if (mine === sent) { body.innerHTML = html; box.hidden = !area.value.trim(); } })
        .catch(() => { box.hidden = true; });
    };
    area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(render, 300); });
    box.hidden = !area.value.trim();
    if (area.value.trim()) render();
  });
});
