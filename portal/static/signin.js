// The sign-in form in a morning rush (no inline script: CSP script-src 'self').
// When the server answers "many people are signing in" (503 + Retry-After), the form is
// sent again by itself after that many seconds, with what the user typed still in it:
// nothing is stored anywhere, the page's own CSRF token goes with it, and the server
// counts no failure for a refusal. Any other answer is shown as the page it is (a wrong
// password: the form with its message). Without script, a refusal brings the form back
// with the username kept.
document.addEventListener("DOMContentLoaded", () => {
  const MAX_TRIES = 40; // about two minutes of 2–4 s waits; then the user decides
  const sleep = (ms) => new Promise((resolve) => { window.setTimeout(resolve, ms); });

  const showPage = (html) => {
    const page = new DOMParser().parseFromString(html, "text/html");
    const main = page.getElementById("main");
    const here = document.getElementById("main");
    if (!main || !here) return false;
    here.replaceWith(main);
    if (page.title) document.title = page.title;
    const input = main.querySelector("input[name=password]");
    if (input) input.focus();
    return true;
  };

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (e.defaultPrevented || !(form instanceof HTMLFormElement) || !form.hasAttribute("data-signin")) return;
    if (!window.fetch || !window.DOMParser) return; // an old browser: the plain form post
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const status = form.querySelector("[data-signin-status]");
    const say = (text) => {
      if (!status) return;
      status.textContent = text || "";
      status.hidden = !text;
    };
    const done = () => { if (button) button.disabled = false; };
    if (button) button.disabled = true;
    say(form.dataset.sending || "");
    for (let tries = 1; ; tries += 1) {
      let response;
      try {
        response = await fetch(form.getAttribute("action") || window.location.href, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          redirect: "manual",
          headers: { "X-Portal-Sign-In": "script" },
        });
      } catch (err) {
        say(""); done(); return; // offline: the user sees the form as it was and may retry
      }
      if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
        // Signed in (the cookie came with the answer): the sign-in page sends us on,
        // to ?next= or the user's home.
        window.location.assign(window.location.href);
        return;
      }
      const wait = parseInt(response.headers.get("Retry-After") || "", 10);
      if (response.status === 503 && wait > 0 && tries < MAX_TRIES) {
        for (let left = wait; left > 0; left -= 1) {
          say((form.dataset.busy || "").replace("{s}", String(left)));
          await sleep(1000);
        }
        say(form.dataset.sending || "");
        continue;
      }
      const text = await response.text();
      if (response.status === 503 || !showPage(text)) {
        say(response.status === 503 ? text : "");
        done();
      }
      return;
    }
  });
});
