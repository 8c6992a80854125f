// The Rules pages: each module's rule set in force and its history, drafts with an editor that
// shows expression errors where they are, backtests and shadow runs as before/after reports,
// publishing by a second admin and rollback. Uses app.js's helpers (h, s, api, section, ...),
// which are defined by the time a page is drawn.
'use strict';

const RULE_SEVERITIES = ['low', 'medium', 'high', 'critical'];

function rulesHref(module, draft) {
  return draft === undefined ? `#/rules/${module}` : `#/rules/${module}/drafts/${draft}`;
}

function moduleTabs(current) {
  return h('nav', { class: 'tabs', id: 'module-tabs' }, MODULES.map((module) => h('a', {
    href: rulesHref(module),
    class: module === current ? 'current' : undefined,
  }, MODULE_NAMES[module])));
}

function shortHash(sha256) {
  return h('code', { title: sha256 }, sha256.slice(0, 12));
}

/// The custom rules of a rule set, read-only.
function customRuleTable(rules, id) {
  if (rules.length === 0) return h('p', { class: 'muted', id }, 'No custom rules.');
  return h('table', { id },
    h('thead', {}, h('tr', {}, ['Rule', 'When', 'Severity', 'Confidence', 'Reason'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rules.map((rule) => h('tr', { 'data-rule': rule.name },
      h('td', {}, h('strong', {}, rule.name), rule.supporting ? h('div', { class: 'muted' }, 'supporting') : null),
      h('td', {}, h('code', {}, rule.when)),
      h('td', {}, badge('severity', rule.severity)),
      h('td', { class: 'number' }, rule.confidence),
      h('td', { class: 'reason' }, rule.reason)))));
}

function settingsFacts(ruleSet) {
  const thresholds = Object.entries(ruleSet.thresholds);
  return h('dl', { class: 'facts' },
    fact('Switched off', ruleSet.disabled.length ? ruleSet.disabled.join(', ') : 'none'),
    fact('Thresholds', thresholds.length
      ? thresholds.map(([name, value]) => h('div', {}, `${name} = ${JSON.stringify(value)}`))
      : 'as in the config file'));
}

// ---- A module's rule set in force, its history and its drafts.

async function rulesPage(module) {
  if (!MODULES.includes(module)) return message('There is no such module.');
  const admin = session.role === 'admin';
  const [inForce, versions, drafts] = await Promise.all([
    api(`/api/rules/${module}/`),
    api(`/api/rules/${module}/versions/`),
    api(`/api/rules/${module}/drafts/`),
  ]);
  const status = h('div', { id: 'rules-status' });
  const newDraft = h('button', { type: 'button', id: 'new-draft' }, `New draft from version ${inForce.version}`);
  newDraft.addEventListener('click', async () => {
    try {
      const created = await api(`/api/rules/${module}/drafts/`, {
        method: 'POST',
        body: {
          description: `Changes to version ${inForce.version}`,
          thresholds: inForce.thresholds,
          disabled: inForce.disabled,
          rules: inForce.rules,
        },
      });
      location.hash = rulesHref(module, created.id);
    } catch (error) {
      showFailure(status, error);
    }
  });
  const restore = async (version, button) => {
    button.disabled = true;
    try {
      await api(`/api/rules/${module}/versions/${version}/restore/`, { method: 'POST' });
      render();
    } catch (error) {
      showFailure(status, error);
      button.disabled = false;
    }
  };
  return h('div', { class: 'rules' },
    h('h1', {}, 'Rules'),
    moduleTabs(module),
    section(`In force: version ${inForce.version}`,
      h('dl', { class: 'facts', id: 'in-force' },
        fact('Version', h('strong', { 'data-field': 'version' }, inForce.version)),
        fact('Description', inForce.description || '—'),
        fact('Written by', inForce.author),
        fact('Published', inForce.published_by ? `${inForce.published_by}, ${time(inForce.published_at)} UTC` : '—'),
        fact('SHA-256', shortHash(inForce.sha256))),
      settingsFacts(inForce),
      customRuleTable(inForce.rules, 'in-force-rules')),
    section('Drafts',
      drafts.length === 0 ? h('p', { class: 'muted' }, 'No drafts.') : h('table', { id: 'drafts' },
        h('thead', {}, h('tr', {}, ['Draft', 'Description', 'Author', 'Rules', 'Updated (UTC)'].map((t) => h('th', {}, t)))),
        h('tbody', {}, drafts.map((draft) => h('tr', { 'data-draft': draft.id },
          h('td', {}, h('a', { href: rulesHref(module, draft.id) }, `#${draft.id}`)),
          h('td', {}, draft.description || '—'),
          h('td', {}, draft.author),
          h('td', { class: 'number' }, draft.rules.length),
          h('td', {}, time(draft.updated_at)))))),
      h('div', { class: 'actions' }, newDraft),
      status),
    section('History',
      h('table', { id: 'versions' },
        h('thead', {}, h('tr', {}, ['Version', 'Status', 'Description', 'Author', 'Published', 'SHA-256', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, versions.map((version) => {
          const button = h('button', { type: 'button', class: 'restore', 'data-version': version.version }, 'Restore');
          button.addEventListener('click', () => restore(version.version, button));
          return h('tr', { 'data-version': version.version },
            h('td', { class: 'number' }, version.version),
            h('td', {}, badge('ruleset', version.status)),
            h('td', {}, version.description || '—'),
            h('td', {}, version.author),
            h('td', {}, version.published_by ? `${version.published_by}, ${time(version.published_at)}` : '—'),
            h('td', {}, shortHash(version.sha256)),
            h('td', {}, admin && version.status !== 'in_force' ? button : null));
        }))),
      h('p', { class: 'muted' }, admin
        ? 'Restoring publishes a copy of that version as the next one; the history is kept.'
        : 'Admins can restore an earlier version.')));
}

// ---- A draft: the editor, the features it can read, backtest, shadow and publish.

async function draftPage(module, id) {
  const [draft, features] = await Promise.all([
    api(`/api/rules/${module}/drafts/${encodeURIComponent(id)}/`),
    api(`/api/rules/${module}/features/`),
  ]);
  const author = draft.author === session.username;
  const admin = session.role === 'admin';
  return h('div', { class: 'rules draft' },
    h('h1', {}, `${MODULE_NAMES[module]} rules · draft #${draft.id}`),
    h('p', {}, h('a', { href: rulesHref(module) }, `← ${MODULE_NAMES[module]} rules in force`)),
    h('dl', { class: 'facts' },
      fact('Author', draft.author),
      fact('Started from', draft.based_on ? `version ${draft.based_on}` : '—'),
      fact('Updated', `${time(draft.updated_at)} UTC`),
      fact('SHA-256', shortHash(draft.sha256))),
    h('div', { class: 'draft-grid' },
      section('Rule set', draftEditor(module, draft, author)),
      section('Features rules read', featureTable(features))),
    section('Backtest', await backtestPanel(module, draft.id)),
    section('Shadow', await shadowPanel(module, draft.id)),
    section('Publish', publishPanel(module, draft, author, admin)));
}

function featureTable(features) {
  return h('div', { class: 'feature-list' }, h('table', { id: 'features' },
    h('thead', {}, h('tr', {}, ['Feature', 'Type', 'Unit', 'Meaning'].map((t) => h('th', {}, t)))),
    h('tbody', {}, features.map((feature) => h('tr', { 'data-feature': feature.name },
      h('td', {}, h('code', {}, feature.name)),
      h('td', {}, feature.kind),
      h('td', {}, feature.unit || '—'),
      h('td', {}, feature.description))))));
}

/// The editor: one block per custom rule; a save that is refused shows each message under the
/// field it is about (an expression's with its line and column).
function draftEditor(module, draft, author) {
  const status = h('div', { id: 'draft-status' });
  const rulesBox = h('div', { id: 'draft-rules' });
  const form = h('form', { id: 'draft-form', class: 'draft-form' },
    h('label', { class: 'wide' }, 'Description', h('input', { name: 'ruleset_description', value: draft.description, disabled: !author })),
    errorsFor('description'),
    h('label', { class: 'wide' }, 'Built-in rules switched off (comma-separated)',
      h('input', { name: 'disabled', value: draft.disabled.join(', '), disabled: !author })),
    errorsFor('disabled'),
    h('label', { class: 'wide' }, 'Thresholds (JSON: setting → value)',
      h('textarea', { name: 'thresholds', rows: 3, disabled: !author }, JSON.stringify(draft.thresholds, null, 1))),
    errorsFor('thresholds'),
    rulesBox,
    errorsFor('rules'),
    errorsFor('non_field_errors'));
  const addRule = (rule) => rulesBox.append(ruleEditor(rule, author));
  draft.rules.forEach(addRule);
  if (author) {
    const add = h('button', { type: 'button', id: 'add-rule', class: 'secondary' }, 'Add a rule');
    add.addEventListener('click', () => addRule({ name: '', when: '', severity: 'high', confidence: 0.8, reason: '', description: '', supporting: false }));
    form.append(h('div', { class: 'actions' }, add, h('button', { type: 'submit', id: 'save-draft' }, 'Save draft')), status);
  } else {
    form.append(h('p', { class: 'muted' }, `Only ${draft.author}, who wrote it, changes this draft.`));
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const list of form.querySelectorAll('.field-errors')) list.replaceChildren();
    let thresholds;
    try {
      thresholds = JSON.parse(form.elements.thresholds.value || '{}');
    } catch (error) {
      showFieldErrors(form, { thresholds: [`Not JSON: ${error.message}`] });
      return;
    }
    const body = {
      description: form.elements.ruleset_description.value.trim(),
      disabled: form.elements.disabled.value.split(',').map((name) => name.trim()).filter(Boolean),
      thresholds,
      rules: [...rulesBox.querySelectorAll('.rule-editor')].map(readRule),
    };
    try {
      await api(`/api/rules/${module}/drafts/${draft.id}/`, { method: 'PATCH', body });
      status.replaceChildren(message('Saved.', 'info'));
      render();
    } catch (error) {
      if (error.status === 400 && error.body) {
        showFieldErrors(form, error.body);
        status.replaceChildren(message('Not saved: see the marked fields.'));
      } else {
        showFailure(status, error);
      }
    }
  });
  return form;
}

function errorsFor(field) {
  return h('ul', { class: 'field-errors', 'data-errors': field });
}

function ruleEditor(rule, author) {
  const block = h('fieldset', { class: 'rule-editor' },
    h('legend', {}, rule.name || 'New rule'),
    h('label', {}, 'Name', h('input', { name: 'name', value: rule.name, disabled: !author })),
    errorsFor('name'),
    h('label', {}, 'Severity', h('select', { name: 'severity', disabled: !author },
      RULE_SEVERITIES.map((severity) => h('option', { value: severity, selected: severity === rule.severity }, severity)))),
    h('label', {}, 'Confidence (0-1)', h('input', { name: 'confidence', type: 'number', step: '0.01', min: 0, max: 1, value: rule.confidence, disabled: !author })),
    errorsFor('confidence'),
    h('label', { class: 'inline' }, h('input', { name: 'supporting', type: 'checkbox', checked: rule.supporting, disabled: !author }), ' supporting: ranks, never flags alone'),
    h('label', { class: 'wide' }, 'When (CEL)', h('textarea', { name: 'when', rows: 2, spellcheck: 'false', disabled: !author }, rule.when)),
    errorsFor('when'),
    h('label', { class: 'wide' }, 'Reason ({{feature}} shows its value)', h('input', { name: 'reason', value: rule.reason, disabled: !author })),
    errorsFor('reason'),
    h('label', { class: 'wide' }, 'Description', h('input', { name: 'description', value: rule.description || '', disabled: !author })),
    errorsFor('description'));
  if (author) {
    const remove = h('button', { type: 'button', class: 'secondary remove-rule' }, 'Remove');
    remove.addEventListener('click', () => block.remove());
    block.append(remove);
  }
  return block;
}

function readRule(block) {
  const field = (name) => block.querySelector(`[name=${name}]`);
  return {
    name: field('name').value.trim(),
    when: field('when').value,
    severity: field('severity').value,
    confidence: Number(field('confidence').value),
    reason: field('reason').value,
    description: field('description').value,
    supporting: field('supporting').checked,
  };
}

/// A DRF error body on the form: rule-set fields under their inputs, each rule's under its own.
function showFieldErrors(form, body) {
  const put = (scope, field, messages) => {
    const list = scope.querySelector(`:scope > [data-errors=${field}]`) || form.querySelector('[data-errors=non_field_errors]');
    list.append(...[].concat(messages).map((text) => h('li', {}, typeof text === 'string' ? text : JSON.stringify(text))));
  };
  const blocks = form.querySelectorAll('.rule-editor');
  for (const [field, messages] of Object.entries(body)) {
    if (field === 'rules' && Array.isArray(messages) && messages.some((item) => item && typeof item === 'object')) {
      messages.forEach((errors, index) => {
        for (const [name, texts] of Object.entries(errors || {})) put(blocks[index] || form, name, texts);
      });
    } else {
      put(form, field, messages);
    }
  }
}

// ---- Reports: a backtest's and a shadow run's, before (as decided) and after (the draft).

function reportView(report, id) {
  const quality = (side) => {
    const figures = report.labels[side];
    const shown = (value) => (value === null ? '—' : percent(value));
    return `precision ${shown(figures.precision)}, recall ${shown(figures.recall)}`;
  };
  const max = Math.max(1, ...report.alerts.flatMap((row) => [row.before, row.after]));
  const bar = (count, kind) => s('svg', { viewBox: '0 0 240 16', class: `rule-bar ${kind}`, role: 'img', 'aria-label': String(count), 'data-count': count },
    s('rect', { x: 0, y: 2, width: (200 * count) / max, height: 12, rx: 2 }),
    s('text', { x: (200 * count) / max + 6, y: 13, class: 'axis' }, count));
  return h('div', { class: 'report', id },
    h('table', { class: 'summary' },
      h('thead', {}, h('tr', {}, ['', 'Before (as decided)', 'After (the draft)'].map((t) => h('th', {}, t)))),
      h('tbody', {},
        h('tr', {}, h('th', {}, 'Decisions flagged'),
          h('td', { class: 'number', 'data-field': 'flagged-before' }, report.flagged.before),
          h('td', { class: 'number', 'data-field': 'flagged-after' }, report.flagged.after)),
        h('tr', {}, h('th', {}, `Against closed cases (${report.labels.confirmed_fraud} fraud, ${report.labels.false_positive} false positive)`),
          h('td', {}, quality('before')), h('td', {}, quality('after'))))),
    h('p', { class: 'muted' }, `${report.events.toLocaleString('en')} decisions compared${report.warm_up_events ? ` after ${report.warm_up_events.toLocaleString('en')} replayed to warm the windows` : ''}; ${report.changed} changed; ${report.seconds} s.`),
    report.alerts.length === 0 ? h('p', { class: 'muted' }, 'No alerts before or after.') : h('table', { class: 'rule-bars' },
      h('thead', {}, h('tr', {}, ['Rule', 'Alerts before', 'Alerts after'].map((t) => h('th', {}, t)))),
      h('tbody', {}, report.alerts.map((row) => h('tr', { 'data-rule': row.rule },
        h('td', {}, row.rule),
        h('td', { 'data-field': 'before' }, bar(row.before, 'before')),
        h('td', { 'data-field': 'after' }, bar(row.after, 'after')))))),
    report.changed_decisions.length === 0 ? null : h('table', { class: 'changed' },
      h('thead', {}, h('tr', {}, ['Decision', 'Risk', 'Flagged', 'Rules added', 'Rules removed'].map((t) => h('th', {}, t)))),
      h('tbody', {}, report.changed_decisions.map((change) => {
        const module = change.decision.split('/')[2];
        return h('tr', { 'data-decision': change.id },
          h('td', {}, h('a', { href: decisionHref(module, change.id) }, `#${change.id}`)),
          h('td', { class: 'number' }, `${change.risk_before} → ${change.risk_after}`),
          h('td', {}, `${change.flagged_before ? 'yes' : 'no'} → ${change.flagged_after ? 'yes' : 'no'}`),
          h('td', {}, change.rules_added.join(', ') || '—'),
          h('td', {}, change.rules_removed.join(', ') || '—'));
      }))));
}

async function latest(path) {
  try {
    return await api(path);
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/// Backtest: a period, the run's progress while it replays, then its report.
async function backtestPanel(module, id) {
  const path = `/api/rules/${module}/drafts/${id}/backtest/`;
  const out = h('div', { id: 'backtest' });
  const show = (run) => {
    if (!run) out.replaceChildren(h('p', { class: 'muted' }, 'Not backtested yet.'));
    else if (run.status === 'running') out.replaceChildren(message(`Replaying: ${run.replayed.toLocaleString('en')} of ${run.total.toLocaleString('en')} stored decisions…`, 'info'));
    else if (run.status === 'done') out.replaceChildren(h('p', { class: 'muted' }, `${time(run.since)} to ${time(run.until)} UTC, run by ${run.started_by}`), reportView(run.report, 'backtest-report'));
    else out.replaceChildren(message(`The backtest ${run.status}${run.error ? `: ${run.error}` : ''}.`));
  };
  const follow = async () => {
    for (;;) {
      const run = await latest(path);
      show(run);
      if (!run || run.status !== 'running' || !document.body.contains(out)) return;
      await new Promise((resolve) => { setTimeout(resolve, 400); });
    }
  };
  const now = new Date();
  const monthAgo = new Date(now.getTime() - 30 * 86400000);
  const form = h('form', { class: 'filters', id: 'backtest-form' },
    h('label', { class: 'inline' }, 'since (UTC)', h('input', { name: 'since', type: 'datetime-local', value: localTime(monthAgo.toISOString()) })),
    h('label', { class: 'inline' }, 'until (UTC)', h('input', { name: 'until', type: 'datetime-local', value: localTime(now.toISOString()) })),
    h('button', { type: 'submit' }, 'Backtest'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const utc = (value) => (value.length === 16 ? `${value}:00Z` : `${value}Z`);
    try {
      show(await api(path, { method: 'POST', body: { since: utc(form.elements.since.value), until: utc(form.elements.until.value) } }));
      await follow();
    } catch (error) {
      showFailure(out, error);
    }
  });
  const run = await latest(path);
  show(run);
  if (run && run.status === 'running') follow().catch((error) => showFailure(out, error));
  return h('div', {},
    h('p', { class: 'muted' }, 'Replays the stored decisions of the period through this draft, in event-time order, into fresh windows warmed on the weeks before it; nothing live changes.'),
    form, out);
}

/// Shadow: start or stop deciding live traffic with the draft beside the rule set in force.
async function shadowPanel(module, id) {
  const path = `/api/rules/${module}/drafts/${id}/shadow/`;
  const out = h('div', { id: 'shadow' });
  const toggle = h('button', { type: 'button', id: 'shadow-toggle' });
  const show = (run) => {
    const running = Boolean(run && run.status === 'running');
    toggle.textContent = running ? 'Stop shadowing' : 'Start shadowing';
    toggle.dataset.action = running ? 'stop' : 'start';
    out.replaceChildren(run
      ? h('div', {},
        h('p', { class: 'muted', 'data-field': 'shadow-status' }, running
          ? `Shadowing since ${time(run.started_at)} UTC (started by ${run.started_by}).`
          : `Shadowed ${time(run.started_at)} to ${time(run.stopped_at)} UTC; stopped by ${run.stopped_by}.`),
        reportView(run.report, 'shadow-report'))
      : h('p', { class: 'muted' }, 'Not shadowed yet.'));
  };
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    try {
      show(await api(path, { method: 'POST', body: { action: toggle.dataset.action } }));
    } catch (error) {
      showFailure(out, error);
    }
    toggle.disabled = false;
  });
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'shadow-refresh' }, 'Refresh report');
  refresh.addEventListener('click', async () => {
    try {
      show(await latest(path));
    } catch (error) {
      showFailure(out, error);
    }
  });
  show(await latest(path));
  return h('div', {},
    h('p', { class: 'muted' }, 'While shadowing, every live decision is also decided by this draft on the same history; its outcome is stored beside the live one and never answered.'),
    h('div', { class: 'actions' }, toggle, refresh), out);
}

function publishPanel(module, draft, author, admin) {
  if (!admin) return h('p', { class: 'muted', id: 'publish-note' }, 'An admin other than the author publishes a draft.');
  if (author) return h('p', { class: 'muted', id: 'publish-note' }, 'You wrote this draft: another admin publishes it (four eyes).');
  const status = h('div');
  const publish = h('button', { type: 'button', id: 'publish' }, 'Publish as the next version');
  publish.addEventListener('click', async () => {
    publish.disabled = true;
    try {
      await api(`/api/rules/${module}/drafts/${draft.id}/publish/`, { method: 'POST' });
      location.hash = rulesHref(module);
    } catch (error) {
      showFailure(status, error);
      publish.disabled = false;
    }
  });
  return h('div', {},
    h('p', {}, `Written by ${draft.author}. Publishing puts it in force on every gateway within seconds; the version in force now stays in the history.`),
    publish, status);
}
