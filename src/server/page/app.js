// The dashboard page: three live panels fed by /ws, the training and validation views from /api.
// Plain browser script (no build step); charts are uPlot, served by the dashboard from its npm package.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '–' : typeof v === 'number' ? v.toFixed(d) : String(v));
  const iso = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '–');
  const text = (id, v) => {
    const el = $(id);
    if (el && el.textContent !== String(v)) el.textContent = String(v);
  };
  const charts = {};

  function chart(id, series, data, opts) {
    const el = $(id);
    // a hidden view has no width yet: draw at a fixed width there
    const width = Math.max(280, el.clientWidth || el.parentElement.clientWidth || 900);
    if (charts[id] && charts[id].series.length === series.length + 1) {
      charts[id].setData(data);
      return;
    }
    if (charts[id]) charts[id].destroy();
    el.textContent = '';
    charts[id] = new uPlot(Object.assign({ width, height: 180, series: [{}].concat(series), axes: [{ stroke: '#8b949e' }, { stroke: '#8b949e' }] }, opts || {}), data, el);
  }

  function collection(c) {
    if (!c) return;
    text('c-connection', c.connection);
    text('c-instrument', c.instrument);
    text('c-bars', c.bars);
    text('c-gaps', c.gaps);
    text('c-last-bar', c.last_bar ? iso(c.last_bar.ts) : '–');
    text('c-last-close', c.last_bar ? c.last_bar.close : '–');
    text('c-store-queue', c.store_queue === null ? '–' : c.store_queue);
    text('c-memory', `${(c.memory_rss_bytes / 1048576).toFixed(0)} MiB`);
    text('c-uptime', `${c.uptime_s.toFixed(0)} s`);
  }

  function trader(t) {
    if (!t) return;
    text('t-mode', t.mode);
    text('t-position', t.position_units);
    text('t-avg', fmt(t.average_price, 3));
    text('t-unrealised', fmt(t.unrealised_pips, 1));
    text('t-equity', fmt(t.equity_pips, 1));
    text('t-risk', `${t.risk_state} (${t.risk_reason})`);
    const d = t.last_decision;
    text('t-decision', d ? `${d.action} at ${iso(d.ts)} (${d.reason})` : '–');
    visits(d);
    const e = t.equity_curve;
    if (e.ts.length > 1) chart('equity-chart', [{ label: 'equity pips', stroke: '#58a6ff' }], [e.ts.map((x) => x / 1000), e.pips]);
  }

  // The search's root visit counts as a bar per action (widths through the CSSOM: the CSP forbids style attributes).
  function visits(d) {
    const el = document.getElementById('t-visits');
    el.replaceChildren();
    if (!d || !d.visits) {
      el.textContent = d ? 'no search' : '–';
      return;
    }
    const total = Object.values(d.visits).reduce((a, b) => a + b, 0) || 1;
    for (const [action, n] of Object.entries(d.visits)) {
      const row = document.createElement('div');
      row.className = 'visit';
      row.dataset.action = action;
      const name = document.createElement('span');
      name.textContent = action;
      const track = document.createElement('span');
      track.className = 'visit-track';
      const bar = document.createElement('span');
      bar.className = 'visit-bar';
      bar.style.width = `${((100 * n) / total).toFixed(1)}%`;
      track.append(bar);
      const count = document.createElement('span');
      count.className = 'visit-n';
      count.textContent = String(n);
      row.append(name, track, count);
      el.append(row);
    }
  }

  function trades(x) {
    if (!x) return;
    const s = x.stats;
    text('x-fills', s.fills);
    text('x-closed', s.closed_positions);
    text('x-cost', fmt(s.mean_cost_pips, 2));
    text('x-denials', Object.values(s.denials).reduce((a, b) => a + b, 0));
    text('x-rejections', s.rejections);
    const body = $('fills').tBodies[0];
    body.textContent = '';
    for (const f of x.recent_fills.slice(0, 20)) {
      const tr = body.insertRow();
      for (const v of [iso(f.ts), f.units, fmt(f.price, 3), fmt(f.cost_pips, 2), fmt(f.realised_pips, 1)]) tr.insertCell().textContent = String(v);
    }
  }

  function alerts(a) {
    const ul = $('alerts');
    ul.textContent = '';
    for (const x of (a && a.alerts) || []) {
      const li = document.createElement('li');
      li.className = `sev-${x.severity}`;
      li.textContent = `${iso(x.ts)} ${x.severity} ${x.code}: ${x.message}`;
      ul.appendChild(li);
    }
  }

  function training(v) {
    if (!v) return;
    text('training-status', v.available ? `training run ${v.run_id}` : `no training data: ${v.reason}`);
    if (!v.available) return;
    text('tr-run', v.run_id);
    text('tr-episodes', fmt(v.latest.episodes, 0));
    text('tr-steps', fmt(v.latest.env_steps_per_s, 1));
    text('tr-sqn', fmt(v.latest.best_sqn, 2));
    const it = v.iterations;
    if (it.step.length > 1) {
      // stacked shares: each band is the running sum, so the areas read as the action mix
      const names = ['HOLD', 'BUY', 'SELL', 'CLOSE'];
      const colours = ['#8b949e', '#3fb950', '#f85149', '#d29922'];
      const acc = it.step.map(() => 0);
      const bands = names.map((n) => it.action_share[n].map((x, i) => (acc[i] += x)));
      chart('training-mix', names.map((n, i) => ({ label: n, stroke: colours[i], fill: `${colours[i]}55` })).reverse(), [it.step, ...bands.reverse()], { scales: { x: { time: false }, y: { range: [0, 1] } } });
    }
    if (v.losses.step.length > 1) chart('training-losses', [{ label: 'total', stroke: '#58a6ff' }, { label: 'policy', stroke: '#3fb950' }, { label: 'value', stroke: '#d29922' }, { label: 'reward', stroke: '#f85149' }], [v.losses.step, v.losses.total, v.losses.policy, v.losses.value, v.losses.reward], { scales: { x: { time: false } } });
    if (v.evaluations.step.length > 1) chart('training-sqn', [{ label: 'SQN', stroke: '#a371f7' }], [v.evaluations.step, v.evaluations.sqn], { scales: { x: { time: false } } });
    const ul = $('training-warnings');
    ul.textContent = '';
    for (const w of v.warnings) {
      const li = document.createElement('li');
      li.className = 'sev-warning';
      li.textContent = `${w.ts} ${w.kind}: ${w.message}`;
      ul.appendChild(li);
    }
  }

  async function validations() {
    const r = await fetch('/api/validations');
    const { validations: rows } = await r.json();
    const body = $('validations').tBodies[0];
    body.textContent = '';
    for (const v of rows) {
      const tr = body.insertRow();
      for (const x of [v.id, v.created_at, v.policy, v.instrument, v.range, v.grade, fmt(v.score, 1), v.recommendation]) tr.insertCell().textContent = String(x);
      const cell = tr.insertCell();
      if (v.report_url) {
        const a = document.createElement('a');
        a.href = v.report_url;
        a.textContent = 'report';
        a.target = '_blank';
        a.rel = 'noopener';
        cell.appendChild(a);
      } else cell.textContent = '–';
    }
  }

  // The trader and trades panels show one strategy: the live one from /ws, a shadow polled from /api.
  let strategy = '';
  const liveStrategy = () => strategy === '' || $('t-strategy').selectedIndex === 0;
  const q = () => `?strategy=${encodeURIComponent($('t-strategy').value)}`;
  async function performance() {
    if (!$('t-strategy').value) return;
    const p = (await (await fetch(`/api/live/performance${q()}`)).json()).performance;
    text('t-performance', p ? `${p.trades} trades, expectancy ${fmt(p.expectancy, 2)} pips, win rate ${fmt(p.win_rate, 2)}, SQN ${fmt(p.sqn, 2)}, max drawdown ${fmt(p.max_drawdown_pips, 1)} pips, Sharpe ${fmt(p.sharpe, 2)}` : 'no closed trade yet');
  }
  async function shadowPanels() {
    if (liveStrategy()) return;
    const [t, x] = await Promise.all([fetch(`/api/live/trader_state${q()}`).then((r) => r.json()), fetch(`/api/live/trades${q()}`).then((r) => r.json())]);
    if (liveStrategy()) return;
    trader(t);
    trades(x);
  }
  async function strategies() {
    const r = await fetch('/api/live/strategies');
    if (!r.ok) return;
    const sel = $('t-strategy');
    sel.textContent = '';
    for (const s of (await r.json()).strategies) {
      const o = document.createElement('option');
      o.value = s.strategy;
      o.textContent = s.shadow ? `${s.strategy} (shadow)` : `${s.strategy} (live)`;
      sel.appendChild(o);
    }
    strategy = sel.value;
    sel.addEventListener('change', () => {
      strategy = sel.value;
      text('t-performance', '–');
      void performance();
      if (liveStrategy()) void Promise.all([fetch('/api/live/trader_state').then((x) => x.json()).then(trader), fetch('/api/live/trades').then((x) => x.json()).then(trades)]);
      else void shadowPanels();
    });
    void performance();
  }
  setInterval(() => void shadowPanels().catch(() => undefined), 1000);
  setInterval(() => void performance().catch(() => undefined), 2000);

  const live = (h) => (d) => liveStrategy() && h(d);
  const handlers = { collection_status: collection, trader_state: live(trader), trades: live(trades), training, alert: alerts };
  function connect() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.onopen = () => {
      text('ws-status', 'live');
      $('ws-status').className = 'pill ok';
    };
    ws.onclose = () => {
      text('ws-status', 'disconnected');
      $('ws-status').className = 'pill bad';
      setTimeout(connect, 2000);
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      const h = handlers[msg.type];
      if (h) h(msg.data);
    };
  }

  for (const b of document.querySelectorAll('nav button')) {
    b.addEventListener('click', () => {
      for (const x of document.querySelectorAll('nav button')) x.classList.toggle('active', x === b);
      for (const v of document.querySelectorAll('.view')) v.classList.toggle('hidden', v.id !== `view-${b.dataset.view}`);
      if (b.dataset.view === 'validations') void validations();
      if (b.dataset.view === 'training') void fetch('/api/training').then((r) => r.json()).then(training);
    });
  }
  for (const b of document.querySelectorAll('[data-control]')) {
    b.addEventListener('click', async () => {
      const headers = { 'content-type': 'application/json' };
      const token = $('token').value;
      if (token) headers.authorization = `Bearer ${token}`;
      const r = await fetch(`/api/control/${b.dataset.control}`, { method: 'POST', headers, body: JSON.stringify({ reason: `dashboard ${b.dataset.control}` }) });
      const body = await r.json();
      text('control-result', r.ok ? `${b.dataset.control}: done (risk ${body.status.risk_state})` : `${b.dataset.control} refused (${r.status}): ${body.error}`);
    });
  }
  connect();
  void strategies();
})();
