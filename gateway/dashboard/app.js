// The Redflag dashboard: sign-in, the overview charts, the alert queue, decision pages, case
// handling and models (the Rules pages are in rules.js), all from the API of the binary that serves this file. No framework, no build step and
// nothing fetched from anywhere else, so it runs wherever `redflag serve` runs.
'use strict';

const MODULES = ['aml', 'credit', 'insurance', 'market'];
const MODULE_NAMES = { aml: 'AML', credit: 'Credit', insurance: 'Insurance', market: 'Market', screening: 'Screening' };
const MODULE_COLOURS = { aml: '#2563eb', credit: '#d97706', insurance: '#059669', market: '#9333ea' };
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const SEVERITY_COLOURS = { low: '#64748b', medium: '#d97706', high: '#ea580c', critical: '#dc2626' };
const ALERT_STATUSES = ['new', 'open', 'investigating', 'closed'];
const CASE_STATUSES = ['open', 'investigating', 'closed'];
const RESOLUTIONS = ['confirmed_fraud', 'false_positive', 'inconclusive'];
const SVG = 'http://www.w3.org/2000/svg';

// ---- Session: tokens live for the tab only (sessionStorage), never in a cookie or the URL.

const session = {
  get access() { return sessionStorage.getItem('redflag.access'); },
  get refresh() { return sessionStorage.getItem('redflag.refresh'); },
  get username() { return sessionStorage.getItem('redflag.username'); },
  store(tokens, username) {
    sessionStorage.setItem('redflag.access', tokens.access);
    if (tokens.refresh) sessionStorage.setItem('redflag.refresh', tokens.refresh);
    if (username) sessionStorage.setItem('redflag.username', username);
  },
  /// The role the access token carries (`analyst` or `admin`); the server checks it anyway.
  get role() {
    try {
      const payload = this.access.split('.')[1].replaceAll('-', '+').replaceAll('_', '/');
      return JSON.parse(atob(payload)).role || 'analyst';
    } catch {
      return 'analyst';
    }
  },
  clear() {
    for (const key of ['redflag.access', 'redflag.refresh', 'redflag.username']) {
      sessionStorage.removeItem(key);
    }
  },
};

// ---- The API: DRF's error bodies become readable messages; an expired access token is
// refreshed once, transparently.

class ApiError extends Error {
  constructor(status, body) {
    super(describeError(status, body));
    this.status = status;
    this.body = body;
  }
}

function describeError(status, body) {
  if (!body || typeof body !== 'object') return `The service answered ${status}.`;
  if (typeof body.detail === 'string') return body.detail;
  return Object.entries(body)
    .map(([field, messages]) => `${field}: ${[].concat(messages).join(' ')}`)
    .join('; ');
}

async function api(path, { method = 'GET', body, retried = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && session.access && path !== '/api/token/') {
    if (!retried && session.refresh && await refreshAccess()) {
      return api(path, { method, body, retried: true });
    }
    session.clear();
    throw new ApiError(401, { detail: 'Your session has ended; sign in again.' });
  }
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

async function refreshAccess() {
  const response = await fetch('/api/token/refresh/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ refresh: session.refresh }),
  });
  if (!response.ok) return false;
  session.store(await response.json());
  return true;
}

// ---- DOM helpers: text always goes in as text nodes, never as markup.

function h(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

function s(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG, tag), attributes, children);
}

function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'value') element.value = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function time(iso) {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '—';
}

function percent(rate) {
  return `${(rate * 100).toFixed(1)}%`;
}

function label(code) {
  return String(code).replaceAll('_', ' ');
}

function badge(kind, value) {
  return h('span', { class: `badge ${kind}-${value}` }, label(value));
}

function decisionHref(module, id) {
  return `#/decisions/${module}/${id}`;
}

