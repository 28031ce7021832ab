// People & groups, for admins: the accounts (add one, make or unmake an admin, disable or enable), and the groups
// (create, delete, add and remove members). Everything through /api/admin/…; names are drawn as text, never HTML.
import { api, at, el, hueOf, initials, say } from './common.js';

const $ = (id) => document.getElementById(id);
const me = document.body.dataset.me;
const path = (id) => encodeURIComponent(id);

let people = [];
let groups = [];

const nameOf = (u) => u.displayName || u.name;
const byName = (a, b) => nameOf(a).localeCompare(nameOf(b), undefined, { sensitivity: 'base' });
const badge = (text, kind) => el('span', { class: `badge ${kind}`, text });
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** Asks before something that is hard to take back; resolves true when confirmed. */
function confirmAction({ title, text, yes, danger = true }) {
  const dialog = $('admin-confirm');
  $('admin-confirm-title').textContent = title;
  $('admin-confirm-text').textContent = text;
  const button = $('admin-confirm-yes');
  button.textContent = yes;
  button.className = danger ? 'danger' : '';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }),
  );
}

/**
 * Runs a change, redraws both lists and says what happened (or the API's reason). The lists are drawn afresh: the
 * focus goes back to the control with the same name, or to `fallback`.
 */
async function act(button, work, fallback) {
  const label = button?.getAttribute('aria-label');
  if (button) button.disabled = true;
  let note;
  let isError = false;
  try {
    note = await work();
  } catch (err) {
    note = `${err.message[0]?.toUpperCase() ?? ''}${err.message.slice(1)}.`;
    isError = true;
  }
  await load();
  if (note) say(note, isError);
  if (button?.isConnected) {
    button.disabled = false;
    button.focus();
  } else if (label) {
    (document.querySelector(`main [aria-label="${CSS.escape(label)}"]`) ?? fallback?.())?.focus();
  }
}

// ---- people ----

function personItem(u) {
  const you = u.id === me;
  const name = nameOf(u);
  // nobody takes away their own admin rights, nor disables themselves, from here
  const adminButton = you
    ? null
    : el('button', {
        type: 'button',
        class: 'secondary small',
        text: u.isAdmin ? 'Remove admin' : 'Make admin',
        'aria-label': u.isAdmin ? `Remove admin rights from ${name}` : `Make ${name} an admin`,
        onclick: async () => {
          if (
            !u.isAdmin &&
            !(await confirmAction({
              title: `Make ${name} an admin?`,
              text: `${name} will see and manage every document, person and group in Quire.`,
              yes: 'Make admin',
              danger: false,
            }))
          )
            return;
          await act(adminButton, async () => {
            await api('PATCH', at(`/api/admin/users/${path(u.id)}`), { isAdmin: !u.isAdmin });
            return u.isAdmin ? `${name} is no longer an admin.` : `${name} is now an admin.`;
          });
        },
      });
  const disableButton = you
    ? null
    : el('button', {
        type: 'button',
        class: u.disabled ? 'secondary small' : 'danger outline small',
        text: u.disabled ? 'Enable' : 'Disable',
        'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${name}`,
        onclick: async () => {
          const ok = await confirmAction(
            u.disabled
              ? {
                  title: `Enable ${name}?`,
                  text: `${name} will be able to sign in again, with the access they had before.`,
                  yes: 'Enable',
                  danger: false,
                }
              : {
                  title: `Disable ${name}?`,
                  text: `${name} will no longer be able to sign in, and any document they have open in an editor stops saving within a second. Their documents and shares are kept; you can enable the account again.`,
                  yes: 'Disable',
                },
          );
          if (!ok) return;
          await act(disableButton, async () => {
            await api('PATCH', at(`/api/admin/users/${path(u.id)}`), { disabled: !u.disabled });
            return u.disabled ? `${name} can sign in again.` : `${name} is disabled and can no longer sign in.`;
          });
        },
      });
  return el(
    'li',
    { class: `person${u.disabled ? ' disabled' : ''}`, 'data-user': u.id, 'data-name': u.name },
    el('span', {
      class: `avatar ${u.disabled ? 'hue-none' : hueOf(u.id)}`,
      'aria-hidden': 'true',
      text: initials(name),
    }),
    el(
      'div',
      { class: 'person-who' },
      el(
        'p',
        { class: 'person-name' },
        el('strong', { text: name }),
        you ? badge('You', 'plain') : null,
        u.isAdmin ? badge('Admin', 'role role-admin') : null,
        u.disabled ? badge('Disabled', 'state off') : null,
      ),
      el(
        'p',
        { class: 'person-sub' },
        el('span', { class: 'login', text: u.name }),
        u.groups.length ? ` · In ${u.groups.map((g) => g.name).join(', ')}` : '',
      ),
    ),
    el('div', { class: 'person-actions' }, adminButton, disableButton),
  );
}

