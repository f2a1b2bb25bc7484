// The observer page: one EventSource (/observer/events) brings each section when it changes; the
// page keeps five minutes of channel figures for the charts and remembers the pids of supervised
// children to show restarts. No framework, no build step: the file is served as it is.

const $ = (selector) => document.querySelector(selector);
const SVG = 'http://www.w3.org/2000/svg';
const HISTORY = 300; // samples kept for the charts (five minutes at one a second)
const COLORS = ['#58a6ff', '#3fb950', '#d29922', '#f778ba', '#a371f7', '#39c5cf', '#ff7b72', '#e3b341'];

const state = {
  selected: new URLSearchParams(location.search).get('node'),
  processes: [],
  sort: { key: 'mailbox', down: true },
  detailPid: null,
  cluster: null,
  lastChannels: null,
  rates: new Map(), // node -> [{ at, out, queued, latency }]
  childPids: new Map(), // `${node}/${supervisor id path}` -> { pid, restarts }
};

// ==== Helpers ====

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'onclick') node.addEventListener('click', v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ==== Tabs ====

for (const button of document.querySelectorAll('nav button')) {
  button.addEventListener('click', () => {
    for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b === button);
    for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.id === button.dataset.tab);
  });
}

// ==== The event stream ====

let source = null;
function connect() {
  source?.close();
  const query = state.selected ? `?node=${encodeURIComponent(state.selected)}` : '';
  source = new EventSource(`/observer/events${query}`);
  const status = $('#status');
  source.addEventListener('tick', (e) => {
    status.textContent = `live · ${new Date(JSON.parse(e.data).at).toLocaleTimeString()}`;
    status.className = 'status live';
  });
  source.addEventListener('problem', (e) => {
    status.textContent = `problem: ${JSON.parse(e.data).message}`;
    status.className = 'status lost';
  });
  source.onerror = () => {
    status.textContent = 'connection to the observer lost; retrying…';
    status.className = 'status lost';
  };
  for (const [name, render] of Object.entries(RENDERERS)) source.addEventListener(name, (e) => render(JSON.parse(e.data)));
}

// ==== Cluster: the graph and the nodes ====

function renderCluster(cluster) {
  state.cluster = cluster;
  $('#contact').textContent = `through ${cluster.contact}`;
  const nodes = cluster.nodes;
  const svg = $('#graph');
  const cx = 300, cy = 210, r = Math.min(170, 40 + nodes.length * 18);
  const at = new Map(nodes.map((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, nodes.length) - Math.PI / 2;
    return [n.name, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) }];
  }));
  const edges = [];
  const drawn = new Set();
  for (const n of nodes) {
    if (!n.up) continue;
    for (const c of n.connections ?? []) {
      const key = [n.name, c.peer].sort().join('|');
      if (drawn.has(key) || !at.has(c.peer)) continue;
      drawn.add(key);
      const overlay = (n.neighbors ?? []).includes(c.peer) || (nodes.find((m) => m.name === c.peer)?.neighbors ?? []).includes(n.name);
      const a = at.get(n.name), b = at.get(c.peer);
      edges.push(el('svg:line', { class: `edge ${overlay ? 'overlay' : 'ondemand'}`, x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'data-edge': key }, el('svg:title', {}, `${n.name} ↔ ${c.peer}${c.rttMs === null ? '' : ` · RTT ${c.rttMs.toFixed(2)} ms`}`)));
      if (c.rttMs !== null) edges.push(el('svg:text', { class: 'rtt', x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 3 }, `${c.rttMs.toFixed(1)} ms`));
    }
  }
  const circles = nodes.map((n) => {
    const p = at.get(n.name);
    return el('svg:g', { class: `node ${n.up ? 'up' : 'down'}`, 'data-node': n.name, 'data-state': n.up ? 'up' : 'down' },
      el('svg:circle', { cx: p.x, cy: p.y, r: 16 }, el('svg:title', {}, n.up ? `${n.name}: up` : `${n.name}: down (${n.error ?? ''})`)),
      el('svg:text', { x: p.x, y: p.y + 32 }, n.name + (n.name === cluster.contact ? ' *' : '')));
  });
  svg.replaceChildren(...edges, ...circles);
  fill($('#nodes tbody'), nodes.map((n) => {
    const s = n.summary;
    return el('tr', { class: n.up ? '' : 'down', 'data-node': n.name },
      el('td', {}, n.name), el('td', {}, n.up ? (n.error ? `no answer: ${n.error}` : 'up') : `down since ${new Date(n.seenAt).toLocaleTimeString()}`),
      el('td', {}, s?.topology ?? '-'), el('td', {}, s?.epoch ?? '-'), el('td', { class: 'num' }, s?.processes ?? '-'), el('td', { class: 'num' }, s?.runQueue ?? '-'),
      el('td', { class: 'num' }, s?.reductions ?? '-'), el('td', { class: 'num' }, s ? bytes(s.rssBytes) : '-'), el('td', { class: 'num' }, s ? `${s.uptimeSeconds}s` : '-'), el('td', {}, s?.addresses?.[0] ?? '-'));
  }));
  const select = $('#node-select');
  const names = nodes.filter((n) => n.up).map((n) => n.name);
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    select.replaceChildren(...names.map((name) => el('option', { value: name }, name)));
  }
  select.value = state.selected ?? cluster.contact;
}