function message(text, kind = 'error') {
  return h('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

/// An action's failure, in `place`; when it was the session that ended, the sign-in form instead.
function showFailure(place, error) {
  if (session.access) {
    place.replaceChildren(message(error.message));
  } else {
    showSession();
    view().replaceChildren(signIn(error.message));
  }
}

// ---- Routing: the hash names the view and its query, so views can be bookmarked and reloaded.

function route() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  return { parts, query: new URLSearchParams(query) };
}

const view = () => document.getElementById('view');

/// Shows the navigation only to a signed-in user.
function showSession() {
  const signedIn = Boolean(session.access);
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  document.getElementById('username').textContent = session.username || '';
  return signedIn;
}

async function render() {
  if (!showSession()) {
    view().replaceChildren(signIn());
    return;
  }
  const { parts, query } = route();
  for (const link of document.querySelectorAll('[data-nav]')) {
    const current = (parts[0] || 'overview') === link.dataset.nav
      || (parts[0] === 'decisions' && link.dataset.nav === 'alerts');
    link.classList.toggle('current', current);
  }
  // `data-rendered` names the view on screen once it is complete (what a test waits for).
  delete view().dataset.rendered;
  view().replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    let page;
    if (parts.length === 0) page = await overview();
    else if (parts[0] === 'alerts') page = await alertQueue(query);
    else if (parts[0] === 'decisions' && parts.length === 3) page = await decisionPage(parts[1], parts[2]);
    else if (parts[0] === 'cases' && parts.length === 1) page = await caseList(query);
    else if (parts[0] === 'cases' && parts.length === 2) page = await casePage(parts[1]);
    else if (parts[0] === 'models' && parts.length === 1) page = await modelPage();
    else if (parts[0] === 'screening' && parts.length === 1) page = await screeningPage();
    else if (parts[0] === 'webhooks' && parts.length === 1) page = await webhooksPage();
    else if (parts[0] === 'rules' && parts.length <= 2) page = await rulesPage(parts[1] || 'aml');
    else if (parts[0] === 'rules' && parts.length === 4 && parts[2] === 'drafts') page = await draftPage(parts[1], parts[3]);
    else page = message('There is no such page.');
    view().replaceChildren(page);
    view().dataset.rendered = location.hash;
  } catch (error) {
    // A session that ended mid-way returns to the sign-in form, saying why.
    view().replaceChildren(showSession() ? message(error.message) : signIn(error.message));
  }
}

// ---- Sign-in

