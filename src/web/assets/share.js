// The share dialog: who has a document (its owner, the people and groups it is shared with), sharing it with more
// people or groups, and its links. Its owner and admins change things; everyone else sees who has access, read-only.
// Everything is drawn as text (names are never HTML) and done through the JSON API.
import { api, el, formatTime, hueOf, initials } from './common.js';

const ROLES = [
  ['viewer', 'Viewer'],
  ['commenter', 'Commenter'],
  ['editor', 'Editor'],
];
const ROLE_LABEL = { viewer: 'Viewer', commenter: 'Commenter', editor: 'Editor', owner: 'Owner' };
const DEFAULT_WATERMARK = '{name} · {date}';
const MIN_PASSWORD = 4;

const $ = (id) => document.getElementById(id);
const dialog = $('share-dialog');
const statusLine = $('share-status');

/** The document shown, what the API last said about it, and who one can share with. */
let file = null;
let access = null;
let people = { users: [], groups: [] };
let opener = null;
let changed = false;
let onClosed = () => {};
/** The link just created: drawn highlighted, its Copy button focused. */
let freshLink = null;

const path = (id) => encodeURIComponent(id);

function status(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', isError);
  statusLine.setAttribute('role', isError ? 'alert' : 'status');
}

/** A role picker; `label` names it for screen readers (a row's role, a new share's role …). */
function rolePicker(current, label, onchange) {
  return el(
    'select',
    { class: 'role-picker', 'aria-label': label, onchange },
    ...ROLES.map(([value, text]) => el('option', { value, selected: value === current, text })),
  );
}

const badge = (text, kind, title) => el('span', { class: `badge ${kind}`, text, title });

function avatarOf(kind, id, name) {
  if (kind === 'group') return el('span', { class: 'avatar team', 'aria-hidden': 'true', text: initials(name) });
  return el('span', { class: `avatar ${hueOf(id)}`, 'aria-hidden': 'true', text: initials(name) });
}

/** Runs a change, then reloads what the dialog shows and reports it (or the API's error). */
async function act(button, work) {
  // the list is drawn afresh: the focus goes back to the same control (by its name), or to the form when it went
  const label = button?.getAttribute('aria-label');
  if (button) button.disabled = true;
  try {
    const note = await work();
    changed = true;
    await load();
    if (note) status(note);
  } catch (err) {
    status(err.message ? `${err.message[0].toUpperCase()}${err.message.slice(1)}.` : 'That did not work.', true);
    await load().catch(() => {});
  } finally {
    if (button?.isConnected) button.disabled = false;
    if (label && !button?.isConnected) {
      const again = dialog.querySelector(`[aria-label="${CSS.escape(label)}"]`);
      (again ?? (access?.you.manages ? $('share-who') : dialog.querySelector('[data-close]')))?.focus();
    }
  }
}

// ---- who has access ----

function ownerItem() {
  return el(
    'li',
    { class: 'share-item', 'data-principal': `user:${access.owner.id}` },
    avatarOf('user', access.owner.id, access.owner.name),
    el(
      'div',
      { class: 'share-who' },
      el('span', { class: 'share-name', text: access.owner.name }),
      el('span', { class: 'share-kind', text: 'Owns the document' }),
    ),
    el('div', { class: 'share-controls' }, badge('Owner', 'role role-owner')),
  );
}