$('#node-select').addEventListener('change', (e) => {
  state.selected = e.target.value;
  state.detailPid = null;
  connect();
});

// ==== Processes ====

function renderProcesses(section) {
  if (section.error) {
    $('#process-count').textContent = `no answer from ${section.node}: ${section.error}`;
    return;
  }
  state.processes = section.processes;
  $('#process-count').textContent = `${section.processes.length} of ${section.total} processes on ${section.node}`;
  drawProcesses();
  if (state.detailPid) void showDetail(state.detailPid);
}

function drawProcesses() {
  const filter = $('#filter').value.trim().toLowerCase();
  const { key, down } = state.sort;
  const rows = state.processes
    .filter((p) => !filter || [p.pid, p.name, p.behaviour].some((v) => v && String(v).toLowerCase().includes(filter)))
    .sort((a, b) => {
      const x = a[key] ?? '', y = b[key] ?? '';
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return down ? -c : c;
    });
  fill($('#process-table tbody'), rows.map((p) => el('tr', { 'data-pid': p.pid, class: p.pid === state.detailPid ? 'selected' : '', onclick: () => void showDetail(p.pid) },
    el('td', {}, p.pid), el('td', {}, p.name ?? ''), el('td', {}, p.behaviour ?? ''), el('td', {}, p.status),
    el('td', { class: 'num' }, p.mailbox), el('td', { class: 'num' }, bytes(p.memory)), el('td', { class: 'num' }, p.reductions), el('td', { class: 'num' }, p.links))));
  for (const th of document.querySelectorAll('#process-table th')) th.classList.toggle('sorted', th.dataset.key === key);
}

$('#filter').addEventListener('input', drawProcesses);
for (const th of document.querySelectorAll('#process-table th[data-key]')) {
  th.addEventListener('click', () => {
    state.sort = { key: th.dataset.key, down: state.sort.key === th.dataset.key ? !state.sort.down : true };
    drawProcesses();
  });
}

async function showDetail(pid) {
  state.detailPid = pid;
  const aside = $('#detail');
  const res = await fetch(`/observer/process?pid=${encodeURIComponent(pid)}`);
  const answer = await res.json();
  if (state.detailPid !== pid) return;
  for (const tr of document.querySelectorAll('#process-table tbody tr')) tr.classList.toggle('selected', tr.dataset.pid === pid);
  if (!answer.ok) {
    aside.replaceChildren(el('p', { class: 'hint' }, `${pid}: ${answer.message}`));
    return;
  }
  const i = answer.info;
  const list = (xs) => (xs.length === 0 ? '-' : xs.join(' '));
  const kill = el('button', { class: 'danger', 'data-testid': 'kill' }, 'Kill');
  kill.addEventListener('click', async () => {
    if (!kill.classList.contains('armed')) {
      kill.classList.add('armed');
      kill.textContent = 'Click again to kill';
      setTimeout(() => { kill.classList.remove('armed'); kill.textContent = 'Kill'; }, 4000);
      return;
    }
    const r = await fetch('/observer/kill', { method: 'POST', headers: { 'content-type': 'application/json', 'x-fdn-request': '1' }, body: JSON.stringify({ pid }) });
    const done = await r.json();
    kill.textContent = done.ok ? 'killed' : `failed: ${done.message}`;
    kill.disabled = true;
  });
  aside.replaceChildren(el('dl', {},
    el('dt', {}, 'pid'), el('dd', { 'data-testid': 'detail-pid' }, i.pid),
    el('dt', {}, 'name · behaviour'), el('dd', {}, `${i.registeredName ?? '-'} · ${i.behaviour ?? '-'}`),
    el('dt', {}, 'status · mailbox · reductions'), el('dd', {}, `${i.status} · ${i.messageQueueLen} · ${i.reductions}`),
    el('dt', {}, 'parent'), el('dd', {}, i.parent ?? '-'),
    el('dt', {}, 'links'), el('dd', {}, list(i.links)),
    el('dt', {}, 'monitors'), el('dd', {}, list(i.monitors.map((m) => m.pid))),
    el('dt', {}, 'monitored by'), el('dd', {}, list(i.monitoredBy)),
    el('dt', {}, 'trap exit · groups'), el('dd', {}, `${i.trapExit} · ${list(i.groups)}`),
    el('dt', {}, 'state'), el('dd', {}, el('pre', { 'data-testid': 'detail-state' }, i.state ?? '-')),
    el('dt', {}, 'last message'), el('dd', {}, el('pre', { 'data-testid': 'detail-last' }, i.details?.lastMessage ?? '-'))), kill);
}