function signIn(notice) {
  const status = h('div', {}, notice ? message(notice, 'info') : null);
  const form = h('form', { class: 'panel sign-in', id: 'sign-in-form' },
    h('h1', {}, 'Sign in'),
    h('label', {}, 'Username', h('input', { name: 'username', autocomplete: 'username', required: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit' }, 'Sign in'),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    try {
      const tokens = await api('/api/token/', {
        method: 'POST',
        body: { username, password: form.elements.password.value },
      });
      session.store(tokens, username);
      render();
    } catch (error) {
      status.replaceChildren(message(error.message));
    }
  });
  return form;
}

// ---- Overview: what was decided, per module and per hour, and what the rules are worth.

async function overview() {
  const stats = await api('/api/statistics/');
  const tiles = h('div', { class: 'tiles' },
    tile('Detections', stats.total_detections.toLocaleString('en'), 'total-detections'),
    tile('Flagged', stats.total_flagged.toLocaleString('en'), 'total-flagged'),
    tile('Flag rate', percent(stats.flag_rate), 'flag-rate'),
    tile('Alerts', Object.values(stats.alerts_by_severity).reduce((a, b) => a + b, 0).toLocaleString('en'), 'total-alerts'));
  const hours = stats.hourly.map((bucket) => bucket.hour.slice(11, 13));
  const series = (figure) => MODULES.map((module) => ({
    name: module,
    colour: MODULE_COLOURS[module],
    values: stats.hourly.map((bucket) => figure(bucket.modules[module])),
  }));
  const detections = series((m) => m.total);
  const flaggedRate = series((m) => (m.total ? m.flagged / m.total : 0));
  return h('div', { class: 'overview' },
    h('h1', {}, 'Overview'),
    tiles,
    h('div', { class: 'grid' },
      section('Detections per hour, last 24 hours', lineChart('detections', hours, detections, (v) => String(Math.round(v))), legend()),
      section('Flagged rate per hour', lineChart('flagged-rate', hours, flaggedRate, percent), legend()),
      section('Alerts by severity', severityChart(stats.alerts_by_severity)),
      section('Top rules', topRules(stats.top_rules))),
    section('Modules', moduleTable(stats.modules)),
    section('Rule precision from closed cases', precisionTable(stats.rule_precision)),
    h('p', { class: 'muted' }, `Generated ${time(stats.generated_at)} UTC`));
}

function tile(title, value, id) {
  return h('div', { class: 'tile' }, h('span', { class: 'tile-label' }, title), h('strong', { id }, value));
}

function legend() {
  return h('ul', { class: 'legend' }, MODULES.map((module) => h('li', {},
    s('svg', { width: 12, height: 12, 'aria-hidden': 'true' }, s('rect', { width: 12, height: 12, rx: 2, fill: MODULE_COLOURS[module] })),
    ` ${MODULE_NAMES[module]}`)));
}

/// A line per series over the 24 hours, with a y axis from 0 to the largest value.
function lineChart(name, hours, series, format) {
  const width = 560, height = 200, left = 48, right = 12, top = 12, bottom = 24;
  const max = Math.max(0, ...series.flatMap((line) => line.values));
  const ceiling = max > 0 ? max : 1;
  const x = (i) => left + (i * (width - left - right)) / Math.max(1, hours.length - 1);
  const y = (v) => top + (1 - v / ceiling) * (height - top - bottom);
  const chart = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', 'data-chart': name, role: 'img', 'aria-label': name });
  for (let step = 0; step <= 4; step += 1) {
    const value = (ceiling * step) / 4;
    chart.append(
      s('line', { x1: left, x2: width - right, y1: y(value), y2: y(value), class: 'grid-line' }),
      s('text', { x: left - 6, y: y(value) + 4, class: 'axis', 'text-anchor': 'end' }, format(value)));
  }
  hours.forEach((hour, i) => {
    if (i % 4 === 0 || i === hours.length - 1) {
      chart.append(s('text', { x: x(i), y: height - 6, class: 'axis', 'text-anchor': 'middle' }, `${hour}h`));
    }
  });
  for (const line of series) {
    if (!line.values.some((v) => v > 0)) continue;
    const points = line.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    chart.append(s('polyline', { points, fill: 'none', stroke: line.colour, 'stroke-width': 2, 'data-series': line.name }));
    line.values.forEach((v, i) => {
      if (v > 0) {
        chart.append(s('circle', { cx: x(i), cy: y(v), r: 3, fill: line.colour, 'data-series': line.name },
          s('title', {}, `${MODULE_NAMES[line.name]} ${hours[i]}h: ${format(v)}`)));
      }
    });
  }
  if (max === 0) chart.append(s('text', { x: width / 2, y: height / 2, class: 'empty', 'text-anchor': 'middle' }, 'No detections in the last 24 hours'));
  return chart;
}

function severityChart(bySeverity) {
  const width = 560, height = 200, bottom = 24, top = 16;
  const max = Math.max(1, ...SEVERITIES.map((severity) => bySeverity[severity] || 0));
  const slot = width / SEVERITIES.length;
  const chart = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', 'data-chart': 'severity', role: 'img', 'aria-label': 'alerts by severity' });
  SEVERITIES.forEach((severity, i) => {
    const count = bySeverity[severity] || 0;
    const barHeight = (count / max) * (height - top - bottom);
    const x = i * slot + slot * 0.2;
    chart.append(
      s('rect', { x, y: height - bottom - barHeight, width: slot * 0.6, height: barHeight, fill: SEVERITY_COLOURS[severity], 'data-severity': severity, 'data-count': count }),
      s('text', { x: x + slot * 0.3, y: height - bottom - barHeight - 4, class: 'axis', 'text-anchor': 'middle' }, count),
      s('text', { x: x + slot * 0.3, y: height - 6, class: 'axis', 'text-anchor': 'middle' }, severity));
  });
  return chart;
}

function topRules(rules) {
  if (rules.length === 0) return h('p', { class: 'muted' }, 'No alerts yet.');
  const max = Math.max(...rules.map((rule) => rule.count));
  const rowHeight = 22, width = 560, labelWidth = 230;
  const chart = s('svg', { viewBox: `0 0 ${width} ${rules.length * rowHeight + 4}`, class: 'chart', 'data-chart': 'top-rules', role: 'img', 'aria-label': 'top rules' });
  rules.forEach((rule, i) => {
    const y = i * rowHeight + 2;
    const barWidth = ((width - labelWidth - 50) * rule.count) / max;
    chart.append(
      s('text', { x: labelWidth - 8, y: y + 14, class: 'axis', 'text-anchor': 'end' }, `${rule.rule} (${rule.module})`),
      s('rect', { x: labelWidth, y: y + 3, width: barWidth, height: rowHeight - 8, fill: MODULE_COLOURS[rule.module] || '#475569', 'data-rule': rule.rule }),
      s('text', { x: labelWidth + barWidth + 6, y: y + 14, class: 'axis' }, rule.count));
  });
  return chart;
}

function moduleTable(modules) {
  return h('table', { id: 'modules' },
    h('thead', {}, h('tr', {}, ['Module', 'Detections', 'Flagged', 'Flag rate', 'Average risk'].map((title) => h('th', {}, title)))),
    h('tbody', {}, MODULES.map((module) => {
      const figures = modules[module];
      return h('tr', {},
        h('td', {}, MODULE_NAMES[module]),
        h('td', { class: 'number' }, figures.total),
        h('td', { class: 'number' }, figures.flagged),
        h('td', { class: 'number' }, percent(figures.flag_rate)),
        h('td', { class: 'number' }, figures.average_risk ?? '—'));
    })));
}

function precisionTable(rules) {
  if (rules.length === 0) return h('p', { class: 'muted', id: 'rule-precision' }, 'No case has been closed yet.');
  return h('table', { id: 'rule-precision' },
    h('thead', {}, h('tr', {}, ['Rule', 'Module', 'Confirmed fraud', 'False positive', 'Inconclusive', 'Precision'].map((title) => h('th', {}, title)))),
    h('tbody', {}, rules.map((rule) => h('tr', { 'data-rule': rule.rule },
      h('td', {}, rule.rule),
      h('td', {}, MODULE_NAMES[rule.module] || rule.module),
      h('td', { class: 'number' }, rule.confirmed_fraud),
      h('td', { class: 'number', 'data-field': 'false_positive' }, rule.false_positive),
      h('td', { class: 'number' }, rule.inconclusive),
      h('td', { class: 'number' }, rule.precision === null ? '—' : percent(rule.precision))))));
}

// ---- The alert queue

async function alertQueue(query) {
  const page = await api(`/api/alerts/?${query}`);
  const selected = new Set();
  const filters = h('form', { class: 'filters', id: 'alert-filters' },
    choice('module', ['', ...MODULES, 'screening'], query.get('module'), (m) => (m ? MODULE_NAMES[m] : 'All modules')),
    choice('severity', ['', ...SEVERITIES], query.get('severity'), (v) => (v ? label(v) : 'Any severity')),
    choice('status', ['', ...ALERT_STATUSES], query.get('status'), (v) => (v ? label(v) : 'Any status')),
    h('input', { name: 'rule', placeholder: 'Rule, e.g. StructuringRule', value: query.get('rule') || '' }),
    h('label', { class: 'inline' }, 'since (UTC)', h('input', { name: 'since', type: 'datetime-local', value: localTime(query.get('since')) })),
    h('label', { class: 'inline' }, 'until (UTC)', h('input', { name: 'until', type: 'datetime-local', value: localTime(query.get('until')) })),
    h('button', { type: 'submit' }, 'Filter'));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ['module', 'severity', 'status', 'rule']) {
      const value = filters.elements[name].value.trim();
      if (value) next.set(name, value);
    }
    for (const name of ['since', 'until']) {
      const value = filters.elements[name].value;
      // datetime-local gives minutes, or seconds when typed; either is read as UTC.
      if (value) next.set(name, value.length === 16 ? `${value}:00Z` : `${value}Z`);
    }
    location.hash = `#/alerts?${next}`;
  });

  const status = h('div');
  const title = h('input', { name: 'title', placeholder: 'Case title (optional)', id: 'case-title' });
  const openCase = h('button', { type: 'button', id: 'open-case', disabled: true }, 'Open a case on the selected alerts');
  openCase.addEventListener('click', async () => {
    try {
      const body = { alert_ids: [...selected] };
      if (title.value.trim()) body.title = title.value.trim();
      const created = await api('/api/cases/', { method: 'POST', body });
      location.hash = `#/cases/${created.id}`;
    } catch (error) {
      showFailure(status, error);
    }
  });
  const rows = page.results.map((alert) => {
    const box = h('input', { type: 'checkbox', 'aria-label': `select alert ${alert.id}`, 'data-alert': alert.id });
    box.addEventListener('change', () => {
      if (box.checked) selected.add(alert.id); else selected.delete(alert.id);
      openCase.disabled = selected.size === 0;
    });
    return h('tr', { 'data-alert': alert.id },
      h('td', {}, box),
      h('td', {}, time(alert.raised_at)),
      h('td', {}, MODULE_NAMES[alert.module]),
      h('td', {}, badge('severity', alert.severity)),
      h('td', {}, alert.rule),
      h('td', {}, alert.entity_id || ''),
      h('td', { class: 'reason' }, alert.reason),
      h('td', {}, h('a', { href: decisionHref(alert.module, alert.decision_id), class: 'open-decision' }, 'Evidence')));
  });
  return h('div', {},
    h('h1', {}, 'Alerts'),
    filters,
    h('p', { class: 'muted', id: 'alert-count' }, `${page.count} alert${page.count === 1 ? '' : 's'}`),
    rows.length === 0
      ? h('p', { class: 'muted' }, 'No alert matches.')
      : h('table', { id: 'alerts' },
        h('thead', {}, h('tr', {}, ['', 'Raised (UTC)', 'Module', 'Severity', 'Rule', 'Entity', 'Reason', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)),
    h('div', { class: 'actions' }, title, openCase),
    status,
    pager(page, query, '#/alerts'));
}

function choice(name, values, current, caption) {
  return h('select', { name, 'aria-label': name },
    values.map((value) => h('option', { value, selected: value === (current || '') }, caption(value))));
}

/// An RFC 3339 UTC time as a datetime-local input shows it (the inputs are read as UTC).
function localTime(iso) {
  return iso ? iso.replace(/Z$/, '').slice(0, 16) : '';
}

function pager(page, query, base) {
  const current = Number(query.get('page') || 1);
  const link = (number, text) => {
    const next = new URLSearchParams(query);
    next.set('page', number);
    return h('a', { href: `${base}?${next}`, class: 'button' }, text);
  };
  return h('nav', { class: 'pager' },
    page.previous ? link(current - 1, '← Newer') : null,
    page.next ? link(current + 1, 'Older →') : null);
}

// ---- A decision with its evidence

async function decisionPage(module, id) {
  const decision = await api(`/api/${encodeURIComponent(module)}/${encodeURIComponent(id)}/`);
  const status = h('div');
  const openCase = h('button', { type: 'button', id: 'open-case-from-decision' }, 'Open a case on these alerts');
  openCase.addEventListener('click', async () => {
    try {
      const rules = [...new Set(decision.alerts.map((alert) => alert.rule))].join(', ');
      const created = await api('/api/cases/', {
        method: 'POST',
        body: { alert_ids: decision.alerts.map((alert) => alert.id), title: `${rules} — ${decision.entity_id}` },
      });
      location.hash = `#/cases/${created.id}`;
    } catch (error) {
      showFailure(status, error);
    }
  });
  return h('div', { class: 'decision' },
    h('h1', {}, `${MODULE_NAMES[decision.module]} decision ${decision.id}`, decision.reference ? ` · ${decision.reference}` : ''),
    h('dl', { class: 'facts' },
      fact('Entity', decision.entity_id),
      fact('Risk score', h('strong', { id: 'risk-score' }, decision.risk_score)),
      fact('Flagged', decision.flagged ? badge('flag', 'flagged') : badge('flag', 'clear')),
      decision.decision ? fact('Decision', decision.decision) : null,
      fact('Event time', `${time(decision.event_time)} UTC`),
      fact('Recorded', `${time(decision.recorded_at)} UTC`),
      fact('Model', decision.model_version || '—'),
      fact('Rule set', decision.ruleset_version ? `version ${decision.ruleset_version}` : '—')),
    section(`Alerts (${decision.alerts.length})`,
      decision.alerts.length === 0 ? h('p', { class: 'muted' }, 'No alert was raised.') : null,
      h('div', { id: 'evidence' }, decision.alerts.map((alert) => alertCard(alert, render))),
      decision.alerts.length > 0 ? h('div', { class: 'actions' }, openCase) : null,
      status),
    section(`History of ${decision.entity_id}`, historyTable(decision.module, decision.id, decision.history)),
    h('div', { class: 'grid' },
      section('Request', h('pre', {}, JSON.stringify(decision.request, null, 2))),
      section('Response', h('pre', {}, JSON.stringify(decision.response, null, 2)))));
}

function fact(name, value) {
  return h('div', {}, h('dt', {}, name), h('dd', {}, value));
}

/// One alert with its figures; a sanctions match alert also lists its matches, each resolvable
/// as a false positive (then `onResolved` draws the page again).
function alertCard(alert, onResolved) {
  return h('article', { class: 'alert-card', 'data-alert': alert.id },
    h('header', {}, badge('severity', alert.severity), h('strong', {}, alert.rule), h('span', { class: 'muted' }, ` ${label(alert.alert_type)} · confidence ${alert.confidence}`)),
    h('p', {}, alert.reason),
    onResolved ? sanctionsMatches(alert, onResolved) : null,
    figures(alert.details));
}

/// The numbers behind an alert, one row per figure: the rule's `metadata` at the top level, other
/// nested objects flattened with dots, lists one item per line.
function figures(details) {
  const rows = [];
  const walk = (value, path) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) {
        walk(inner, path && path !== 'metadata' ? `${path}.${key}` : key);
      }
    } else {
      const shown = Array.isArray(value)
        ? value.map((item) => h('div', {}, typeof item === 'object' ? JSON.stringify(item) : String(item)))
        : String(value);
      rows.push(h('tr', {}, h('th', {}, label(path)), h('td', {}, shown)));
    }
  };
  walk(details, '');
  return rows.length ? h('table', { class: 'figures' }, h('tbody', {}, rows)) : null;
}