function shareItem(share) {
  const { kind, id, name } = share.principal;
  const manages = access.you.manages;
  const secure = share.secureView
    ? badge(
        'Secure view',
        'secure',
        share.secureView.watermark ? `Watermark: ${share.secureView.watermark}` : undefined,
      )
    : null;
  const controls = manages
    ? [
        rolePicker(share.role, `Role of ${name}`, (e) =>
          act(e.target, async () => {
            await api('PUT', `/api/files/${path(file.id)}/shares`, {
              [kind]: id,
              role: e.target.value,
              secureView: share.secureView ?? false,
            });
            return `${name} is now ${article(e.target.value)} ${e.target.value}.`;
          }),
        ),
        el('button', {
          type: 'button',
          class: 'icon-button remove',
          text: '×',
          title: `Remove ${name}`,
          'aria-label': `Remove ${name}`,
          onclick: (e) =>
            act(e.currentTarget, async () => {
              await api('DELETE', `/api/files/${path(file.id)}/shares/${kind}/${path(id)}`);
              return `${name} no longer has access.`;
            }),
        }),
      ]
    : [badge(ROLE_LABEL[share.role], `role role-${share.role}`)];
  return el(
    'li',
    { class: 'share-item', 'data-principal': `${kind}:${id}`, 'data-name': name },
    avatarOf(kind, id, name),
    el(
      'div',
      { class: 'share-who' },
      el('span', { class: 'share-name', text: name }),
      el('span', { class: 'share-kind' }, kind === 'group' ? 'Group' : 'Person', secure ? ' · ' : null, secure),
    ),
    el('div', { class: 'share-controls' }, ...controls),
  );
}

const article = (role) => (role === 'editor' ? 'an' : 'a');

function describeYou() {
  const you = access.you;
  const line = $('share-you');
  if (you.manages) {
    line.hidden = true;
    return;
  }
  const how =
    you.via === 'group'
      ? 'through a group you are in'
      : you.via === 'link'
        ? 'through a link'
        : 'because it was shared with you';
  line.replaceChildren(
    'You are ',
    article(you.role),
    ' ',
    el('strong', { text: ROLE_LABEL[you.role].toLowerCase() }),
    ` ${how}.`,
    you.secureView ? ' It is shared for secure view: no download, print or copy.' : '',
    ' Only the owner can change who has access.',
  );
  line.hidden = false;
}

// ---- links ----

function linkState(link) {
  if (link.disabled) return ['Disabled', 'off'];
  if (link.expiresAt && Date.parse(link.expiresAt) <= Date.now()) return ['Expired', 'off'];
  return ['Active', 'on'];
}

function linkItem(link, index) {
  const url = new URL(link.url, location.origin).href;
  const label = `link ${index + 1}`;
  const [state, stateKind] = linkState(link);
  const field = el('input', {
    class: 'link-url',
    type: 'text',
    readonly: true,
    value: url,
    'aria-label': `Address of ${label}`,
    spellcheck: 'false',
    onfocus: (e) => e.target.select(),
  });
  const copy = el('button', {
    type: 'button',
    class: 'secondary copy',
    text: 'Copy link',
    'aria-label': `Copy ${label}`,
    onclick: () => copyLink(field, copy),
  });
  const facts = [
    badge(state, `state ${stateKind}`),
    link.hasPassword ? badge('Password', 'plain') : null,
    link.expiresAt
      ? badge(`${stateKind === 'off' && state === 'Expired' ? 'Expired' : 'Until'} ${day(link.expiresAt)}`, 'plain')
      : null,
    link.secureView
      ? badge(
          'Secure view',
          'secure',
          link.secureView.watermark ? `Watermark: ${link.secureView.watermark}` : undefined,
        )
      : null,
  ];
  return el(
    'li',
    {
      class: `link-item${link.disabled ? ' disabled' : ''}${freshLink === link.id ? ' fresh' : ''}`,
      'data-link': link.id,
    },
    el(
      'div',
      { class: 'link-top' },
      el('span', { class: 'link-title' }, el('strong', { text: `Link ${index + 1}` }), ' ', ...facts),
      rolePicker(link.role, `Role of ${label}`, (e) =>
        act(e.target, async () => {
          await api('PATCH', `/api/files/${path(file.id)}/links/${path(link.id)}`, { role: e.target.value });
          return `Anyone with ${label} is now ${article(e.target.value)} ${e.target.value}.`;
        }),
      ),
    ),
    el(
      'div',
      { class: 'link-copy' },
      field,
      copy,
      el('button', {
        type: 'button',
        class: link.disabled ? 'secondary' : 'danger outline',
        text: link.disabled ? 'Enable' : 'Disable',
        'aria-label': `${link.disabled ? 'Enable' : 'Disable'} ${label}`,
        onclick: (e) =>
          act(e.currentTarget, async () => {
            await api('PATCH', `/api/files/${path(file.id)}/links/${path(link.id)}`, { disabled: !link.disabled });
            return link.disabled ? `${cap(label)} works again.` : `${cap(label)} is disabled: it no longer opens.`;
          }),
      }),
    ),
    el('p', { class: 'link-made hint', text: `Created ${formatTime(link.createdAt)}` }),
  );
}

