// The Screening page: a name screened against the lists in use, each match with the parts of
// its score, and the lists with their versions; and, on a decision page, the sanctions matches of
// an alert with a way to resolve one as a false positive for that party. Uses app.js's helpers
// (h, api, section, fact, badge, ...), which are defined by the time a page is drawn.
'use strict';

const PARTY_KINDS = ['individual', 'entity', 'vessel', 'aircraft'];

function agreementBadge(word) {
  return badge('agreement', word);
}

/// The matches of one screening, best first.
function matchTable(matches) {
  if (matches.length === 0) return h('p', { class: 'muted', id: 'screening-matches' }, 'No listed entry matches at the threshold.');
  return h('table', { id: 'screening-matches' },
    h('thead', {}, h('tr', {}, ['Score', 'List', 'Entry', 'Matched name', 'Name score', 'Date of birth', 'Country', 'Kind', 'Programs']
      .map((t) => h('th', {}, t)))),
    h('tbody', {}, matches.map((found) => h('tr', { 'data-entry': found.entry_id },
      h('td', { class: 'number' }, h('strong', {}, found.score.toFixed(3))),
      h('td', {}, found.list),
      h('td', {}, h('strong', {}, found.name), h('div', { class: 'muted' }, `id ${found.entry_id}`)),
      h('td', {}, found.matched_name, found.parts.alias
        ? h('div', { class: 'muted' }, found.parts.weak_alias ? 'weak alias' : 'alias') : null),
      h('td', { class: 'number' }, found.parts.name.toFixed(3)),
      h('td', {}, agreementBadge(found.parts.date_of_birth)),
      h('td', {}, agreementBadge(found.parts.country)),
      h('td', {}, agreementBadge(found.parts.kind)),
      h('td', {}, found.programs.join(', '))))));
}

function listTable(lists) {
  if (lists.lists.length === 0) {
    return h('p', { class: 'muted', id: 'screening-lists' }, 'No list is loaded: an admin imports one with `redflag lists import` or the API.');
  }
  return h('table', { id: 'screening-lists' },
    h('thead', {}, h('tr', {}, ['List', 'Version', 'Format', 'Entries', 'Changes', 'Imported (UTC)', 'By', 'Parties re-screened'].map((t) => h('th', {}, t)))),
    h('tbody', {}, lists.lists.flatMap((list) => list.versions.map((version) => h('tr', {
      'data-list': list.name, 'data-version': version.version, class: version.version === list.version ? 'current' : 'muted',
    },
    h('td', {}, h('strong', {}, list.name)),
    h('td', { class: 'number' }, version.version === list.version ? `${version.version} (in use)` : version.version),
    h('td', {}, version.format),
    h('td', { class: 'number' }, version.entries),
    h('td', {}, `+${version.added} ~${version.changed} −${version.removed}`),
    h('td', {}, time(version.imported_at)),
    h('td', {}, version.imported_by),
    h('td', {}, version.rescreened_at ? time(version.rescreened_at) : 'pending'))))));
}

async function screeningPage() {
  const lists = await api('/api/screening/lists/');
  const results = h('div', { id: 'screening-results' });
  const form = h('form', { class: 'filters', id: 'screening-form' },
    h('input', { name: 'name', placeholder: 'Name, e.g. Ivan Petrovich Dragomirov', required: true, maxlength: 200, size: 36 }),
    choice('entity_type', ['', ...PARTY_KINDS], '', (kind) => (kind ? label(kind) : 'Any kind')),
    h('input', { name: 'date_of_birth', placeholder: 'Born YYYY or YYYY-MM-DD', size: 18 }),
    h('input', { name: 'country', placeholder: 'Country', size: 10 }),
    h('button', { type: 'submit' }, 'Screen'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const name of ['name', 'entity_type', 'date_of_birth', 'country']) {
      const value = form.elements[name].value.trim();
      if (value) body[name] = value;
    }
    delete results.dataset.screened;
    try {
      const answer = await api('/api/screening/', { method: 'POST', body });
      const versions = answer.lists.map((list) => `${list.name} v${list.version}`).join(', ') || 'none';
      results.replaceChildren(
        h('p', { class: 'muted' }, `Screened against ${versions} at threshold ${answer.threshold}.`),
        matchTable(answer.matches));
      results.dataset.screened = body.name;
    } catch (error) {
      showFailure(results, error);
    }
  });
  return h('div', {},
    h('h1', {}, 'Screening'),
    h('p', { class: 'muted' }, `${lists.names_indexed} names and aliases indexed · ${lists.remembered_parties} parties remembered from transfers · threshold ${lists.threshold}`),
    section('Screen a name', form, results),
    section('Lists', listTable(lists)),
    section('Screening alerts', h('p', {}, h('a', { href: '#/alerts?module=screening', id: 'screening-alerts' }, 'List updates that matched remembered parties'))));
}

/// The sanctions matches of an alert, each with what resolved it or a way to resolve it as a
/// false positive for that party.
function sanctionsMatches(alert, onResolved) {
  const matches = (alert.details && alert.details.metadata && alert.details.metadata.matches) || [];
  if (alert.rule !== 'SanctionsMatchRule' || matches.length === 0) return null;
  const resolved = alert.resolved_matches || [];
  return h('div', { class: 'sanctions-matches' }, matches.map((found) => {
    const done = resolved.find((r) => r.party_id === found.party_id && r.list === found.list && r.entry_id === found.entry_id);
    const status = h('div');
    let action;
    if (done) {
      action = h('p', { class: 'resolved' }, `Resolved as a false positive by ${done.resolved_by} (${time(done.resolved_at)} UTC)${done.note ? `: ${done.note}` : ''}`);
    } else {
      const note = h('input', { name: 'note', placeholder: 'Why it is not this party', size: 40 });
      const button = h('button', { type: 'button', class: 'resolve-match' }, 'Resolve as false positive');
      button.addEventListener('click', async () => {
        try {
          await api('/api/screening/suppressions/', {
            method: 'POST',
            body: { alert_id: alert.id, party_id: found.party_id, list: found.list, entry_id: found.entry_id, note: note.value.trim() },
          });
          onResolved();
        } catch (error) {
          showFailure(status, error);
        }
      });
      action = h('div', { class: 'actions' }, note, button);
    }
    return h('div', { class: 'sanctions-match', 'data-entry': found.entry_id },
      h('p', {}, h('strong', {}, `${found.role}${found.screened_name ? ` “${found.screened_name}”` : ''}`),
        ` matches ${found.list} entry ${found.entry_id} “${found.name}” at ${found.score.toFixed(3)}`),
      action, status);
  }));
}
