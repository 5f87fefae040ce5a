// Step through a gmpcheck map trace: the data is the JSON in #trace-data, written by checker/render/maphtml.py.
// The controls are page.js's: Left/Right one step, Home/End first/last, the slider, clicks on narrative lines.
// The URL fragment may hold step=N to open at step N and keys=K1,K2,... to replay key presses once the page
// is loaded (the browser test uses this).  Each state's bucket layout is a .layout-step element; the current
// one is shown and the others are hidden.
"use strict";

const data = JSON.parse(document.getElementById("trace-data").textContent);
const last = data.steps.length - 1;
let current = 0;

function show(k) {
  current = Math.max(0, Math.min(last, k));
  const step = data.steps[current];
  document.getElementById("step-index").textContent = String(current);
  document.getElementById("step-label").textContent = step.label;
  document.getElementById("explain").textContent = step.explain;
  document.getElementById("hmap").textContent = step.hmap;
  document.getElementById("slider").value = String(current);
  document.querySelectorAll(".layout-step").forEach((div) => {
    div.hidden = Number(div.dataset.step) !== current;
  });
  const cursor = document.getElementById("cursor");
  if (cursor) {
    cursor.setAttribute("x1", step.x);
    cursor.setAttribute("x2", step.x);
  }
  document.querySelectorAll("#narrative li").forEach((li) => {
    li.classList.toggle("current", Number(li.dataset.step) === current);
  });
}

document.addEventListener("keydown", (e) => {
  const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last };
  if (e.key in moves) {
    show(moves[e.key]);
    e.preventDefault();
  }
});
document.getElementById("prev").addEventListener("click", () => show(current - 1));
document.getElementById("next").addEventListener("click", () => show(current + 1));
document.getElementById("slider").addEventListener("input", (e) => show(Number(e.target.value)));
document.querySelectorAll("#narrative li").forEach((li) => {
  li.addEventListener("click", () => show(Number(li.dataset.step)));
});

const fragment = new URLSearchParams(location.hash.slice(1));
show(Number(fragment.get("step") || 0));
for (const key of (fragment.get("keys") || "").split(",").filter(Boolean)) {
  document.dispatchEvent(new KeyboardEvent("keydown", { key: key, bubbles: true }));
}