const cap = (s) => s[0].toUpperCase() + s.slice(1);
const day = (iso) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });

async function copyLink(field, button) {
  try {
    if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
    await navigator.clipboard.writeText(field.value);
    status('Link copied to the clipboard.');
    button.textContent = 'Copied';
    setTimeout(() => {
      if (button.isConnected) button.textContent = 'Copy link';
    }, 2000);
  } catch {
    // no clipboard (an insecure page, or the browser said no): the address is selected for copying by hand
    field.focus();
    field.select();
    status('The browser did not allow copying: the link is selected, press Ctrl+C (⌘C on a Mac) to copy it.');
  }
}

// ---- drawing ----

function fillWho() {
  const select = $('share-who');
  const keep = select.value;
  const taken = new Set(access.shares.map((s) => `${s.principal.kind}:${s.principal.id}`));
  const users = people.users.filter((u) => u.id !== access.owner.id);
  const option = (value, text) =>
    el('option', { value, text: taken.has(value) ? `${text} (has access)` : text, selected: value === keep });
  select.replaceChildren(
    el('option', { value: '', text: users.length || people.groups.length ? 'Choose…' : 'No one to share with yet' }),
    users.length
      ? el(
          'optgroup',
          { label: 'People' },
          ...users.map((u) =>
            option(`user:${u.id}`, u.displayName && u.displayName !== u.name ? `${u.displayName} (${u.name})` : u.name),
          ),
        )
      : null,
    people.groups.length
      ? el('optgroup', { label: 'Groups' }, ...people.groups.map((g) => option(`group:${g.id}`, g.name)))
      : null,
  );
}

function render() {
  const manages = access.you.manages;
  $('share-title').textContent = manages ? `Share ${file.name}` : `Who has access to ${file.name}`;
  $('share-sub').textContent = manages
    ? 'People and groups you add can open it with their role; so can anyone with an active link.'
    : 'The people and groups this document is shared with.';
  $('share-add-section').hidden = !manages;
  $('share-links-section').hidden = !manages;
  describeYou();
  const list = $('share-list');
  const shares = [...access.shares].sort(
    (a, b) =>
      (a.principal.kind === b.principal.kind ? 0 : a.principal.kind === 'user' ? -1 : 1) ||
      a.principal.name.localeCompare(b.principal.name),
  );
  list.replaceChildren(
    ownerItem(),
    ...shares.map(shareItem),
    ...(shares.length ? [] : [el('li', { class: 'share-none muted', text: 'Not shared with anyone else yet.' })]),
  );
  if (manages) {
    fillWho();
    const links = access.links ?? [];
    $('share-links').replaceChildren(
      ...(links.length
        ? links.map(linkItem)
        : [
            el('li', {
              class: 'share-none muted',
              text: 'No links yet. Create one to share with people outside Quire.',
            }),
          ]),
    );
  }
  dialog.dataset.ready = 'true';
}

async function load() {
  const [a, p] = await Promise.all([
    api('GET', `/api/files/${path(file.id)}/access`),
    people.loaded ? people : api('GET', '/api/people'),
  ]);
  access = a;
  people = { ...p, loaded: true };
  render();
}

// ---- the forms ----

const secureValue = (checkbox, input) =>
  checkbox.checked ? { watermark: input.value.trim() || DEFAULT_WATERMARK } : false;

function wireWatermark(checkbox, field) {
  checkbox.addEventListener('change', () => {
    field.hidden = !checkbox.checked;
  });
}

