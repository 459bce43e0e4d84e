// Small behaviours, no inline scripts (the Content-Security-Policy forbids them).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  document.body.addEventListener("htmx:configRequest", (evt) => {
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token) evt.detail.headers["X-CSRFToken"] = token.content;
  });
});
