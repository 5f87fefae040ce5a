// Step through a gmpcheck trace: the data is the JSON in #trace-data, written by checker/render/html.py.
// Keys: Left/Right one step, Home/End first/last.  The URL fragment may hold step=N to open at step N
// and keys=K1,K2,... to replay key presses once the page is loaded (the browser test uses this).
"use strict";

const data = JSON.parse(document.getElementById("trace-data").textContent);
const last = data.steps.length - 1;
let current = 0;

function cell(row, text, id) {
  const td = document.createElement("td");
  td.textContent = text;
  if (id) td.id = id;
  row.appendChild(td);
  return td;
}

function fillPs(snap) {
  const body = document.getElementById("p-rows");
  body.replaceChildren();
  snap.ps.forEach((p, k) => {
    const tr = document.createElement("tr");
    cell(tr, p.name);
    cell(tr, p.status, `p${k}-status`);
    cell(tr, p.curg, `p${k}-curg`);
    cell(tr, p.runnext, `p${k}-runnext`);
    cell(tr, p.runq.length ? p.runq.join(", ") : "-", `p${k}-runq`);
    cell(tr, `${p.spinning ? "spinning" : ""} ${p.preempt ? "preempt signal" : ""}`.trim() || "-");
    cell(tr, String(p.schedtick));
    body.appendChild(tr);
  });
}

function fillGs(snap) {
  const body = document.getElementById("g-rows");
  body.replaceChildren();
  snap.gs.forEach((g, k) => {
    const tr = document.createElement("tr");
    if (g.ready && g.status !== "running") tr.className = "ready";
    cell(tr, g.name);
    cell(tr, g.status, `g${k}-status`);
    cell(tr, g.place, `g${k}-place`);
    cell(tr, g.next_op);
    cell(tr, g.preempt ? "yes" : "-", `g${k}-preempt`);
    cell(tr, String(g.wait), `g${k}-wait`);
    body.appendChild(tr);
  });
}

function show(k) {
  current = Math.max(0, Math.min(last, k));
  const step = data.steps[current];
  document.getElementById("step-index").textContent = String(current);
  document.getElementById("step-tick").textContent = String(step.tick);
  document.getElementById("step-label").textContent = step.label;
  document.getElementById("explain").textContent = step.explain;
  document.getElementById("gq").textContent = step.state.gq.length ? step.state.gq.join(", ") : "empty";
  document.getElementById("stw").textContent = step.state.gcwaiting ? "stop-the-world pending" : "";
  document.getElementById("slider").value = String(current);
  fillPs(step.state);
  fillGs(step.state);
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