function historyTable(module, currentId, history) {
  return h('table', { id: 'history' },
    h('thead', {}, h('tr', {}, ['Event time (UTC)', 'Reference', 'Risk', 'Flagged', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, history.map((item) => h('tr', { class: item.id === currentId ? 'current' : undefined },
      h('td', {}, time(item.event_time)),
      h('td', {}, item.reference || '—'),
      h('td', { class: 'number' }, item.risk_score),
      h('td', {}, item.flagged ? 'yes' : 'no'),
      h('td', {}, item.id === currentId ? 'this decision' : h('a', { href: decisionHref(module, item.id) }, 'Open'))))));
}

// ---- Cases

async function caseList(query) {
  const page = await api(`/api/cases/?${query}`);
  const filters = h('form', { class: 'filters', id: 'case-filters' },
    choice('status', ['', ...CASE_STATUSES], query.get('status'), (v) => (v ? label(v) : 'Any status')),
    h('input', { name: 'assignee', placeholder: 'Assignee', value: query.get('assignee') || '' }),
    h('button', { type: 'submit' }, 'Filter'));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ['status', 'assignee']) {
      const value = filters.elements[name].value.trim();
      if (value) next.set(name, value);
    }
    location.hash = `#/cases?${next}`;
  });
  return h('div', {},
    h('h1', {}, 'Cases'),
    filters,
    page.results.length === 0
      ? h('p', { class: 'muted' }, 'No case matches. Open one from the alert queue.')
      : h('table', { id: 'cases' },
        h('thead', {}, h('tr', {}, ['Case', 'Title', 'Status', 'Resolution', 'Assignee', 'Updated (UTC)'].map((t) => h('th', {}, t)))),
        h('tbody', {}, page.results.map((item) => h('tr', {},
          h('td', {}, h('a', { href: `#/cases/${item.id}` }, `#${item.id}`)),
          h('td', {}, item.title),
          h('td', {}, badge('status', item.status)),
          h('td', {}, item.resolution ? badge('resolution', item.resolution) : '—'),
          h('td', {}, item.assignee || '—'),
          h('td', {}, time(item.updated_at)))))),
    pager(page, query, '#/cases'));
}