function renderPeople() {
  const sorted = [...people].sort(byName);
  $('people-list').replaceChildren(...sorted.map(personItem));
  $('people-loading').hidden = true;
  const count = $('people-count');
  const disabled = people.filter((u) => u.disabled).length;
  count.textContent = `${people.length}${disabled ? ` · ${disabled} disabled` : ''}`;
  count.hidden = false;
}

$('person-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const error = $('person-error');
  const nameInput = $('person-name');
  const name = nameInput.value.trim();
  if (!name) {
    error.textContent = 'Give the sign-in name they will use.';
    nameInput.setAttribute('aria-invalid', 'true');
    nameInput.focus();
    return;
  }
  nameInput.removeAttribute('aria-invalid');
  error.textContent = '';
  const displayName = $('person-display').value.trim();
  const password = $('person-password').value;
  const isAdmin = $('person-admin').checked;
  const button = $('person-add');
  button.disabled = true;
  api('POST', at('/api/admin/users'), {
    name,
    ...(displayName && { displayName }),
    ...(password && { password }),
    isAdmin,
  })
    .then(async (created) => {
      $('person-form').reset();
      await load();
      say(
        `Added ${nameOf(created)}${created.isAdmin ? ' as an admin' : ''}.${
          password ? ' They can sign in with the password you chose.' : ' They sign in through single sign-on.'
        }`,
      );
      nameInput.focus();
    })
    .catch((err) => {
      error.textContent = `Could not add ${name}: ${err.message}.`;
      nameInput.focus();
    })
    .finally(() => {
      button.disabled = false;
    });
});

// ---- groups ----

