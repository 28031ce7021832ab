// Webhooks, for admins: the receivers Quire tells of events (add one, its secret shown once with a copy button; ping,
// delete), and each one's delivery log with redelivery. Everything through /api/webhooks; URLs and descriptions are
// drawn as text, never HTML. An open delivery log refreshes itself every few seconds while the page is visible.
import { ago, api, at, cell, copyField, el, keepTimesFresh, say } from './common.js';

const $ = (id) => document.getElementById(id);
const path = (id) => encodeURIComponent(id);
const REFRESH_MS = 4000;

let hooks = [];
/** The webhook whose delivery log is open (one at a time), and its lines. */
let open = null;

const STATE = {
  delivered: ['Delivered', 'state on'],
  pending: ['Retrying', 'state warn'],
  failed: ['Failed', 'state off'],
};

const hostOf = (url) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/** Asks before deleting; resolves true when confirmed. */
function confirmDelete(hook) {
  const dialog = $('hook-confirm');
  $('hook-confirm-title').textContent = `Delete the webhook to ${hostOf(hook.url)}?`;
  $('hook-confirm-text').textContent =
    'Quire stops telling it of events at once, and deliveries still waiting are not sent. Its delivery log goes too.';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }),
  );
}

/** What the last attempt got, in words. */
function answerOf(d) {
  if (d.state === 'pending' && d.attempts === 0) return 'Waiting to be sent';
  if (d.state === 'delivered') return `HTTP ${d.lastStatus}`;
  return d.lastError ?? (d.lastStatus ? `HTTP ${d.lastStatus}` : '—');
}

function deliveryRow(hook, d) {
  const [stateText, stateClass] =
    d.state === 'pending' && d.attempts === 0 ? ['Queued', 'state plain'] : STATE[d.state];
  const redeliver = el('button', {
    type: 'button',
    class: 'secondary small',
    text: 'Redeliver',
    'aria-label': `Redeliver the ${d.type} delivery`,
    onclick: async () => {
      redeliver.disabled = true;
      try {
        await api('POST', at(`/api/webhooks/${path(hook.id)}/deliveries/${path(d.id)}/redeliver`));
        say(`Queued the ${d.type} delivery again; it keeps its id, so the receiver can tell it already has it.`);
        await loadDeliveries(hook);
      } catch (err) {
        redeliver.disabled = false;
        say(`Could not redeliver: ${err.message}.`, true);
      }
    },
  });
  return el(
    'tr',
    { 'data-delivery': d.id, 'data-state': d.state },
    cell('Event', el('code', { text: d.type })),
    cell('Status', el('span', { class: `badge ${stateClass}`, text: stateText })),
    cell('Attempts', String(d.attempts)),
    cell('Last answer', el('span', { class: 'answer', text: answerOf(d) })),
    cell('When', ago(d.createdAt)),
    cell('Next attempt', d.nextAttemptAt ? ago(d.nextAttemptAt) : '—'),
    cell('', d.state === 'pending' && d.attempts === 0 ? null : redeliver),
  );
}

function deliveryLog(hook, deliveries) {
  if (deliveries.length === 0) {
    return el('p', { class: 'hint log-empty', text: 'Nothing sent yet. Send a test ping to check the receiver.' });
  }
  return el(
    'table',
    { class: 'delivery-log' },
    el('caption', { class: 'visually-hidden', text: `Deliveries to ${hook.url}, newest first` }),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Event', 'Status', 'Attempts', 'Last answer', 'When', 'Next attempt'].map((h) =>
          el('th', { scope: 'col', text: h }),
        ),
        el('th', { scope: 'col' }, el('span', { class: 'visually-hidden', text: 'Actions' })),
      ),
    ),
    el('tbody', {}, ...deliveries.map((d) => deliveryRow(hook, d))),
  );
}

async function loadDeliveries(hook) {
  const holder = document.querySelector(`[data-hook="${CSS.escape(hook.id)}"] .deliveries`);
  if (!holder) return;
  try {
    const deliveries = await api('GET', at(`/api/webhooks/${path(hook.id)}/deliveries?limit=50`));
    holder.replaceChildren(deliveryLog(hook, deliveries));
  } catch (err) {
    holder.replaceChildren(el('p', { class: 'field-error', text: `Could not load the deliveries: ${err.message}.` }));
  }
}

