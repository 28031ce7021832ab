// The share dialog: who has a document (its owner, the people and groups it is shared with), sharing it with more
// people or groups, and its links. Its owner and admins change things; everyone else sees who has access, read-only.
// Everything is drawn as text (names are never HTML) and done through the JSON API.
import { api, at, copyField, el, formatTime, hueOf, initials } from './common.js';

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
/** The settings panel drawn open (`user:id`, `group:id` or `link:id`): a share's secure view, a link's options. */
let editing = null;
/** Ids for the panels' fields (unique on the page, not meaningful). */
let seq = 0;
const uid = (prefix) => `${prefix}-${++seq}`;

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

const errorText = (err) =>
  err.message ? `${err.message[0].toUpperCase()}${err.message.slice(1)}.` : 'That did not work.';

/**
 * Saves a settings panel: on success the panel closes, the dialog reloads, the status line says what changed and
 * the focus goes back to the control named `focusLabel`; on an error the panel stays as typed, the alert says why.
 * `work` answers null when there was nothing to change.
 */
async function saveChange(submit, focusLabel, work) {
  submit.disabled = true;
  let note;
  try {
    note = await work();
  } catch (err) {
    if (submit.isConnected) submit.disabled = false;
    status(errorText(err), true);
    return;
  }
  editing = null;
  if (note === null) {
    render();
    status('Nothing to change.');
  } else {
    changed = true;
    await load().catch(() => {});
    status(note);
  }
  dialog.querySelector(`[aria-label="${CSS.escape(focusLabel)}"]`)?.focus();
}

/** Opens or closes a settings panel; an opened one gets the focus on its first field. */
function togglePanel(key, toggleLabel) {
  editing = editing === key ? null : key;
  render();
  const toggle = dialog.querySelector(`[aria-label="${CSS.escape(toggleLabel)}"]`);
  if (editing === key) toggle?.closest('li')?.querySelector('.settings-panel input, .settings-panel select')?.focus();
  else toggle?.focus();
}

/** A settings panel: a form under its row; Escape closes it (not the dialog), Cancel too. */
function settingsPanel(key, toggleLabel, title, onsubmit, ...fields) {
  const close = () => togglePanel(key, toggleLabel);
  return el(
    'form',
    {
      class: 'share-form settings-panel',
      id: `panel-${key.replace(/[^\w-]/g, '_')}`,
      'aria-label': title,
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        onsubmit(e.submitter ?? e.target.querySelector('[type=submit]'));
      },
      onkeydown: (e) => {
        if (e.key !== 'Escape') return;
        e.preventDefault();
        e.stopPropagation();
        close();
      },
    },
    ...fields,
    el(
      'div',
      { class: 'form-actions' },
      el('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: close }),
      el('button', { type: 'submit', text: 'Save', 'aria-label': `Save ${title[0].toLowerCase()}${title.slice(1)}` }),
    ),
  );
}

