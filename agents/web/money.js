// Money: per agent, revenue over time (each settled hire), distributions by share,
// buybacks and burns, and each staker's claimable, as charts.

import { enc, esc, getJSON, money, short, tokens } from "./api.js";
import { barChart, lineChart } from "./charts.js";

const SHARES = ["stakers", "operator", "buyback", "reserve"];

function section(name) {
  return `<section class="card money" id="money-${esc(name)}" aria-labelledby="m-${esc(name)}">
    <h2 id="m-${esc(name)}">${esc(name)}</h2><div class="body"><p class="muted">Reading the treasury…</p></div></section>`;
}

function draw(name, revenue, books, symbol) {
  const usd = (v) => money(v, symbol);
  const points = revenue.points.map((p) => ({
    at: new Date(p.at),
    value: Number(p.cumulative),
    note: `${new Date(p.at).toLocaleString()}: ${p.hires} hire(s), ${usd(p.income)}; ${usd(p.cumulative)} in all`,
  }));
  if (points.length) {
    // Cumulative revenue starts from nothing just before the first hire.
    points.unshift({ at: new Date(points[0].at.getTime() - 60_000), value: 0, note: "before the first hire", dot: false });
  }
  const distributions = books.distributions.map((d) => ({
    label: new Date(d.at).toLocaleString("en-GB", { dateStyle: "short", timeStyle: "short" }),
    parts: SHARES.map((share) => ({ name: share, value: Number(d[`to_${share}`]) })),
  }));
  const buybacks = books.buybacks.map((b) => ({
    label: new Date(b.at).toLocaleString("en-GB", { dateStyle: "short", timeStyle: "short" }),
    parts: [{ name: "spent", value: Number(b.spent) }],
  }));
  const claimable = books.stakers.map((s) => ({
    label: short(s.account),
    parts: [{ name: "claimable", value: Number(s.claimable) }],
  }));
  return `<dl class="tiles">
      <div><dt>Revenue from hires</dt><dd class="revenue-total">${esc(usd(revenue.total))}</dd><dd class="muted">${revenue.hires} settled hire(s)</dd></div>
      <div><dt>Distributed</dt><dd>${esc(usd(books.income))}</dd><dd class="muted">${esc(usd(books.pending_income))} pending</dd></div>
      <div><dt>Streaming to stakers</dt><dd>${esc(usd(books.streaming))}</dd><dd class="muted">${tokens(books.total_staked)} tokens staked</dd></div>
      <div><dt>Bought back and burned</dt><dd>${esc(usd(books.bought_back))}</dd><dd class="muted">${tokens(books.burned_supply)} tokens burned</dd></div>
    </dl>
    <h3 id="rev-h-${esc(name)}">Revenue over time</h3>
    ${lineChart({ title: `${name} revenue from hires, cumulative`, points, format: usd, id: `revenue-${name}` })}
    <h3>Distributions</h3>
    ${barChart({ title: `${name} distributions by share`, bars: distributions, format: usd, id: `distributions-${name}`, names: SHARES })}
    <h3>Buybacks and burns</h3>
    ${barChart({ title: `${name} buybacks`, bars: buybacks, format: usd, id: `buybacks-${name}` })}
    ${books.buybacks.length ? `<p class="muted">${books.buybacks.map((b) => `${usd(b.spent)} bought ${tokens(b.burned)} tokens, burned`).join("; ")}</p>` : ""}
    <h3>Claimable by staker</h3>
    ${barChart({ title: `${name} claimable earnings by staker`, bars: claimable, format: usd, id: `claimable-${name}` })}`;
}

export async function render(main, ctx) {
  const names = ctx.config.agents;
  main.innerHTML = `<h1>Money</h1>
    <p class="lead">What each agent earned, what it paid out and to whom, and what it burned.</p>
    <div class="cards wide">${names.map(section).join("")}</div>`;
  const symbol = ctx.config.payment_token_symbol;

  async function refresh(name) {
    const [revenue, books] = await Promise.all([
      getJSON(`/agents/${enc(name)}/revenue`),
      getJSON(`/agents/${enc(name)}/treasury`),
    ]);
    const body = main.querySelector(`#money-${CSS.escape(name)} .body`);
    if (body) body.innerHTML = draw(name, revenue, books, symbol);
  }

  let pending = null;
  const soon = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      Promise.all(names.map(refresh)).catch(() => {});
    }, 1000);
  };
  ctx.on("task", soon);
  ctx.on("block", soon);
  await Promise.all(names.map(refresh));
}