function hookItem(hook) {
  const isOpen = open === hook.id;
  const toggle = el('button', {
    type: 'button',
    class: 'secondary small',
    text: isOpen ? 'Hide deliveries' : 'Deliveries',
    'aria-expanded': String(isOpen),
    'aria-controls': `deliveries-${hook.id}`,
    onclick: async () => {
      open = open === hook.id ? null : hook.id;
      render();
      if (open) await loadDeliveries(hook);
    },
  });
  const ping = el('button', {
    type: 'button',
    class: 'secondary small',
    text: 'Send test ping',
    'aria-label': `Send a test ping to ${hook.url}`,
    onclick: async () => {
      ping.disabled = true;
      try {
        await api('POST', at(`/api/webhooks/${path(hook.id)}/ping`));
        say(`Sent a ping to ${hostOf(hook.url)}: its result shows in the delivery log in a moment.`);
        open = hook.id;
        render();
        await loadDeliveries(hook);
        setTimeout(() => loadDeliveries(hook), 1500);
      } catch (err) {
        say(`Could not ping: ${err.message}.`, true);
      } finally {
        ping.disabled = false;
      }
    },
  });
  const remove = el('button', {
    type: 'button',
    class: 'danger outline small',
    text: 'Delete',
    'aria-label': `Delete the webhook to ${hook.url}`,
    onclick: async () => {
      if (!(await confirmDelete(hook))) return;
      remove.disabled = true;
      try {
        await api('DELETE', at(`/api/webhooks/${path(hook.id)}`));
        if (open === hook.id) open = null;
        await load();
        say(`Deleted the webhook to ${hostOf(hook.url)}.`);
        $('hook-list').focus();
      } catch (err) {
        remove.disabled = false;
        say(`Could not delete it: ${err.message}.`, true);
      }
    },
  });
  const events = hook.events
    ? hook.events.map((t) => el('code', { class: 'scope', text: t }))
    : [el('span', { class: 'scope-all', text: 'Every event' })];
  return el(
    'li',
    { class: 'person webhook', 'data-hook': hook.id },
    el('span', { class: 'avatar key-mark', 'aria-hidden': 'true', text: '↗' }),
    el(
      'div',
      { class: 'person-who' },
      el('p', { class: 'person-name hook-url' }, el('strong', { text: hook.url })),
      hook.description ? el('p', { class: 'person-sub', text: hook.description }) : null,
      el('p', { class: 'key-scopes', 'aria-label': 'Events' }, ...events),
      el('p', { class: 'person-sub' }, 'Added ', ago(hook.createdAt)),
    ),
    el('div', { class: 'person-actions' }, toggle, ping, remove),
    isOpen
      ? el('div', { class: 'deliveries', id: `deliveries-${hook.id}` }, el('p', { class: 'loading', text: 'Loading…' }))
      : null,
  );
}

function render() {
  const list = $('hook-list');
  list.replaceChildren(...hooks.map(hookItem));
  list.hidden = hooks.length === 0;
  $('hooks-empty').hidden = hooks.length > 0;
  $('hooks-loading').hidden = true;
  const count = $('hooks-count');
  count.textContent = String(hooks.length);
  count.hidden = hooks.length === 0;
}

async function load() {
  try {
    hooks = await api('GET', at('/api/webhooks'));
    if (open && !hooks.some((h) => h.id === open)) open = null;
    render();
    const shown = hooks.find((h) => h.id === open);
    if (shown) await loadDeliveries(shown);
    document.body.dataset.ready = 'true';
  } catch (err) {
    $('hooks-loading').hidden = true;
    say(`Could not load the webhooks: ${err.message}.`, true);
  }
}

/** The new webhook's secret, shown once: the form makes way for it until the admin says they stored it. */
function reveal(created) {
  $('hook-secret').value = created.secret;
  $('hook-new').hidden = true;
  const panel = $('hook-reveal');
  panel.hidden = false;
  panel.focus();
}

$('hook-copy').addEventListener('click', () => copyField($('hook-secret'), $('hook-copy'), 'the secret'));

$('hook-done').addEventListener('click', () => {
  $('hook-secret').value = '';
  $('hook-reveal').hidden = true;
  $('hook-new').hidden = false;
  $('hook-new').open = false;
  say('The secret is no longer shown. If it is lost, delete the webhook and add it again.');
  $('hook-new-title').focus();
});

$('hook-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const error = $('hook-error');
  const urlInput = $('hook-url');
  const url = urlInput.value.trim();
  const events = [...document.querySelectorAll('input[name="events"]:checked')].map((c) => c.value);
  urlInput.removeAttribute('aria-invalid');
  if (!/^https?:\/\/\S+$/i.test(url)) {
    error.textContent = 'Give the http or https URL of the receiving app, e.g. https://app.example.com/quire-events.';
    urlInput.setAttribute('aria-invalid', 'true');
    urlInput.focus();
    return;
  }
  error.textContent = '';
  const button = $('hook-create');
  button.disabled = true;
  const description = $('hook-description').value.trim();
  api('POST', at('/api/webhooks'), {
    url,
    ...(events.length > 0 && { events }),
    ...(description && { description }),
  })
    .then(async (created) => {
      $('hook-form').reset();
      await load();
      reveal(created);
      say(`Added the webhook to ${hostOf(created.url)}. Copy its signing secret now: it is shown only this once.`);
    })
    .catch((err) => {
      error.textContent = `Could not add the webhook: ${err.message}.`;
      urlInput.setAttribute('aria-invalid', 'true');
      urlInput.focus();
    })
    .finally(() => {
      button.disabled = false;
    });
});

// live enough: the open delivery log is read again every few seconds while the page is in view
setInterval(() => {
  const shown = hooks.find((h) => h.id === open);
  if (shown && document.visibilityState === 'visible') loadDeliveries(shown);
}, REFRESH_MS);

$('hook-list').tabIndex = -1;
keepTimesFresh();
load();