// ==== Supervision trees ====

function renderTrees(section) {
  const view = $('#tree-view');
  if (section.trees?.error) {
    view.replaceChildren(el('p', { class: 'hint' }, `no answer from ${section.node}: ${section.trees.error}`));
    return;
  }
  const item = (t, path) => {
    const key = `${section.node}/${path}`;
    const known = state.childPids.get(key);
    let restarts = known?.restarts ?? 0;
    if (known && known.pid !== t.pid && !t.restarting) restarts++;
    if (!t.restarting) state.childPids.set(key, { pid: t.pid, restarts });
    const label = t.restarting ? `${t.id} (restarting)` : `${t.id ?? t.name ?? 'supervisor'} ${t.pid}${t.name && t.id ? ` '${t.name}'` : ''}`;
    return el('li', { 'data-child': t.id ?? t.name ?? '', 'data-pid': t.pid, 'data-restarts': restarts, class: restarts > 0 ? 'restarted' : '' },
      label, t.behaviour === 'Supervisor' || t.type === 'supervisor' ? ' [supervisor]' : '', restarts > 0 ? el('span', { class: 'badge' }, `restarted ×${restarts}`) : null,
      t.children.length > 0 ? el('ul', {}, t.children.map((c) => item(c, `${path}/${c.id}`))) : null);
  };
  view.replaceChildren(el('div', {}, el('h3', {}, `${section.node}: ${section.trees.length === 0 ? 'no supervisors' : `${section.trees.length} supervision tree(s)`}`),
    el('ul', {}, section.trees.map((t) => item(t, String(t.name ?? t.pid))))));
}

// ==== Channels: rates from successive samples, charts of the last minutes ====

function renderChannels(section) {
  const prev = state.lastChannels;
  state.lastChannels = section;
  const before = new Map((prev?.samples ?? []).map((s) => [`${s.node}|${s.peer}|${s.channel}`, s.m]));
  const seconds = prev ? Math.max(0.001, (section.at - prev.at) / 1000) : 1;
  const perNode = new Map();
  const rows = [];
  for (const s of section.samples) {
    const b = before.get(`${s.node}|${s.peer}|${s.channel}`);
    const out = b ? Math.max(0, (s.m.messagesOut - b.messagesOut) / seconds) : 0;
    const inn = b ? Math.max(0, (s.m.messagesIn - b.messagesIn) / seconds) : 0;
    const agg = perNode.get(s.node) ?? { out: 0, queued: 0, latency: 0 };
    agg.out += out;
    agg.queued += s.m.queuedMessages;
    agg.latency = Math.max(agg.latency, s.m.sendLatencyMs);
    perNode.set(s.node, agg);
    if (s.m.messagesOut + s.m.messagesIn === 0) continue;
    rows.push(el('tr', {}, el('td', {}, s.node), el('td', {}, s.peer), el('td', {}, s.channel), el('td', { class: 'num' }, out.toFixed(1)), el('td', { class: 'num' }, inn.toFixed(1)),
      el('td', { class: 'num' }, bytes(s.m.bytesOut)), el('td', { class: 'num' }, bytes(s.m.bytesIn)), el('td', { class: 'num' }, s.m.queuedMessages), el('td', { class: 'num' }, s.m.dropped), el('td', { class: 'num' }, s.m.sendLatencyMs.toFixed(2))));
  }
  fill($('#channel-table tbody'), rows);
  if (!prev) return;
  for (const [node, agg] of perNode) {
    const series = state.rates.get(node) ?? [];
    series.push({ at: section.at, ...agg });
    if (series.length > HISTORY) series.shift();
    state.rates.set(node, series);
  }
  chart($('#chart-rate'), 'out');
  chart($('#chart-queue'), 'queued');
  chart($('#chart-latency'), 'latency');
}

