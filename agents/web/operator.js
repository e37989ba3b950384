// Operator: the runtime's tasks, newest first, with state and settlement, updated live
// from the event stream (no reload).

import { esc, getJSON, money, short } from "./api.js";

function row(task, decimals, symbol) {
  const settled = task.settlement_tx
    ? `<code title="${esc(task.settlement_tx)}">${esc(short(task.settlement_tx, 10, 6))}</code>`
    : task.error
      ? `<span class="error">${esc(task.error)}</span>`
      : '<span class="muted">not yet</span>';
  return `<tr id="task-${esc(task.id)}" data-state="${esc(task.state)}">
    <td><time datetime="${esc(task.created_at)}">${esc(new Date(task.created_at).toLocaleTimeString())}</time></td>
    <th scope="row">${esc(task.agent)}/${esc(task.skill)}</th>
    <td><span class="badge state-${esc(task.state)}">${esc(task.state)}</span></td>
    <td>${esc(money(task.amount_units / 10 ** decimals, symbol))}${task.charged ? "" : ' <span class="muted">(not charged)</span>'}</td>
    <td><code title="${esc(task.payer)}">${esc(short(task.payer))}</code></td>
    <td>${esc(task.scheme)}</td>
    <td>${settled}</td>
    <td>v${task.config_version}</td>
  </tr>`;
}

export async function render(main, ctx) {
  const { payment_token_decimals: decimals, payment_token_symbol: symbol } = ctx.config;
  main.innerHTML = `<h1>Operator</h1>
    <p class="lead">Every task, newest first. New tasks and state changes appear as they happen.
      <span class="live-dot" aria-hidden="true"></span></p>
    <div class="table-wrap"><table class="tasks">
      <caption>Tasks</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Agent/skill</th><th scope="col">State</th>
        <th scope="col">Amount</th><th scope="col">Payer</th><th scope="col">Paid by</th>
        <th scope="col">Settlement</th><th scope="col">Config</th></tr></thead>
      <tbody id="task-rows"></tbody></table></div>`;
  const body = main.querySelector("#task-rows");

  async function load() {
    const tasks = await getJSON("/tasks?limit=200");
    body.innerHTML = tasks.length
      ? tasks.map((t) => row(t, decimals, symbol)).join("")
      : '<tr class="none"><td colspan="8" class="muted">No tasks yet.</td></tr>';
  }

  ctx.on("ready", load); // (re)connected: read everything once, then follow the stream
  ctx.on("task", (task) => {
    body.querySelector("tr.none")?.remove();
    const existing = body.querySelector(`#task-${CSS.escape(task.id)}`);
    const html = row(task, decimals, symbol);
    if (existing) existing.outerHTML = html;
    else body.insertAdjacentHTML("afterbegin", html);
    body.querySelector(`#task-${CSS.escape(task.id)}`).classList.add("fresh");
  });
  await load();
}
