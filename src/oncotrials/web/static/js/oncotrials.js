// Small behaviours, no inline scripts (the Content-Security-Policy forbids them).
document.documentElement.classList.add("js");

// Wide tables scroll inside their own region, not the page (WCAG 1.4.10). Each `table.grid`
// gets a wrapper; a wrapper that actually scrolls becomes a named, focusable region, so that
// keyboard users can scroll it too (WCAG 2.1.1).
const scrollRegionLabel = (table) => {
  const caption = table.querySelector("caption");
  if (caption && caption.textContent.trim()) return caption.textContent.trim();
  const section = table.closest("section, .card, main");
  const heading = section && section.querySelector("h1, h2, h3");
  // the heading's own words, without the buttons or links beside them
  const own = heading
    ? [...heading.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ").replace(/\s+/g, " ").trim()
    : "";
  const name = own || (heading ? heading.textContent.trim() : document.title.split(" · ")[0]);
  return name + " (" + (document.documentElement.dataset.tableLabel || "table") + ")";
};

const wrapTables = (root) => {
  root.querySelectorAll("table.grid, table.oncoprint").forEach((table) => {
    if (table.parentElement.classList.contains("table-scroll")) return;
    const wrap = document.createElement("div");
    wrap.className = "table-scroll";
    wrap.dataset.auto = "1";
    table.parentNode.insertBefore(wrap, table);
    wrap.appendChild(table);
  });
};

const markScrollRegions = () => {
  document.querySelectorAll(".table-scroll[data-auto]").forEach((wrap) => {
    const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      const table = wrap.querySelector("table");
      wrap.setAttribute("aria-label", table ? scrollRegionLabel(table) : document.title);
    } else {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-label");
    }
  });
};

// htmx replaced a list: say how many results it holds now (a live region outside the swapped
// part, so that screen readers announce it).
const announceCount = (root) => {
  const live = document.getElementById("live-status");
  const count = root.querySelector ? root.querySelector("[data-live-count]") : null;
  if (!live || !count) return;
  live.textContent = "";
  window.setTimeout(() => { live.textContent = count.textContent.trim(); }, 50);
};

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  // Narrow screens: the navigation folds behind a menu button.
  const toggle = document.querySelector(".menu-toggle");
  const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (toggle && menu) {
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    });
    document.addEventListener("keydown", (evt) => {
      if (evt.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        menu.classList.remove("open");
        toggle.focus();
      }
    });
  }
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
  // Consent: offer only the optional consents the chosen ICF version declares.
  document.querySelectorAll("select[data-consent-version]").forEach((select) => {
    const show = () => {
      select.form.querySelectorAll("input[data-consent-option]").forEach((box) => {
        const declared = box.dataset.consentOption.split(" ").includes(select.value);
        const row = box.closest(".field") || box.parentNode;
        row.hidden = !declared;
        if (!declared) box.checked = false;
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
  // A form sent back with errors: move focus to its error summary (forms/error_summary.html).
  // Only a summary not yet focused: another panel settling later must not steal the focus.
  const focusSummary = () => {
    const summary = document.querySelector("[data-error-summary]:not([data-focused])");
    if (summary) {
      summary.dataset.focused = "";
      summary.focus();
    }
  };
  focusSummary();
  document.body.addEventListener("htmx:afterSettle", focusSummary);
  document.body.addEventListener("htmx:configRequest", (evt) => {
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token) evt.detail.headers["X-CSRFToken"] = token.content;
  });
  // A refused form (422, or 409 when the record changed meanwhile) is swapped in like a 200
  // (htmx-config in base.html). Any other error, or no answer at all, swaps nothing: say so
  // rather than leave the click without an effect; the next request hides the message again.
  const requestError = document.querySelector("[data-request-error]");
  if (requestError) {
    const fail = () => { requestError.hidden = false; };
    document.body.addEventListener("htmx:responseError", fail);
    document.body.addEventListener("htmx:sendError", fail);
    document.body.addEventListener("htmx:beforeRequest", () => { requestError.hidden = true; });
  }
  wrapTables(document);
  markScrollRegions();
  document.body.addEventListener("htmx:afterSwap", (evt) => {
    const target = evt.detail.target || document;
    wrapTables(document);
    markScrollRegions();
    announceCount(target);
  });
  let resizing = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(markScrollRegions, 100);
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
