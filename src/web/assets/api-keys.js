// API keys, for admins: the keys other apps use Quire with (create one, shown once with a copy button; revoke).
// Everything through /api/admin/api-keys; names are drawn as text, never HTML.
import { ago, api, at, copyField, el, formatTime, initials, keepTimesFresh, say } from './common.js';

const $ = (id) => document.getElementById(id);
const path = (id) => encodeURIComponent(id);
const DAY_MS = 86_400_000;

let keys = [];

const STATUS = {
  active: ['Active', 'state on'],
  revoked: ['Revoked', 'state off'],
  expired: ['Expired', 'state off'],
};

/** Asks before revoking; resolves true when confirmed. */
function confirmRevoke(key) {
  const dialog = $('key-confirm');
  $('key-confirm-title').textContent = `Revoke the key ${key.name}?`;
  $('key-confirm-text').textContent =
    `The app using it loses access within a second, and so does every editor it opened for its users. This cannot be undone: make a new key if the app needs one again.`;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }),
  );
}

function keyItem(k) {
  const [statusText, statusClass] = STATUS[k.status] ?? [k.status, 'plain'];
  const revoke =
    k.status === 'active'
      ? el('button', {
          type: 'button',
          class: 'danger outline small',
          text: 'Revoke',
          'aria-label': `Revoke the key ${k.name}`,
          onclick: async () => {
            if (!(await confirmRevoke(k))) return;
            revoke.disabled = true;
            try {
              await api('POST', at(`/api/admin/api-keys/${path(k.id)}/revoke`));
              await load();
              say(`Revoked the key ${k.name}. Its app can no longer use Quire.`);
              $('key-list').focus();
            } catch (err) {
              revoke.disabled = false;
              say(`Could not revoke ${k.name}: ${err.message}.`, true);
            }
          },
        })
      : null;
  const used = k.lastUsedAt ? ['Last used ', ago(k.lastUsedAt)] : ['Never used'];
  const expiry =
    k.status === 'revoked'
      ? [' · Revoked ', ago(k.revokedAt)]
      : k.expiresAt
        ? [
            k.status === 'expired' ? ' · Expired ' : ' · Expires ',
            el('time', { datetime: k.expiresAt, text: formatTime(k.expiresAt) }),
          ]
        : [' · Never expires'];
  return el(
    'li',
    { class: `person api-key${k.status === 'active' ? '' : ' disabled'}`, 'data-key': k.id },
    el('span', { class: 'avatar key-mark', 'aria-hidden': 'true', text: initials(k.name) }),
    el(
      'div',
      { class: 'person-who' },
      el(
        'p',
        { class: 'person-name' },
        el('strong', { text: k.name }),
        el('span', { class: `badge ${statusClass}`, text: statusText }),
      ),
      el(
        'p',
        { class: 'key-scopes', 'aria-label': 'Scopes' },
        ...k.scopes.map((s) => el('code', { class: 'scope', text: s })),
      ),
      el(
        'p',
        { class: 'person-sub' },
        el('span', { class: 'login', text: `${k.prefix}…` }),
        ` · Created `,
        ago(k.createdAt),
        ` by ${k.createdBy.name}`,
      ),
      el('p', { class: 'person-sub' }, ...used, ...expiry),
    ),
    el('div', { class: 'person-actions' }, revoke),
  );
}

function render() {
  const list = $('key-list');
  list.replaceChildren(...keys.map(keyItem));
  list.hidden = keys.length === 0;
  $('keys-empty').hidden = keys.length > 0;
  $('keys-loading').hidden = true;
  const active = keys.filter((k) => k.status === 'active').length;
  const count = $('keys-count');
  count.textContent = keys.length === active ? String(active) : `${active} active · ${keys.length - active} ended`;
  count.hidden = keys.length === 0;
}

async function load() {
  try {
    keys = await api('GET', at('/api/admin/api-keys'));
    render();
    document.body.dataset.ready = 'true';
  } catch (err) {
    $('keys-loading').hidden = true;
    say(`Could not load the API keys: ${err.message}.`, true);
  }
}

/** The new key, shown once: the form makes way for it until the admin says they stored it. */
function reveal(created) {
  $('key-value').value = created.key;
  $('key-new').hidden = true;
  const panel = $('key-reveal');
  panel.hidden = false;
  panel.focus();
}

$('key-copy').addEventListener('click', () => copyField($('key-value'), $('key-copy'), 'the key'));

$('key-done').addEventListener('click', () => {
  $('key-value').value = '';
  $('key-reveal').hidden = true;
  $('key-new').hidden = false;
  $('key-new').open = false;
  say('The key is no longer shown. If it is lost, revoke it and create another.');
  $('key-new-title').focus();
});

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const error = $('key-error');
  const nameInput = $('key-name');
  const name = nameInput.value.trim();
  const scopes = [...document.querySelectorAll('input[name="scopes"]:checked')].map((c) => c.value);
  nameInput.removeAttribute('aria-invalid');
  if (!name) {
    error.textContent = 'Give the key a name: which app will use it?';
    nameInput.setAttribute('aria-invalid', 'true');
    nameInput.focus();
    return;
  }
  if (scopes.length === 0) {
    error.textContent = 'Choose at least one scope.';
    document.querySelector('input[name="scopes"]').focus();
    return;
  }
  error.textContent = '';
  const days = Number($('key-expiry').value);
  const button = $('key-create');
  button.disabled = true;
  api('POST', at('/api/admin/api-keys'), {
    name,
    scopes,
    ...(days > 0 && { expiresAt: new Date(Date.now() + days * DAY_MS).toISOString() }),
  })
    .then(async (created) => {
      $('key-form').reset();
      await load();
      reveal(created);
      say(`Created the key ${created.name}. Copy it now: it is shown only this once.`);
    })
    .catch((err) => {
      error.textContent = `Could not create the key: ${err.message}.`;
      nameInput.focus();
    })
    .finally(() => {
      button.disabled = false;
    });
});

$('key-list').tabIndex = -1;
keepTimesFresh();
load();