function chart(svg, field) {
  const all = [...state.rates.entries()];
  const max = Math.max(1, ...all.flatMap(([, s]) => s.map((p) => p[field])));
  const now = Math.max(...all.flatMap(([, s]) => s.map((p) => p.at)));
  const x = (at) => 40 + ((at - (now - HISTORY * 1000)) / (HISTORY * 1000)) * 550;
  const y = (v) => 150 - (v / max) * 135;
  const lines = all.map(([node, s], i) => el('svg:polyline', { points: s.map((p) => `${x(p.at).toFixed(1)},${y(p[field]).toFixed(1)}`).join(' '), stroke: COLORS[i % COLORS.length], 'data-node': node }, el('svg:title', {}, node)));
  const labels = all.map(([node], i) => el('svg:text', { x: 44 + i * 70, y: 12, fill: COLORS[i % COLORS.length] }, node));
  svg.replaceChildren(el('svg:text', { x: 2, y: 20 }, max.toFixed(max < 10 ? 1 : 0)), el('svg:text', { x: 2, y: 150 }, '0'), el('svg:text', { x: 540, y: 158 }, 'now'), el('svg:text', { x: 40, y: 158 }, '−5 min'), ...lines, ...labels);
}

// ==== Topology ====

function renderTopology(t) {
  if (t.error) {
    $('#topology-facts').replaceChildren(el('dt', {}, 'error'), el('dd', {}, t.error));
    return;
  }
  $('#topology-facts').replaceChildren(
    el('dt', {}, 'topology'), el('dd', { 'data-testid': 'topology-name' }, t.topology),
    el('dt', {}, 'epoch'), el('dd', {}, t.epoch),
    el('dt', {}, 'switch state'), el('dd', {}, t.switchState),
    el('dt', {}, 'members'), el('dd', {}, `${t.members.length}: ${t.members.join(' ')}`),
    el('dt', {}, 'neighbours'), el('dd', {}, t.neighbors.join(' ') || '-'),
    ...(t.servers.length > 0 ? [el('dt', {}, 'servers'), el('dd', {}, t.servers.join(' '))] : []));
  fill($('#history tbody'), t.history.map((h) => el('tr', {}, el('td', {}, new Date(h.time).toLocaleString()), el('td', {}, h.from), el('td', {}, h.to), el('td', {}, h.reason))));
}

$('#switch').addEventListener('click', async () => {
  const to = $('#switch-to').value;
  const out = $('#switch-result');
  out.textContent = `switching to ${to}…`;
  const r = await fetch('/observer/switch', { method: 'POST', headers: { 'content-type': 'application/json', 'x-fdn-request': '1' }, body: JSON.stringify({ to }) });
  const result = await r.json();
  out.textContent = result.ok ? `switched from ${result.from} to ${result.to} in ${Math.round(result.ms)} ms; verified: ${result.verification.participants} nodes, probe reach ${result.verification.probeReach}` : `not switched: ${result.error ?? result.code}: ${result.why ?? result.message}`;
});

// ==== Ecosystems ====

function renderEcosystems(list) {
  fill($('#ecosystem-table tbody'), list.filter((e) => !e.error).map((e) => el('tr', { 'data-ecosystem': e.name },
    el('td', {}, e.name), el('td', {}, `${e.coordinator.pid} on ${e.coordinator.node}`), el('td', {}, e.keeperNode),
    el('td', {}, Object.entries(e.workersPerNode).map(([n, c]) => `${n}: ${c}`).join(', ')), el('td', { class: 'num' }, e.restarts), el('td', { class: 'num' }, e.respawns),
    el('td', {}, e.scaling.map((s) => `${s.from}→${s.to}`).join(', ') || '-'),
    el('td', {}, e.history.slice(-3).map((h) => `${h.kind} slot ${h.slot} on ${h.node}`).join('; ')))));
}

const RENDERERS = { cluster: renderCluster, processes: renderProcesses, trees: renderTrees, channels: renderChannels, topology: renderTopology, ecosystems: renderEcosystems };
connect();
