// Safety forms answer a refused save with 422 (invalid) or 409 (stale) and the form with its
// error. htmx 2 does not swap 4xx responses by default: let these two through, so that the
// message is shown where the user typed (no inline script: the Content-Security-Policy).
document.addEventListener("htmx:beforeSwap", (evt) => {
  const status = evt.detail.xhr.status;
  if (status === 409 || status === 422) {
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  }
});