function groupItem(g) {
  const memberIds = new Set(g.members.map((m) => m.id));
  const candidates = people.filter((u) => !u.disabled && !memberIds.has(u.id)).sort(byName);
  const selectId = `add-to-${g.id}`;
  const select = el(
    'select',
    { id: selectId, name: 'user' },
    el('option', { value: '', text: candidates.length ? 'Choose a person…' : 'Everyone is a member' }),
    ...candidates.map((u) =>
      el('option', {
        value: u.id,
        text: u.displayName && u.displayName !== u.name ? `${u.displayName} (${u.name})` : u.name,
      }),
    ),
  );
  const addButton = el('button', {
    type: 'submit',
    class: 'secondary',
    text: 'Add',
    'aria-label': `Add to ${g.name}`,
    disabled: candidates.length === 0,
  });
  const deleteButton = el('button', {
    type: 'button',
    class: 'danger outline small',
    text: 'Delete',
    'aria-label': `Delete the group ${g.name}`,
    onclick: async () => {
      const ok = await confirmAction({
        title: `Delete the group ${g.name}?`,
        text: `Its ${plural(g.members.length, 'member', 'members')} lose what was shared with the group. Documents stay with their owners; nobody's account changes.`,
        yes: 'Delete group',
      });
      if (!ok) return;
      await act(
        deleteButton,
        async () => {
          await api('DELETE', at(`/api/admin/groups/${path(g.id)}`));
          return `Deleted the group ${g.name}.`;
        },
        () => $('group-name'),
      );
    },
  });
  return el(
    'li',
    { class: 'group', 'data-group': g.id, 'data-name': g.name },
    el(
      'div',
      { class: 'group-head' },
      el('span', { class: 'avatar team', 'aria-hidden': 'true', text: initials(g.name) }),
      el(
        'div',
        { class: 'group-title' },
        el('h3', { text: g.name }),
        el(
          'p',
          { class: 'person-sub' },
          plural(g.members.length, 'member', 'members'),
          g.source === 'provider' ? ' · from the sign-in provider' : '',
        ),
      ),
      deleteButton,
    ),
    g.source === 'provider'
      ? el('p', {
          class: 'hint provider-note',
          text: 'The sign-in provider keeps these members in step: a change made here lasts until the person next signs in.',
        })
      : null,
    g.members.length
      ? el(
          'ul',
          { class: 'members', 'aria-label': `Members of ${g.name}` },
          ...[...g.members].sort(byName).map((m) => {
            const name = nameOf(m);
            const remove = el('button', {
              type: 'button',
              class: 'icon-button',
              text: '×',
              title: `Remove ${name} from ${g.name}`,
              'aria-label': `Remove ${name} from ${g.name}`,
              onclick: () =>
                act(
                  remove,
                  async () => {
                    await api('DELETE', at(`/api/admin/groups/${path(g.id)}/members/${path(m.id)}`));
                    return `Removed ${name} from ${g.name}.`;
                  },
                  () => document.getElementById(selectId),
                ),
            });
            return el(
              'li',
              { class: 'member', 'data-user': m.id },
              el('span', { class: `avatar ${hueOf(m.id)}`, 'aria-hidden': 'true', text: initials(name) }),
              el('span', { class: 'member-name', text: name }),
              remove,
            );
          }),
        )
      : el('p', { class: 'muted no-members', text: 'No members yet.' }),
    el(
      'form',
      {
        class: 'inline-form member-add',
        onsubmit: (e) => {
          e.preventDefault();
          const user = people.find((u) => u.id === select.value);
          if (!user) {
            say(`Choose someone to add to ${g.name}.`, true);
            select.focus();
            return;
          }
          act(
            addButton,
            async () => {
              await api('PUT', at(`/api/admin/groups/${path(g.id)}/members/${path(user.id)}`));
              return `Added ${nameOf(user)} to ${g.name}.`;
            },
            () => document.getElementById(selectId),
          );
        },
      },
      el(
        'div',
        { class: 'field grow' },
        el('label', { for: selectId, class: 'visually-hidden', text: `Add a member to ${g.name}` }),
        select,
      ),
      addButton,
    ),
  );
}

function renderGroups() {
  const sorted = [...groups].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
  $('group-list').replaceChildren(...sorted.map(groupItem));
  $('group-list').hidden = sorted.length === 0;
  $('groups-empty').hidden = sorted.length > 0;
  $('groups-loading').hidden = true;
  const count = $('groups-count');
  count.textContent = String(groups.length);
  count.hidden = groups.length === 0;
}

$('group-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('group-name');
  const name = input.value.trim();
  if (!name) {
    say('Give the new group a name.', true);
    input.focus();
    return;
  }
  act($('group-create'), async () => {
    const group = await api('POST', at('/api/admin/groups'), { name });
    input.value = '';
    return `Created the group ${group.name}. Add its members below.`;
  });
});

async function load() {
  try {
    [people, groups] = await Promise.all([api('GET', at('/api/admin/users')), api('GET', at('/api/admin/groups'))]);
    renderPeople();
    renderGroups();
    document.body.dataset.ready = 'true';
  } catch (err) {
    $('people-loading').hidden = true;
    $('groups-loading').hidden = true;
    say(`Could not load people and groups: ${err.message}.`, true);
  }
}

// /admin/groups and /admin/people show this page at their section
const section = location.pathname.split('/')[2];
load().then(() => {
  if (section === 'groups' || section === 'people') $(section).scrollIntoView();
});
