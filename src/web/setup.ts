import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  type Accounts,
  checkDisplayName,
  checkPassword,
  checkUserName,
  InvalidUserInputError,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_NAME_LENGTH,
  MIN_PASSWORD_LENGTH,
  type User,
  UserExistsError,
} from '../users/accounts.ts';
import { type SessionOptions, startSession } from './session.ts';
import { at, escapeHtml, renderCardPage, sendPage } from './shell.ts';
import { isCrossSite, readForm } from './sign-in.ts';

/**
 * First run: while nobody has an account, `quire serve` prints a one-time link (/setup?token=…) whose page creates
 * the first admin and signs them in. Once anyone has an account the link stops working, for good.
 */

/**
 * The setup link's secret and the one way through it. The token lives in this process's memory only: it is made
 * when Quire starts with no users, is valid until that process stops (a restart prints a new one), and is never
 * stored. With several instances on one database, each that starts empty prints its own; creating the admin is
 * serialized within a process, not across them.
 */
export class FirstRunSetup {
  /** 32 random bytes, base64url: what the printed link carries. */
  readonly token = randomBytes(32).toString('base64url');
  private readonly digest = createHash('sha256').update(this.token).digest();
  /** Set once any user is seen; never cleared (deleting every user later does not reopen setup). */
  private done = false;
  /** Creations run one after another, so two racing forms cannot both find "no users". */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly users: Accounts) {}

  /** True when `candidate` is the token; compared in constant time (digests of equal length). */
  accepts(candidate: unknown): boolean {
    if (typeof candidate !== 'string' || candidate.length > 512) return false;
    return timingSafeEqual(createHash('sha256').update(candidate).digest(), this.digest);
  }

  /** True until setup is done; asks the store only while nobody has been seen. */
  async isOpen(): Promise<boolean> {
    if (this.done) return false;
    if ((await this.users.list()).length > 0) this.done = true;
    return !this.done;
  }

  /** True once the first admin exists (as far as this process knows without asking the store). */
  get finished(): boolean {
    return this.done;
  }

  /**
   * Creates the first admin, or answers null when someone already exists. Serialized, and the user count is read
   * again right before creating: of two submissions racing (even with different names), one creates the admin and
   * the other gets null. Throws `InvalidUserInputError` for a bad name or password.
   */
  createFirstAdmin(input: { name: string; displayName?: string; password: string }): Promise<User | null> {
    const run = this.queue.then(async () => {
      if (!(await this.isOpen())) return null;
      try {
        const user = await this.users.create({ ...input, isAdmin: true });
        this.done = true;
        return user;
      } catch (err) {
        // someone added that name meanwhile (`quire user add` while serving): setup is over
        if (err instanceof UserExistsError) {
          this.done = true;
          return null;
        }
        throw err;
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }
}

type Field = 'name' | 'displayName' | 'password' | 'confirm';

interface SetupForm {
  token: string;
  name?: string;
  displayName?: string;
  errors?: Partial<Record<Field, string>>;
}

const FIELDS: ReadonlyArray<{
  field: Field;
  id: string;
  label: string;
  hint: string;
  input: string;
}> = [
  {
    field: 'name',
    id: 'setup-name',
    label: 'Name',
    hint: 'What you type to sign in, such as “ann”.',
    input: `name="name" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="${MAX_NAME_LENGTH}"`,
  },
  {
    field: 'displayName',
    id: 'setup-display-name',
    label: 'Display name (optional)',
    hint: 'How others see you, such as “Ann Example”. Leave it empty to use your name.',
    input: `name="displayName" type="text" autocomplete="name" maxlength="${MAX_DISPLAY_NAME_LENGTH}"`,
  },
  {
    field: 'password',
    id: 'setup-password',
    label: 'Password',
    hint: `At least ${MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good one.`,
    input: `name="password" type="password" autocomplete="new-password" required minlength="${MIN_PASSWORD_LENGTH}"`,
  },
  {
    field: 'confirm',
    id: 'setup-confirm',
    label: 'Confirm password',
    hint: '',
    input: 'name="confirm" type="password" autocomplete="new-password" required',
  },
];

/** "a user name must …" as a sentence: capitalized, with a full stop. */
const sentence = (message: string) => `${message.charAt(0).toUpperCase()}${message.slice(1).replace(/\.?$/, '.')}`;

function setupPage(form: SetupForm): string {
  const errors = form.errors ?? {};
  const firstInvalid = FIELDS.find((f) => errors[f.field])?.field ?? (form.errors ? undefined : 'name');
  const parts = [
    '<h1>Create the first admin</h1>',
    `<p class="lead">Quire has no accounts yet. Create the first one here: it will be an administrator, who can add
the people you work with. You are signed in as soon as it is made.</p>`,
  ];
  const problems = FIELDS.filter((f) => errors[f.field]);
  if (problems.length > 0) {
    parts.push(`<div class="notice error" id="setup-problems" role="alert">
<p><strong>${problems.length === 1 ? 'Check this field' : 'Check these fields'}:</strong></p>
<ul>${problems.map((f) => `<li><a href="#${f.id}">${escapeHtml(errors[f.field] as string)}</a></li>`).join('')}</ul>
</div>`);
  }
  const values: Partial<Record<Field, string>> = { name: form.name ?? '', displayName: form.displayName ?? '' };
  const fields = FIELDS.map((f) => {
    const error = errors[f.field];
    const described = [f.hint && `${f.id}-hint`, error && `${f.id}-error`].filter(Boolean).join(' ');
    const value = values[f.field];
    return `<div class="field-group${error ? ' invalid' : ''}">
<label for="${f.id}">${escapeHtml(f.label)}</label>
${f.hint ? `<p class="hint" id="${f.id}-hint">${escapeHtml(f.hint)}</p>` : ''}
${error ? `<p class="field-error" id="${f.id}-error">${escapeHtml(error)}</p>` : ''}
<input id="${f.id}" ${f.input}${value ? ` value="${escapeHtml(value)}"` : ''}${described ? ` aria-describedby="${described}"` : ''}${error ? ' aria-invalid="true"' : ''}${f.field === firstInvalid ? ' autofocus' : ''}>
</div>`;
  }).join('\n');
  parts.push(`<form method="post" action="/setup" class="sign-in setup" novalidate>
<input type="hidden" name="token" value="${escapeHtml(form.token)}">
${fields}
<button type="submit">Create admin and sign in</button>
</form>
<div class="aside">
<p>This link works once, and only while the server that printed it is running.</p>
<p>Prefer a terminal? <code>npx quire user add NAME --admin</code></p>
</div>`);
  return renderCardPage('Set up Quire', parts.join('\n'));
}

const sendSetupPage = (reply: FastifyReply, status: number, form: SetupForm) =>
  sendPage(reply, { kind: 'plain' }, setupPage(form), status);

/** A small card with a heading, words (trusted HTML) and one way on. */
function sendCard(
  reply: FastifyReply,
  status: number,
  content: { title: string; message: string; link: { href: string; text: string } },
): FastifyReply {
  const html = renderCardPage(
    `${content.title} – Quire`,
    `<h1>${escapeHtml(content.title)}</h1>
${content.message}
<p class="card-actions"><a class="button" href="${escapeHtml(content.link.href)}">${escapeHtml(content.link.text)}</a></p>`,
  );
  return sendPage(reply, { kind: 'plain' }, html, status);
}

const alreadySetUp = (reply: FastifyReply) =>
  sendCard(reply, 410, {
    title: 'Quire is already set up',
    message: `<p>The first account has been created, so this setup link no longer works. Sign in with your account, or
ask an administrator to add one for you.</p>`,
    link: { href: '/login', text: 'Sign in' },
  });

const badLink = (reply: FastifyReply) =>
  sendCard(reply, 403, {
    title: 'This setup link is not valid',
    message: `<p>Open the link that <code>quire serve</code> printed when it started. Each start prints a new one,
and links from earlier starts stop working.</p>
<p>Or create the first admin in a terminal:<br><code>npx quire user add NAME --admin</code></p>`,
    link: { href: '/login', text: 'Go to sign-in' },
  });

/** The form's problems, field by field, in words for the page; empty when it can be submitted. */
function checkForm(form: URLSearchParams): {
  input: { name: string; displayName?: string; password: string };
  errors: Partial<Record<Field, string>>;
} {
  const errors: Partial<Record<Field, string>> = {};
  const name = (form.get('name') ?? '').trim();
  const displayName = (form.get('displayName') ?? '').trim();
  const password = form.get('password') ?? '';
  const confirm = form.get('confirm') ?? '';
  const check = (field: Field, run: () => void) => {
    try {
      run();
    } catch (err) {
      if (!(err instanceof InvalidUserInputError)) throw err;
      errors[field] = sentence(err.message);
    }
  };
  if (name === '') errors.name = 'Enter a name to sign in with.';
  else check('name', () => checkUserName(name));
  if (displayName !== '') check('displayName', () => checkDisplayName(displayName));
  if (password === '') errors.password = 'Enter a password.';
  else check('password', () => checkPassword(password));
  if (!errors.password && password !== confirm) {
    errors.confirm = confirm === '' ? 'Enter the password again to confirm it.' : 'The two passwords do not match.';
  }
  return { input: { name, password, ...(displayName && { displayName }) }, errors };
}

/**
 * GET and POST /setup. `setup` is absent when Quire started with users: the page then only says setup is done.
 * Cross-site posts are refused as at /login; the form is read from the raw request stream as there.
 */
export function registerSetupRoutes(app: FastifyInstance, opts: SessionOptions, setup?: FirstRunSetup): void {
  app.get<{ Querystring: { token?: string } }>('/setup', async (request, reply) => {
    if (!setup || !(await setup.isOpen())) return alreadySetUp(reply);
    if (!setup.accepts(request.query.token)) return badLink(reply);
    return sendSetupPage(reply, 200, { token: setup.token });
  });

  app.post('/setup', async (request, reply) => {
    if (isCrossSite(request)) {
      return sendCard(reply, 403, {
        title: 'Setup refused',
        message: "<p>The form was sent from another site. Create the first admin from Quire's own setup page.</p>",
        link: { href: '/login', text: 'Go to sign-in' },
      });
    }
    const form = await readForm(request);
    if (!setup || setup.finished) return alreadySetUp(reply);
    if (!setup.accepts(form.get('token'))) return badLink(reply);
    const { input, errors } = checkForm(form);
    const again = {
      token: setup.token,
      name: input.name,
      ...(input.displayName && { displayName: input.displayName }),
    };
    if (Object.keys(errors).length > 0) return sendSetupPage(reply, 400, { ...again, errors });
    let admin: User | null;
    try {
      admin = await setup.createFirstAdmin(input);
    } catch (err) {
      if (!(err instanceof InvalidUserInputError)) throw err;
      return sendSetupPage(reply, 400, { ...again, errors: { [err.field]: sentence(err.message) } });
    }
    if (!admin) return alreadySetUp(reply);
    request.log.info({ user: admin.name }, 'first admin created through the setup link');
    await startSession(app, reply, opts, admin);
    return reply.header('cache-control', 'no-store').redirect(at(reply, '/'), 303);
  });
}
