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
});
