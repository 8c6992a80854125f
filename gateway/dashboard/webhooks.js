// The Webhooks page (admins): the subscriptions, a form to add one (its secret shown once), and
// each subscription's delivery log with a way to send a delivery again. Uses app.js's helpers
// (h, api, section, badge, time, ...), which are defined by the time a page is drawn.
'use strict';

const WEBHOOK_EVENT_TYPES = ['decision.flagged', 'case.opened', 'case.updated', 'case.closed',
  'screening.match', 'ruleset.published', 'model.trained'];

/// One subscription's delivery log, newest first, each with a resend button.
async function deliveryLog(subscription, place) {
  const page = await api(`/api/webhooks/${subscription.id}/deliveries/`);
  const status = h('div');
  if (page.results.length === 0) {
    place.replaceChildren(h('p', { class: 'muted' }, 'Nothing delivered yet.'));
    return;
  }
  place.replaceChildren(status, h('table', { class: 'deliveries', 'data-subscription': subscription.id },
    h('thead', {}, h('tr', {}, ['Event', 'Message id', 'Status', 'Attempts', 'Last answer', 'Created (UTC)', 'Next attempt', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, page.results.map((delivery) => {
      const resend = h('button', { type: 'button', class: 'resend' }, 'Send again');
      resend.addEventListener('click', async () => {
        resend.disabled = true;
        try {
          await api(`/api/webhooks/${subscription.id}/deliveries/${delivery.id}/resend/`, { method: 'POST', body: {} });
          await deliveryLog(subscription, place);
        } catch (error) {
          showFailure(status, error);
          resend.disabled = false;
        }
      });
      return h('tr', { 'data-delivery': delivery.id, 'data-status': delivery.status },
        h('td', {}, delivery.event_type),
        h('td', {}, h('code', {}, delivery.message_id)),
        h('td', {}, badge('delivery', delivery.status)),
        h('td', { class: 'number' }, delivery.attempts),
        h('td', {}, [delivery.last_status_code, delivery.last_error].filter((part) => part !== null).join(' · ') || '—'),
        h('td', {}, time(delivery.created_at)),
        h('td', {}, delivery.next_attempt_at ? time(delivery.next_attempt_at) : '—'),
        h('td', {}, resend));
    }))),
  h('p', { class: 'muted' }, `${page.count} deliveries in all.`));
}

function subscriptionCard(subscription, redraw) {
  const log = h('div', { class: 'delivery-log' });
  const status = h('div');
  const toggle = h('button', { type: 'button', class: 'toggle' }, subscription.active ? 'Disable' : 'Enable');
  toggle.addEventListener('click', async () => {
    try {
      await api(`/api/webhooks/${subscription.id}/`, { method: 'PATCH', body: { active: !subscription.active } });
      await redraw();
    } catch (error) {
      showFailure(status, error);
    }
  });
  const remove = h('button', { type: 'button', class: 'remove' }, 'Remove');
  remove.addEventListener('click', async () => {
    try {
      await api(`/api/webhooks/${subscription.id}/`, { method: 'DELETE' });
      await redraw();
    } catch (error) {
      showFailure(status, error);
    }
  });
  const show = h('button', { type: 'button', class: 'show-log' }, 'Delivery log');
  show.addEventListener('click', () => deliveryLog(subscription, log).catch((error) => showFailure(status, error)));
  return h('div', { class: 'panel subscription', 'data-subscription': subscription.id },
    h('p', {}, h('strong', {}, subscription.url), ' ', badge('subscription', subscription.active ? 'active' : 'disabled')),
    h('p', { class: 'muted' }, `${subscription.event_types.join(', ')} · made by ${subscription.created_by} ${time(subscription.created_at)} UTC`
      + (subscription.description ? ` · ${subscription.description}` : '')),
    subscription.disabled_reason ? message(subscription.disabled_reason, 'info') : null,
    h('div', { class: 'actions' }, show, toggle, remove),
    status, log);
}

async function webhooksPage() {
  if (session.role !== 'admin') return message('Webhooks are managed by admins.', 'info');
  const list = h('div', { id: 'subscriptions' });
  const created = h('div', { id: 'webhook-created' });
  const redraw = async () => {
    const subscriptions = await api('/api/webhooks/');
    list.replaceChildren(...(subscriptions.length === 0
      ? [h('p', { class: 'muted' }, 'No subscription yet.')]
      : subscriptions.map((subscription) => subscriptionCard(subscription, redraw))));
  };
  const form = h('form', { class: 'filters', id: 'webhook-form' },
    h('input', { name: 'url', placeholder: 'https://hooks.example.com/redflag', required: true, size: 40 }),
    h('input', { name: 'description', placeholder: 'What receives it', size: 24 }),
    ...WEBHOOK_EVENT_TYPES.map((type) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'event_types', value: type, checked: type === 'decision.flagged' }), type)),
    h('button', { type: 'submit' }, 'Subscribe'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      url: form.elements.url.value.trim(),
      description: form.elements.description.value.trim(),
      event_types: [...form.querySelectorAll('input[name=event_types]:checked')].map((box) => box.value),
    };
    try {
      const subscription = await api('/api/webhooks/', { method: 'POST', body });
      created.replaceChildren(message(`Subscribed. Its signing secret, shown only now: ${subscription.secret}`, 'info'));
      created.dataset.secret = subscription.secret;
      form.reset();
      await redraw();
    } catch (error) {
      showFailure(created, error);
    }
  });
  await redraw();
  return h('div', {},
    h('h1', {}, 'Webhooks'),
    h('p', { class: 'muted' }, 'Signed Standard Webhooks messages, delivered at least once from the audit log and retried for about three days.'),
    section('Subscribe', form, created),
    section('Subscriptions', list));
}