/** The secure-view checkbox and its watermark field, filled from `current` (null: off). */
function secureFields(current, hint) {
  const box = el('input', { type: 'checkbox', id: uid('secure'), checked: current !== null });
  const mark = el('input', {
    id: uid('watermark'),
    value: current === null ? DEFAULT_WATERMARK : current.watermark,
    maxlength: '200',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const markHint = el('span', {
    id: uid('hint'),
    class: 'hint',
    text: '{name}, {user}, {email} and {date} are filled in for each person.',
  });
  mark.setAttribute('aria-describedby', markHint.id);
  const markField = el(
    'div',
    { class: 'field watermark', hidden: current === null },
    el('label', { for: mark.id, text: 'Watermark' }),
    mark,
    markHint,
  );
  box.addEventListener('change', () => {
    markField.hidden = !box.checked;
  });
  const nodes = [
    el(
      'div',
      { class: 'check' },
      box,
      el('label', { for: box.id, text: 'Secure view' }),
      el('span', { class: 'hint', text: hint }),
    ),
    markField,
  ];
  return { nodes, value: () => secureValue(box, mark) };
}

/** What changed between two secure views (null: off), as the status line says it; null when nothing did. */
function secureChange(before, after) {
  if (before === null && after === null) return null;
  if (after === null) return 'secure view off: download, print and copy are allowed again';
  if (before === null) return `secure view on, with the watermark “${after.watermark}”`;
  if (before.watermark !== after.watermark) return `the watermark is now “${after.watermark}”`;
  return null;
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
    status(errorText(err), true);
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
  const key = `${kind}:${id}`;
  const secure = share.secureView
    ? badge(
        'Secure view',
        'secure',
        share.secureView.watermark ? `Watermark: ${share.secureView.watermark}` : undefined,
      )
    : null;
  const toggleLabel = `Secure view for ${name}`;
  const open = manages && editing === key;
  const panelId = `panel-${key.replace(/[^\w-]/g, '_')}`;
  const controls = manages
    ? [
        rolePicker(share.role, `Role of ${name}`, (e) =>
          act(e.target, async () => {
            await api('PUT', at(`/api/files/${path(file.id)}/shares`), {
              [kind]: id,
              role: e.target.value,
              secureView: share.secureView ?? false,
            });
            return `${name} is now ${article(e.target.value)} ${e.target.value}.`;
          }),
        ),
        el('button', {
          type: 'button',
          class: `icon-button secure-toggle${share.secureView ? ' on' : ''}`,
          text: '◈',
          title: share.secureView ? 'Secure view is on: change or turn it off' : 'Secure view is off: turn it on',
          'aria-label': toggleLabel,
          'aria-expanded': String(open),
          'aria-controls': open ? panelId : undefined,
          onclick: () => togglePanel(key, toggleLabel),
        }),
        el('button', {
          type: 'button',
          class: 'icon-button remove',
          text: '×',
          title: `Remove ${name}`,
          'aria-label': `Remove ${name}`,
          onclick: (e) =>
            act(e.currentTarget, async () => {
              await api('DELETE', at(`/api/files/${path(file.id)}/shares/${kind}/${path(id)}`));
              return `${name} no longer has access.`;
            }),
        }),
      ]
    : [badge(ROLE_LABEL[share.role], `role role-${share.role}`)];
  let panel = null;
  if (open) {
    const fields = secureFields(share.secureView, 'No download, print or copy; a watermark on every page.');
    panel = settingsPanel(
      key,
      toggleLabel,
      toggleLabel,
      (submit) =>
        saveChange(submit, toggleLabel, async () => {
          const after = fields.value() || null;
          const what = secureChange(share.secureView, after);
          if (what === null) return null;
          await api('PUT', at(`/api/files/${path(file.id)}/shares`), {
            [kind]: id,
            role: share.role,
            secureView: after ?? false,
          });
          return `${name}: ${what}.`;
        }),
      ...fields.nodes,
    );
  }
  return el(
    'li',
    { class: `share-item${open ? ' editing' : ''}`, 'data-principal': key, 'data-name': name },
    avatarOf(kind, id, name),
    el(
      'div',
      { class: 'share-who' },
      el('span', { class: 'share-name', text: name }),
      el('span', { class: 'share-kind' }, kind === 'group' ? 'Group' : 'Person', secure ? ' · ' : null, secure),
    ),
    el('div', { class: 'share-controls' }, ...controls),
    panel,
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
        : you.via === 'app'
          ? 'by the rules of the app Quire is part of'
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
  if (link.expired || (link.expiresAt && Date.parse(link.expiresAt) <= Date.now())) return ['Expired', 'off'];
  return ['Active', 'on'];
}

/** A date input's value (the day, where the person sharing is) for an ISO time; '' for none. */
function dayValue(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The end of the day a date input names, where the person sharing is, as ISO; null when that is past. */
function endOfDay(value) {
  const end = new Date(`${value}T23:59:59`);
  if (Number.isNaN(end.getTime()) || end.getTime() <= Date.now()) return null;
  return end.toISOString();
}

/** A link's settings: expiry, password, secure view (its role and disabling are on its row). */
function linkPanel(link, label, toggleLabel) {
  const expires = el('input', {
    type: 'date',
    id: uid('expires'),
    value: dayValue(link.expiresAt),
    min: dayValue(new Date().toISOString()),
  });
  const expiresHint = el('span', { id: uid('hint'), class: 'hint', text: 'Empty: it never expires.' });
  expires.setAttribute('aria-describedby', expiresHint.id);
  const choices = link.hasPassword
    ? [
        ['keep', 'Keep the password'],
        ['change', 'Change the password'],
        ['remove', 'Remove the password'],
      ]
    : [
        ['keep', 'No password'],
        ['change', 'Set a password'],
      ];
  const passwordChoice = el(
    'select',
    { id: uid('password-choice') },
    ...choices.map(([value, text]) => el('option', { value, text })),
  );
  const password = el('input', {
    type: 'password',
    id: uid('password'),
    autocomplete: 'new-password',
    minlength: String(MIN_PASSWORD),
  });
  const passwordField = el(
    'div',
    { class: 'field grow', hidden: true },
    el('label', { for: password.id, text: 'New password' }),
    password,
  );
  passwordChoice.addEventListener('change', () => {
    passwordField.hidden = passwordChoice.value !== 'change';
    if (!passwordField.hidden) password.focus();
  });
  const secure = secureFields(link.secureView, "No download, print or copy; a watermark with the guest's name.");
  return settingsPanel(
    `link:${link.id}`,
    toggleLabel,
    `Settings of ${label}`,
    (submit) =>
      saveChange(submit, toggleLabel, async () => {
        const change = {};
        const said = [];
        if (expires.value !== dayValue(link.expiresAt)) {
          if (expires.value === '') {
            change.expiresAt = null;
            said.push('it never expires');
          } else {
            change.expiresAt = endOfDay(expires.value);
            if (change.expiresAt === null) {
              expires.focus();
              throw new Error('choose an expiry date from today on');
            }
            said.push(`it expires at the end of ${day(change.expiresAt)}`);
          }
        }
        if (passwordChoice.value === 'remove') {
          change.password = null;
          said.push('no password: anyone with the address opens it');
        } else if (passwordChoice.value === 'change') {
          if (password.value.length < MIN_PASSWORD) {
            password.focus();
            throw new Error(`a link's password needs at least ${MIN_PASSWORD} characters`);
          }
          change.password = password.value;
          said.push(`${link.hasPassword ? 'the password is changed' : 'it asks for a password'} (send it separately)`);
        }
        const after = secure.value() || null;
        const what = secureChange(link.secureView, after);
        if (what !== null) {
          change.secureView = after ?? false;
          said.push(what);
        }
        if (said.length === 0) return null;
        await api('PATCH', at(`/api/files/${path(file.id)}/links/${path(link.id)}`), change);
        return `${cap(label)}: ${said.join('; ')}.`;
      }),
    el(
      'div',
      { class: 'share-grid' },
      el('div', { class: 'field' }, el('label', { for: expires.id, text: 'Expires' }), expires, expiresHint),
      el('div', { class: 'field' }, el('label', { for: passwordChoice.id, text: 'Password' }), passwordChoice),
      passwordField,
    ),
    ...secure.nodes,
  );
}

function linkItem(link, index) {
  const url = new URL(link.url, location.origin).href;
  const label = `link ${index + 1}`;
  const [state, stateKind] = linkState(link);
  const expired = state === 'Expired';
  const key = `link:${link.id}`;
  const open = editing === key;
  const toggleLabel = `Edit ${label}`;
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
    badge(state, `state ${stateKind}`, expired ? `Expired ${formatTime(link.expiresAt)}` : undefined),
    link.hasPassword ? badge('Password', 'plain') : null,
    link.expiresAt && !expired ? badge(`Until ${day(link.expiresAt)}`, 'plain', formatTime(link.expiresAt)) : null,
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
      class: `link-item${link.disabled ? ' disabled' : ''}${expired ? ' expired' : ''}${freshLink === link.id ? ' fresh' : ''}${open ? ' editing' : ''}`,
      'data-link': link.id,
      'data-state': state.toLowerCase(),
    },
    el(
      'div',
      { class: 'link-top' },
      el('span', { class: 'link-title' }, el('strong', { text: `Link ${index + 1}` }), ' ', ...facts),
      rolePicker(link.role, `Role of ${label}`, (e) =>
        act(e.target, async () => {
          await api('PATCH', at(`/api/files/${path(file.id)}/links/${path(link.id)}`), { role: e.target.value });
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
        class: 'secondary',
        text: 'Edit',
        'aria-label': toggleLabel,
        'aria-expanded': String(open),
        'aria-controls': open ? `panel-${key.replace(/[^\w-]/g, '_')}` : undefined,
        onclick: () => togglePanel(key, toggleLabel),
      }),
      el('button', {
        type: 'button',
        class: link.disabled ? 'secondary' : 'danger outline',
        text: link.disabled ? 'Enable' : 'Disable',
        'aria-label': `${link.disabled ? 'Enable' : 'Disable'} ${label}`,
        onclick: (e) =>
          act(e.currentTarget, async () => {
            await api('PATCH', at(`/api/files/${path(file.id)}/links/${path(link.id)}`), { disabled: !link.disabled });
            return link.disabled
              ? `${cap(label)} works again${expired ? ' once it has a new expiry date' : ''}.`
              : `${cap(label)} is disabled: it no longer opens.`;
          }),
      }),
    ),
    expired && !link.disabled
      ? el('p', {
          class: 'link-note',
          text: `Expired ${formatTime(link.expiresAt)}: it no longer opens. Edit it to give it a new expiry date, or none.`,
        })
      : null,
    open ? linkPanel(link, label, toggleLabel) : null,
    el('p', { class: 'link-made hint', text: `Created ${formatTime(link.createdAt)}` }),
  );
}

const cap = (s) => s[0].toUpperCase() + s.slice(1);
const day = (iso) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });

const copyLink = (field, button) => copyField(field, button, 'the link', status);

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
    api('GET', at(`/api/files/${path(file.id)}/access`)),
    people.loaded ? people : api('GET', at('/api/people')),
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
    await api('PUT', at(`/api/files/${path(file.id)}/shares`), {
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
    expiresAt = endOfDay(expires);
    if (expiresAt === null) {
      status('Choose an expiry date from today on.', true);
      $('link-expires').focus();
      return;
    }
  }
  act($('link-create'), async () => {
    const link = await api('POST', at(`/api/files/${path(file.id)}/links`), {
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
  editing = null;
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
  $('link-expires').min = dayValue(new Date().toISOString());
  dialog.showModal();
  try {
    await load();
    if (access.you.manages && document.activeElement?.closest('.share-head')) $('share-who').focus();
  } catch (err) {
    status(`Could not load who has access: ${err.message}.`, true);
  }
}
