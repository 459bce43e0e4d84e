// Small behaviours, no inline scripts (the Content-Security-Policy forbids them).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  // Escalation plan: show only the parameters of the chosen design.
  document.querySelectorAll("select[data-design-select]").forEach((select) => {
    const show = () => {
      select.form.querySelectorAll(".design-param").forEach((row) => {
        row.hidden = !row.dataset.designs.split(" ").includes(select.value);
      });
    };
    select.addEventListener("change", show);
    show();
  });
  // "Print" links: the print stylesheet hides navigation, buttons and forms.
  document.querySelectorAll("[data-print]").forEach((el) => {
    el.addEventListener("click", (evt) => {
      evt.preventDefault();
      window.print();
    });
  });
  document.body.addEventListener("htmx:configRequest", (evt) => {
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token) evt.detail.headers["X-CSRFToken"] = token.content;
  });
});

// Idle-session warning: shortly before a signed-in session ends for inactivity, a banner counts
// down and offers to stay signed in; at the end the page goes to the login page (the server has
// logged the session out and left a message there). The server is asked before each step, so a
// request made in another tab or by htmx defers the end here too.
document.addEventListener("DOMContentLoaded", () => {
  const body = document.body;
  const url = body.dataset.sessionUrl;
  const banner = document.querySelector("[data-idle-banner]");
  if (!url || !banner) return;
  const timeout = Number(body.dataset.idleTimeout);
  const warning = Number(body.dataset.idleWarning);
  const countdown = banner.querySelector("[data-idle-countdown]");
  let deadline = Date.now() + timeout * 1000;
  let timer = null;
  let ticker = null;
  const csrf = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };
  const ask = (method) =>
    fetch(url, {
      method,
      credentials: "same-origin",
      headers: method === "POST" ? { "X-CSRFToken": csrf() } : {},
    }).then((r) => r.json());
  const leave = (loginUrl) => {
    const next = window.location.pathname + window.location.search;
    window.location.assign(`${loginUrl}?next=${encodeURIComponent(next)}`);
  };
  const hide = () => {
    banner.hidden = true;
    if (ticker) clearInterval(ticker);
    ticker = null;
  };
  const schedule = (remaining) => {
    deadline = Date.now() + remaining * 1000;
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, Math.max(0, remaining - warning) * 1000);
  };
  const settle = (data) => {
    if (data.remaining <= 0) {
      leave(data.login_url || body.dataset.loginUrl);
    } else if (data.remaining > warning) {
      hide();
      schedule(data.remaining);
    } else {
      deadline = Date.now() + data.remaining * 1000;
      show();
    }
  };
  const show = () => {
    banner.hidden = false;
    const tick = () => {
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
      if (left <= 0) {
        hide();
        ask("GET").then(settle, () => leave(body.dataset.loginUrl));
      }
    };
    tick();
    if (!ticker) ticker = setInterval(tick, 1000);
  };
  function check() {
    ask("GET").then(settle, () => schedule(warning));
  }
  banner.querySelector("[data-idle-stay]").addEventListener("click", () => {
    ask("POST").then(settle, () => leave(body.dataset.loginUrl));
  });
  body.addEventListener("htmx:afterRequest", () => {
    if (banner.hidden) schedule(timeout);
  });
  schedule(timeout);
});
