// hrledger workbench: a little script where it helps; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Print buttons (a button, not an inline handler: the Content-Security-Policy allows no inline script).
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
  // A link that opens a form further down the page opens its <details> too.
  for (const link of document.querySelectorAll("a[data-open]")) {
    link.addEventListener("click", () => {
      const target = document.getElementById(link.dataset.open);
      if (target) { target.open = true; const first = target.querySelector("input, select, textarea"); if (first) first.focus(); }
    });
  }
  // The bundle export's progress: poll its status until it is done or failed.
  const job = document.querySelector("[data-job-status]");
  if (job) {
    const url = job.dataset.jobStatus;
    const state = document.getElementById("job-state");
    const elapsed = document.getElementById("job-elapsed");
    const bar = document.getElementById("job-progress");
    const done = document.getElementById("job-done");
    const poll = async () => {
      const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (!response.ok) { state.textContent = String(response.status); return; }
      const s = await response.json();
      state.textContent = s.state_label;
      elapsed.textContent = s.elapsed_seconds.toFixed(1);
      if (s.state === "done" || s.state === "failed") {
        bar.max = 1; bar.value = 1;
        if (s.state === "done") { done.hidden = false; } else { state.textContent = s.state_label + ": " + s.error; }
        return;
      }
      setTimeout(poll, 500);
    };
    poll();
  }
});
