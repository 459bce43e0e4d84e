// Upload progress for the genomic import form (no inline scripts: the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("genomics-upload");
  const bar = document.getElementById("upload-progress");
  if (!form || !bar) return;
  form.addEventListener("htmx:xhr:progress", (evt) => {
    if (evt.detail.lengthComputable && evt.detail.total > 0) {
      bar.value = Math.round((evt.detail.loaded / evt.detail.total) * 100);
    }
  });
  form.addEventListener("htmx:beforeRequest", () => { bar.value = 0; });
  form.addEventListener("htmx:afterRequest", () => { bar.value = 100; });
});
