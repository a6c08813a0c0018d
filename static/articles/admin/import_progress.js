// An import's page: while the job runs, poll its progress and show it; reload once it has finished,
// for the summary and the files with problems.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const progress = document.querySelector(".import-progress");
  if (!progress || progress.dataset.finished === "true") {
    return;
  }
  const poll = async function () {
    try {
      const response = await fetch(progress.dataset.url, { credentials: "same-origin" });
      if (response.ok) {
        const state = await response.json();
        progress.textContent = state.text;
        if (state.finished) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A failed poll is tried again with the next one.
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 1000);
});