$('share-add').addEventListener('submit', (e) => {
  e.preventDefault();
  const who = $('share-who');
  if (!who.value) {
    status('Choose a person or a group to share with.', true);
    who.focus();
    return;
  }
  const [kind, id] = [who.value.slice(0, who.value.indexOf(':')), who.value.slice(who.value.indexOf(':') + 1)];
  const name = who.selectedOptions[0].textContent.replace(/ \(has access\)$/, '');
  const role = $('share-role').value;
  act($('share-add-button'), async () => {
    await api('PUT', `/api/files/${path(file.id)}/shares`, {
      [kind]: id,
      role,
      secureView: secureValue($('share-secure'), $('share-watermark')),
    });
    who.value = '';
    $('share-secure').checked = false;
    $('share-watermark-field').hidden = true;
    $('share-watermark').value = DEFAULT_WATERMARK;
    return `Shared with ${name} as ${article(role)} ${role}.`;
  });
});

$('share-link-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const role = $('link-role').value;
  const password = $('link-password').value;
  const expires = $('link-expires').value;
  if (password && password.length < MIN_PASSWORD) {
    status(`A link's password needs at least ${MIN_PASSWORD} characters.`, true);
    $('link-password').focus();
    return;
  }
  let expiresAt;
  if (expires) {
    // the end of that day, where the person sharing is
    const end = new Date(`${expires}T23:59:59`);
    if (Number.isNaN(end.getTime()) || end.getTime() <= Date.now()) {
      status('Choose an expiry date from today on.', true);
      $('link-expires').focus();
      return;
    }
    expiresAt = end.toISOString();
  }
  act($('link-create'), async () => {
    const link = await api('POST', `/api/files/${path(file.id)}/links`, {
      role,
      ...(expiresAt && { expiresAt }),
      ...(password && { password }),
      secureView: secureValue($('link-secure'), $('link-watermark')),
    });
    freshLink = link.id;
    $('share-link-form').reset();
    $('link-watermark-field').hidden = true;
    $('share-link-new').open = false;
    return `Link created${password ? ', with a password' : ''}. Copy it and send it to whoever should have it${
      password ? ' (and the password, separately)' : ''
    }.`;
  }).then(() => {
    dialog.querySelector(`li[data-link="${CSS.escape(freshLink ?? '')}"] .copy`)?.focus();
  });
});

wireWatermark($('share-secure'), $('share-watermark-field'));
wireWatermark($('link-secure'), $('link-watermark-field'));

for (const close of dialog.querySelectorAll('[data-close]')) close.addEventListener('click', () => dialog.close());

dialog.addEventListener('close', () => {
  if (opener?.isConnected) opener.focus();
  const done = onClosed;
  const didChange = changed;
  file = null;
  onClosed = () => {};
  if (didChange) done();
});

/**
 * Opens the dialog for `doc` ({id, name}); `from` gets the focus back when it closes, and `afterChange` runs then
 * if anything was changed (the page redraws what it shows).
 */
export async function openShareDialog(doc, from, afterChange = () => {}) {
  file = doc;
  opener = from;
  changed = false;
  freshLink = null;
  onClosed = afterChange;
  access = null;
  people = { users: [], groups: [] };
  delete dialog.dataset.ready;
  status('');
  $('share-title').textContent = `Share ${doc.name}`;
  $('share-sub').textContent = '';
  $('share-list').replaceChildren(el('li', { class: 'muted', text: 'Loading…' }));
  $('share-links').replaceChildren();
  $('share-add-section').hidden = true;
  $('share-links-section').hidden = true;
  $('share-you').hidden = true;
  $('share-add').reset();
  $('share-link-form').reset();
  $('share-watermark-field').hidden = true;
  $('link-watermark-field').hidden = true;
  $('share-link-new').open = false;
  dialog.showModal();
  try {
    await load();
    if (access.you.manages && document.activeElement?.closest('.share-head')) $('share-who').focus();
  } catch (err) {
    status(`Could not load who has access: ${err.message}.`, true);
  }
}