async function casePage(id) {
  const item = await api(`/api/cases/${encodeURIComponent(id)}/`);
  const status = h('div');
  const form = h('form', { class: 'case-form', id: 'case-form' },
    h('label', {}, 'Assignee', h('input', { name: 'assignee', value: item.assignee || '', placeholder: 'username' })),
    h('label', {}, 'Status', choice('status', CASE_STATUSES, item.status, label)),
    h('label', {}, 'Resolution', choice('resolution', ['', ...RESOLUTIONS], item.resolution, (v) => (v ? label(v) : '—'))),
    h('label', { class: 'wide' }, 'Note', h('textarea', { name: 'note', rows: 3, placeholder: 'What you found' })),
    h('button', { type: 'submit' }, 'Save'),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const change = {};
    const assignee = form.elements.assignee.value.trim();
    if (assignee !== (item.assignee || '')) change.assignee = assignee || null;
    if (form.elements.status.value !== item.status) change.status = form.elements.status.value;
    const resolution = form.elements.resolution.value || null;
    if (resolution !== item.resolution && !(resolution === null && change.status && change.status !== 'closed')) {
      change.resolution = resolution;
    }
    const note = form.elements.note.value.trim();
    if (note) change.note = note;
    if (Object.keys(change).length === 0) {
      status.replaceChildren(message('Nothing changed.', 'info'));
      return;
    }
    try {
      await api(`/api/cases/${item.id}/`, { method: 'PATCH', body: change });
      render();
    } catch (error) {
      showFailure(status, error);
    }
  });
  return h('div', { class: 'case' },
    h('h1', {}, `Case #${item.id}: ${item.title}`),
    h('dl', { class: 'facts' },
      fact('Status', h('span', { id: 'case-status' }, badge('status', item.status))),
      fact('Resolution', h('span', { id: 'case-resolution' }, item.resolution ? badge('resolution', item.resolution) : '—')),
      fact('Assignee', item.assignee || '—'),
      fact('Opened by', `${item.created_by}, ${time(item.created_at)} UTC`)),
    section('Work the case', form),
    section(`Alerts (${item.alerts.length})`, h('table', { id: 'case-alerts' },
      h('thead', {}, h('tr', {}, ['Raised (UTC)', 'Severity', 'Rule', 'Reason', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, item.alerts.map((alert) => h('tr', {},
        h('td', {}, time(alert.raised_at)),
        h('td', {}, badge('severity', alert.severity)),
        h('td', {}, alert.rule),
        h('td', { class: 'reason' }, alert.reason),
        h('td', {}, h('a', { href: decisionHref(alert.module, alert.decision_id) }, 'Evidence'))))))),
    section('Timeline', h('ol', { class: 'timeline', id: 'timeline' }, item.timeline.map((entry) => h('li', {},
      h('span', { class: 'muted' }, `${time(entry.at)} UTC`), ' ',
      h('strong', {}, entry.actor), ` ${label(entry.action)} — `,
      change(entry.details))))));
}

/// A timeline entry's details as "field: value" pairs.
function change(details) {
  return Object.entries(details || {})
    .map(([field, value]) => {
      let shown = Array.isArray(value) ? value.join(', ') : value ?? '—';
      if (/^[a-z]+(_[a-z]+)+$/.test(shown)) shown = label(shown);
      return `${label(field)}: ${shown}`;
    })
    .join(' · ');
}

// ---- Models: what scores each module, and (admins) retraining with analysts' labels.

async function modelPage() {
  const admin = session.role === 'admin';
  const report = h('div', { id: 'training-report' });
  const table = h('div');
  const show = (models) => table.replaceChildren(modelTable(models, admin, async (module, button) => {
    button.disabled = true;
    report.replaceChildren(message(`Training the ${MODULE_NAMES[module]} model…`, 'info'));
    try {
      const trained = await api(`/api/models/${module}/train/`, { method: 'POST', body: {} });
      report.replaceChildren(trainingReport(trained));
      show(await api('/api/models/'));
    } catch (error) {
      showFailure(report, error);
      button.disabled = false;
    }
  }));
  const models = await api('/api/models/');
  show(models);
  const anomaly = h('div');
  const showAnomaly = (current) => anomaly.replaceChildren(anomalyTable(current));
  showAnomaly(models);
  const calibrateStatus = h('div');
  const calibrate = h('button', { type: 'button', id: 'calibrate-anomaly' }, 'Calibrate now');
  calibrate.addEventListener('click', async () => {
    calibrate.disabled = true;
    try {
      const calibrated = await api('/api/models/calibrate/', { method: 'POST' });
      show(calibrated);
      showAnomaly(calibrated);
      calibrateStatus.replaceChildren();
    } catch (error) {
      showFailure(calibrateStatus, error);
    }
    calibrate.disabled = false;
  });
  const peers = h('div');
  const showPeers = (groups) => peers.replaceChildren(peerGroupTable(groups));
  showPeers(await api('/api/aml/peer-groups/'));
  const learnStatus = h('div');
  const learn = h('button', { type: 'button', id: 'learn-peer-groups' }, 'Learn now');
  learn.addEventListener('click', async () => {
    learn.disabled = true;
    try {
      showPeers(await api('/api/aml/peer-groups/learn/', { method: 'POST' }));
      learnStatus.replaceChildren();
    } catch (error) {
      showFailure(learnStatus, error);
    }
    learn.disabled = false;
  });
  return h('div', {},
    h('h1', {}, 'Models'),
    section('In use', table,
      admin
        ? h('p', { class: 'muted' }, 'Retraining learns from closed cases: credit from the decisions they labelled, the anomaly models from recent decisions less confirmed fraud.')
        : h('p', { class: 'muted' }, 'Admins can retrain the models with the labels closed cases give.')),
    report,
    section('Anomaly alerts', anomaly,
      h('p', { class: 'muted' }, 'Each anomaly alert fires on the share of recent events its threshold was calibrated for, on this deployment\'s own traffic; it stays silent while the model warms up. Drift is each feature\'s population stability index between the training data and recent traffic: under 0.1 stable, 0.1-0.25 shifted, over 0.25 a different population.'),
      admin ? h('p', {}, calibrate) : null,
      calibrateStatus),
    section('AML peer groups', peers,
      h('p', { class: 'muted' }, 'A sender too new for a profile of its own is judged against its segment: what the segment\'s established senders do in an hour and a day. The worker learns them every hour.'),
      admin ? h('p', {}, learn) : null,
      learnStatus));
}

/// The learned AML peer groups (GET /api/aml/peer-groups/).
function peerGroupTable(report) {
  const limits = (l) => `${l.transactions_1h} or ${amount(l.amount_1h)} an hour; ${l.transactions_24h} or ${amount(l.amount_24h)} a day`;
  const learned = report.learned_at
    ? `Learned ${time(report.learned_at)} UTC from the transfers of the ${report.window_days} days to ${time(report.learned_through)} UTC: the ${Math.round(report.quantile * 100)}% quantile of what each segment's established senders do.`
    : 'Not learned yet: new senders meet the configured limits.';
  return h('div', { id: 'peer-groups' },
    h('p', { 'data-field': 'learned' }, learned),
    report.groups.length === 0
      ? h('p', { class: 'muted' }, `No segment has ${report.min_members} established senders yet; new senders meet the configured limits: ${limits(report.configured_limits)}.`)
      : h('table', {},
        h('thead', {}, h('tr', {}, ['Segment', 'Established senders', 'Transfers', 'At most', 'Quieter-day transfer'].map((t) => h('th', {}, t)))),
        h('tbody', {}, report.groups.map((group) => h('tr', { 'data-segment': group.segment },
          h('td', {}, group.segment),
          h('td', { class: 'number' }, group.members.toLocaleString('en')),
          h('td', { class: 'number' }, group.transfers.toLocaleString('en')),
          h('td', {}, limits(group.limits)),
          h('td', { class: 'number' }, amount(group.quiet_transfer)))))));
}

/// Each anomaly model's alert: status, threshold, what it was measured on, and drift.
function anomalyTable(models) {
  const STATUS = { calibrated: 'Calibrated', warming_up: 'Warming up', training_threshold: 'Training threshold' };
  const rows = MODULES.filter((module) => models[module].anomaly_alert).map((module) => {
    const alert = models[module].anomaly_alert;
    const measured = alert.status === 'training_threshold'
      ? 'calibration off'
      : `${alert.events.toLocaleString('en')} event${alert.events === 1 ? '' : 's'} (${alert.min_events.toLocaleString('en')} needed)${alert.calibrated_at ? `, ${time(alert.calibrated_at)} UTC` : ', not yet'}`;
    const drift = alert.drift.map((feature) => h('div', { class: feature.psi > 0.25 ? 'drifted' : null },
      `${label(feature.feature)} ${feature.psi.toFixed(3)}`));
    return h('tr', { 'data-module': module },
      h('td', {}, MODULE_NAMES[module]),
      h('td', { 'data-field': 'status' }, STATUS[alert.status] || alert.status),
      h('td', { class: 'number', 'data-field': 'threshold' }, alert.threshold === undefined ? '—' : alert.threshold.toFixed(4)),
      h('td', { class: 'number' }, percent(alert.alert_rate)),
      h('td', {}, measured),
      h('td', {}, models[module].source || '—'),
      h('td', { 'data-field': 'drift' }, drift.length ? drift : '—'));
  });
  return h('table', { id: 'anomaly-alerts' },
    h('thead', {}, h('tr', {}, ['Module', 'Status', 'Threshold', 'Alert rate', 'Measured on', 'Model trained on', 'Drift (PSI)'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows));
}

function amount(value) {
  return `$${value.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/// The model in use per module; for admins, a button that calls `retrain(module, button)`.
function modelTable(models, admin, retrain) {
  const rows = MODULES.map((module) => {
    const model = models[module];
    const button = h('button', { type: 'button', 'data-module': module }, 'Retrain with labels');
    button.addEventListener('click', () => retrain(module, button));
    return h('tr', { 'data-module': module },
      h('td', {}, MODULE_NAMES[module]),
      h('td', {}, label(model.model)),
      h('td', { 'data-field': 'trained_at' }, `${time(model.trained_at)} UTC`),
      h('td', { class: 'number' }, model.training_rows.toLocaleString('en')),
      h('td', {}, Object.entries(model.metrics).map(([name, value]) => h('div', {}, `${label(name)} ${value.toFixed(4)}`))),
      admin ? h('td', {}, button) : null);
  });
  const titles = ['Module', 'Model', 'Trained (UTC)', 'Rows', 'Training report'].concat(admin ? [''] : []);
  return h('table', { id: 'models' },
    h('thead', {}, h('tr', {}, titles.map((t) => h('th', {}, t)))),
    h('tbody', {}, rows));
}

function trainingReport(trained) {
  const line = (title, figures) => h('tr', {},
    h('th', {}, title),
    h('td', { class: 'number' }, figures ? `${figures.flagged} of ${figures.labelled}` : '—'),
    h('td', { class: 'number' }, figures && figures.precision !== null ? percent(figures.precision) : '—'),
    h('td', { class: 'number' }, figures && figures.recall !== null ? percent(figures.recall) : '—'),
    h('td', { class: 'number' }, figures && figures.roc_auc !== null ? figures.roc_auc.toFixed(3) : '—'));
  return section(`${MODULE_NAMES[trained.module]}: trained and in use`,
    h('p', {}, `${label(trained.installed.model)} on ${trained.installed.training_rows} rows of ${trained.source} (${trained.held_out} held out). Labels: ${trained.confirmed_fraud} confirmed fraud, ${trained.false_positive} false positive.`),
    h('table', {},
      h('thead', {}, h('tr', {}, ['On the labels', 'Flagged', 'Precision', 'Recall', 'ROC AUC'].map((t) => h('th', {}, t)))),
      h('tbody', {}, line('Previous model', trained.previous), line('New model', trained.new))));
}

// ---- Start

document.getElementById('sign-out').addEventListener('click', () => {
  session.clear();
  // A new hash renders the sign-in form through `hashchange`; rendering here as well would draw
  // it twice, the second replacing a form someone has started to fill in.
  if (location.hash === '#/' || location.hash === '') {
    render();
  } else {
    location.hash = '#/';
  }
});
window.addEventListener('hashchange', render);
render();
