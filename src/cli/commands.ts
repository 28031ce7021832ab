import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { API_SCOPES, apiKeyProblem, SCOPE_NOTES } from '../access/api-keys.ts';
import { groupNameKey } from '../access/sharing.ts';
import { redactSecrets } from '../auth/redact.ts';
import { ALL_PERMISSIONS, DEFAULT_TOKEN_TTL_MS, READ_ONLY } from '../auth/tokens.ts';
import { CheckAbortedError, formatJson, formatResult, formatSummary, passed, runCheck } from '../check/index.ts';
import {
  describeDatabase,
  formatBytes,
  MigrationError,
  migrateEmbeddedStore,
  Quire,
  type QuireOptions,
  recordedPublicUrl,
} from '../quire.ts';
import { deliveryView, webhookView } from '../webhooks/registry.ts';
import {
  duration,
  migrateSettings,
  parseCommand,
  RETENTION_FLAGS,
  retentionOptions,
  serveSettings,
  storeOptions,
  UsageError,
} from './options.ts';

/** The commands: each reads its settings through options.ts and does one thing with a Quire. */

type Env = Record<string, string | undefined>;

/** Runs a one-shot command against the store, closing it however the command ends. */
async function withQuire(options: QuireOptions, work: (quire: Quire) => Promise<void>): Promise<void> {
  const quire = await Quire.create(options);
  try {
    await work(quire);
  } finally {
    await quire.close();
  }
}

export async function serve(args: string[], env: Env): Promise<void> {
  const { options, port, hostname, drainTimeoutMs } = serveSettings(args, env);
  const quire = await Quire.create(options);
  const listening = quire.listen(port, hostname);
  // from the first moment a request can come in, a signal drains rather than kills
  drainOnSignal(quire, drainTimeoutMs, listening);
  const url = await listening;
  const bound = quire.app.server.address();
  const boundPort = bound && typeof bound === 'object' ? bound.port : port;
  console.log(`Quire is listening on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${boundPort}`);
  console.log(`Public URL: ${url}   Data: ${options.dataDir}`);
  const setupUrl = quire.setupUrl;
  if (setupUrl) {
    // like a notebook server's token: printed for whoever started Quire, valid until this process stops
    console.log('First run: no one can sign in yet. Open this link to create the first admin (it works once):');
    console.log(`  ${setupUrl}`);
    console.log('  or add someone with `npx quire user add NAME --admin` (works while serving).');
  }
  const editorUrl = options.editor?.url;
  console.log(
    editorUrl
      ? redactSecrets(`Editor: ${editorUrl} (discovery at ${quire.editor.discovery?.discoveryUrl})`)
      : 'Editor: none',
  );
  if (editorUrl) {
    quire.editor.current().then(
      (d) => console.log(`Editor discovery read: ${d?.flavour}, ${d?.actions.length} actions`),
      (err: Error) => console.error(`Editor discovery failed (will retry): ${redactSecrets(err.message)}`),
    );
  }
}

/**
 * SIGTERM or SIGINT drains: /readyz answers 503 at once (a load balancer takes the instance out), no new connection
 * is accepted, requests in flight get `drainTimeoutMs` to finish, then the rest are cut, the background work stops,
 * the storage closes and the process exits 0. A second signal exits at once (status 1). A signal that comes while
 * Quire is still starting to listen drains once it listens.
 */
function drainOnSignal(quire: Quire, drainTimeoutMs: number, listening: Promise<unknown>): void {
  let draining = false;
  const stop = (signal: NodeJS.Signals) => {
    if (draining) {
      console.log(`${signal} again: exiting without waiting for the drain`);
      process.exit(1);
    }
    draining = true;
    console.log(
      `${signal}: draining: /readyz answers 503, no new connections, requests in flight have ${drainTimeoutMs / 1000} s`,
    );
    const started = listening.catch(() => undefined);
    started
      .then(() => quire.close({ drainTimeoutMs }))
      .then(
        ({ inFlight, cut, ms }) => {
          const requests = `${inFlight} request${inFlight === 1 ? '' : 's'} in flight`;
          const what = cut ? `${cut} of ${requests} did not finish in time and were cut` : `${requests} finished`;
          console.log(`Drained in ${ms} ms: ${what}; stopped`);
          process.exit(0);
        },
        (err: Error) => {
          console.error(`quire: shutting down failed: ${redactSecrets(err.message)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function add(args: string[], env: Env): Promise<void> {
  const { values, positionals } = parseCommand(
    args,
    {
      name: { type: 'string' },
      owner: { type: 'string' },
      'public-url': { type: 'string' },
      'min-free-space': { type: 'string' },
    },
    { count: 1, usage: 'quire add takes exactly one PATH' },
  );
  const path = positionals[0] as string;
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw new UsageError(`not a readable file: ${path}`);
  const store = storeOptions(values, env);
  const publicUrl = values['public-url'] ?? env.QUIRE_PUBLIC_URL ?? (await recordedPublicUrl(store.dataDir));
  await withQuire({ ...store, ...(publicUrl && { publicUrl }) }, async (quire) => {
    const file = await quire.addFile({
      source: createReadStream(path),
      name: values.name ?? basename(path),
      ownerId: values.owner ?? 'admin',
    });
    console.log(JSON.stringify({ id: file.id, name: file.name, wopiSrc: quire.wopiSrc(file.id) }));
  });
}

export async function token(args: string[], env: Env): Promise<void> {
  const { values, positionals } = parseCommand(
    args,
    { user: { type: 'string' }, name: { type: 'string' }, 'read-only': { type: 'boolean' }, ttl: { type: 'string' } },
    { count: 1, usage: 'quire token takes exactly one FILE_ID' },
  );
  const fileId = positionals[0] as string;
  const userId = values.user;
  if (!userId) throw new UsageError('quire token needs --user ID');
  const ttlMs = values.ttl ? duration(values.ttl, '--ttl') : DEFAULT_TOKEN_TTL_MS;
  await withQuire(storeOptions(values, env), async (quire) => {
    if (!(await quire.host.storage.catalog.getFile(fileId))) throw new UsageError(`no file with id ${fileId}`);
    const minted = await quire.mintToken({
      fileId,
      userId,
      userName: values.name ?? userId,
      permissions: values['read-only'] ? READ_ONLY : ALL_PERMISSIONS,
      ttlMs,
    });
    console.log(JSON.stringify(minted));
  });
}

async function readPassword(env: Env): Promise<string> {
  if (env.QUIRE_PASSWORD) return env.QUIRE_PASSWORD;
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').trim();
  }
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  // keep the typed password off the screen
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    if (s.includes('Password')) process.stdout.write(s);
  };
  const answer = await new Promise<string>((resolve) => rl.question('Password: ', resolve));
  rl.close();
  process.stdout.write('\n');
  return answer;
}

const USER_USAGE =
  'usage: quire user add NAME [--display-name NAME] [--admin] | quire user disable NAME | quire user enable NAME [--data DIR] [--database URL]';

/** What the CLI does as, in the event log: the operator at the terminal. */
const OPERATOR = { userName: 'quire (command line)', client: 'quire CLI' };

export async function user(args: string[], env: Env): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'disable' || sub === 'enable') {
    const { values, positionals } = parseCommand(rest, {}, { count: 1, usage: USER_USAGE });
    await withQuire(storeOptions(values, env), async (quire) => {
      const found = await quire.accounts?.findByName(positionals[0] as string);
      if (!found) throw new UsageError(`no user named ${JSON.stringify(positionals[0])}`);
      await quire.sharing.setDisabled(found, sub === 'disable', OPERATOR);
      console.log(JSON.stringify({ id: found.id, name: found.name, disabled: sub === 'disable' }));
    });
    return;
  }
  if (sub !== 'add') throw new UsageError(USER_USAGE);
  const { values, positionals } = parseCommand(
    rest,
    { 'display-name': { type: 'string' }, admin: { type: 'boolean' } },
    { count: 1, usage: 'quire user add takes exactly one NAME' },
  );
  await withQuire(storeOptions(values, env), async (quire) => {
    if (!quire.accounts) throw new UsageError('this storage has no user store');
    const created = await quire.accounts.create({
      name: positionals[0] as string,
      password: await readPassword(env),
      ...(values['display-name'] && { displayName: values['display-name'] }),
      ...(values.admin && { isAdmin: true }),
    });
    const { id, name, displayName, isAdmin } = created;
    console.log(JSON.stringify({ id, name, displayName, isAdmin }));
  });
}

const GROUP_USAGE =
  'usage: quire group list | add NAME | delete NAME | members NAME | member add GROUP USER | member remove GROUP USER [--data DIR] [--database URL]';

/** Groups, as admins manage them in the web page: list, add, delete, and their members. */
export async function group(args: string[], env: Env): Promise<void> {
  const [sub, ...rest] = args;
  const memberSub = sub === 'member' ? rest.shift() : undefined;
  const counts: Record<string, number> = { list: 0, add: 1, delete: 1, members: 1, member: 2 };
  if (sub === undefined || !(sub in counts) || (sub === 'member' && memberSub !== 'add' && memberSub !== 'remove'))
    throw new UsageError(GROUP_USAGE);
  const { values, positionals } = parseCommand(rest, {}, { count: counts[sub] as number, usage: GROUP_USAGE });
  await withQuire(storeOptions(values, env), async (quire) => {
    const access = quire.host.storage.access;
    if (!access) throw new UsageError('this storage keeps no groups');
    const named = async (name: string) => {
      const found = await access.findGroup(groupNameKey(name));
      if (!found) throw new UsageError(`no group named ${JSON.stringify(name)}`);
      return found;
    };
    const [first = '', second = ''] = positionals;
    if (sub === 'list') {
      for (const g of await access.listGroups())
        console.log(
          JSON.stringify({ id: g.id, name: g.name, source: g.source, members: (await access.members(g.id)).length }),
        );
    } else if (sub === 'add') {
      const created = await quire.sharing.createGroup(first, OPERATOR);
      console.log(JSON.stringify({ id: created.id, name: created.name }));
    } else if (sub === 'delete') {
      await quire.sharing.deleteGroup((await named(first)).id, OPERATOR);
    } else if (sub === 'members') {
      for (const id of await access.members((await named(first)).id)) {
        const u = await quire.accounts?.findById(id);
        console.log(JSON.stringify({ id, name: u?.name ?? id }));
      }
    } else {
      const g = await named(first);
      const member = await quire.accounts?.findByName(second);
      if (!member) throw new UsageError(`no user named ${JSON.stringify(second)}`);
      if (memberSub === 'add') await quire.sharing.addMember(g.id, member, OPERATOR);
      else await quire.sharing.removeMember(g.id, member.id, OPERATOR);
    }
  });
}

const APIKEY_USAGE = `usage: quire apikey create NAME --scope SCOPE[,SCOPE…] [--expires 90d|2026-12-31] | apikey list | apikey revoke ID [--data DIR] [--database URL]
scopes: ${API_SCOPES.map((s) => `${s} (${SCOPE_NOTES[s]})`).join('; ')}`;

/** `--scope` may be given more than once, each a list: taken out of `args` before the rest is parsed. */
function takeScopes(args: string[]): { scopes: string[]; rest: string[] } {
  const scopes: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--scope') scopes.push(args[++i] ?? '');
    else if (arg.startsWith('--scope=')) scopes.push(arg.slice('--scope='.length));
    else rest.push(arg);
  }
  return { scopes: scopes.flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== ''), rest };
}

/** `--expires`: a duration from now (90d, 12h) or a date (2026-12-31, taken as midnight UTC) or date and time. */
function expiryFrom(text: string | undefined, now: number): number | null {
  if (text === undefined) return null;
  if (/^\d+(ms|s|m|h|d)?$/.test(text.trim())) return now + duration(text, '--expires');
  const at = Date.parse(text);
  if (!/^\d{4}-\d\d-\d\d/.test(text) || !Number.isFinite(at)) {
    throw new UsageError(`--expires takes a duration (90d) or a date (2026-12-31), not ${JSON.stringify(text)}`);
  }
  return at;
}

/** Service API keys, as admins manage them on the web page: create (the key is printed once), list, revoke. */
export async function apikey(args: string[], env: Env): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { scopes, rest: others } = takeScopes(rest);
    const { values, positionals } = parseCommand(
      others,
      { expires: { type: 'string' } },
      { count: 1, usage: APIKEY_USAGE },
    );
    if (scopes.length === 0) throw new UsageError(`quire apikey create needs --scope\n${APIKEY_USAGE}`);
    await withQuire(storeOptions(values, env), async (quire) => {
      if (!quire.apiKeys) throw new UsageError('this storage keeps no API keys');
      const { apiKey, key } = await quire.apiKeys.create(
        { name: positionals[0], scopes, expiresAt: expiryFrom(values.expires, quire.host.clock.now()) },
        { ...OPERATOR, userId: 'command-line' },
      );
      const expiresAt = apiKey.expiresAt === null ? null : new Date(apiKey.expiresAt).toISOString();
      console.log(JSON.stringify({ id: apiKey.id, name: apiKey.name, scopes: apiKey.scopes, expiresAt, key }));
      console.error('Keep the key now: Quire stores only its hash and cannot show it again.');
    });
    return;
  }
  const counts: Record<string, number> = { list: 0, revoke: 1 };
  if (sub === undefined || !(sub in counts)) throw new UsageError(APIKEY_USAGE);
  const { values, positionals } = parseCommand(rest, {}, { count: counts[sub] as number, usage: APIKEY_USAGE });
  await withQuire(storeOptions(values, env), async (quire) => {
    if (!quire.apiKeys) throw new UsageError('this storage keeps no API keys');
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    if (sub === 'list') {
      const now = quire.host.clock.now();
      for (const k of await quire.apiKeys.list()) {
        const status = k.revokedAt !== null ? 'revoked' : apiKeyProblem(k, now) ? 'expired' : 'active';
        console.log(
          JSON.stringify({
            id: k.id,
            name: k.name,
            scopes: k.scopes,
            status,
            createdAt: iso(k.createdAt),
            expiresAt: iso(k.expiresAt),
            lastUsedAt: iso(k.lastUsedAt),
          }),
        );
      }
    } else {
      const k = await quire.apiKeys.revoke(positionals[0] as string, OPERATOR);
      console.log(JSON.stringify({ id: k.id, name: k.name, revokedAt: iso(k.revokedAt) }));
    }
  });
}

/**
 * One maintenance pass, as `serve` runs every 10 minutes: retention (events, rescued saves, autosave thinning),
 * then temp files and unreferenced blobs. Safe while a server runs on the same data; prints what it freed.
 */
export async function gc(args: string[], env: Env): Promise<void> {
  const { values } = parseCommand(args, RETENTION_FLAGS);
  await withQuire({ ...storeOptions(values, env), ...retentionOptions(values, env) }, async (quire) => {
    console.log(JSON.stringify(await quire.maintain()));
  });
}

/** A word as a POSIX shell reads it back unchanged. */
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);

/**
 * Moves an embedded data dir (SQLite catalog, blobs on disk) to PostgreSQL (`--to`) and/or an S3 bucket
 * (`--blobs`): progress line by line, then a summary and how to start Quire on the result. The data dir is only
 * read. A refusal or failure (a target holding other data, a Quire still running, a blob that does not verify) is
 * printed without a usage hint and exits 1; re-running after an interruption carries on.
 */
export async function migrate(args: string[], env: Env): Promise<void> {
  const settings = migrateSettings(args, env);
  try {
    const summary = await migrateEmbeddedStore({
      dataDir: settings.dataDir,
      ...(settings.databaseUrl && { databaseUrl: settings.databaseUrl }),
      ...(settings.blobs && { blobs: settings.blobs }),
      live: settings.live,
      progress: (line) => console.log(redactSecrets(line)),
    });
    const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
    const { blobs } = summary;
    console.log(
      `Done: ${summary.tables.length ? `${summary.tables.length} tables (${rows} rows)` : 'the catalog stays in SQLite'}; ${blobs.count} blobs` +
        (blobs.moved
          ? ` (${blobs.copied} copied and verified, ${formatBytes(blobs.bytes)}; ${blobs.alreadyThere} already there)`
          : ' left where they are'),
    );
    const run = ['quire', 'serve', '--data', settings.dataDir];
    if (settings.databaseUrl) run.push('--database', describeDatabase(settings.databaseUrl));
    if (settings.blobs) {
      const b = settings.blobs;
      run.push('--s3-bucket', b.bucket);
      if (b.prefix) run.push('--s3-prefix', b.prefix);
      if (b.endpoint) run.push('--s3-endpoint', b.endpoint);
      if (b.region) run.push('--s3-region', b.region);
      if (b.forcePathStyle) run.push('--s3-path-style');
    }
    console.log(`Start Quire on it with: ${run.map(shellWord).join(' ')}`);
    console.log('(the data dir keeps the signing key, secret.key, unless QUIRE_SECRET gives it)');
  } catch (err) {
    if (!(err instanceof MigrationError)) throw err;
    console.error(redactSecrets(`quire migrate: ${err.message}`));
    process.exitCode = 1;
  }
}

const CHECK_USAGE = 'usage: quire check WOPISRC --token TOKEN [--timeout 10s] [--json]';

/**
 * A WOPI conformance check of any host over HTTP (see check/): one line per rule as it ends, then what was put back
 * and the counts. Exit code 0 when nothing failed, 1 when something did, 2 when the check could not run at all.
 */
export async function check(args: string[], env: Env): Promise<void> {
  const { values, positionals } = parseCommand(
    args,
    { token: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
    { count: 1, usage: CHECK_USAGE },
  );
  let url: URL;
  try {
    url = new URL(positionals[0] as string);
  } catch {
    throw new UsageError(`WOPISRC must be a URL such as http://host/wopi/files/ID (${CHECK_USAGE})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('WOPISRC must be an http(s) URL');
  // a token may come inside the WOPISRC, as editors receive it; the flag wins
  const token = values.token ?? env.QUIRE_CHECK_TOKEN ?? url.searchParams.get('access_token') ?? undefined;
  if (!token) throw new UsageError(`quire check needs --token TOKEN (or QUIRE_CHECK_TOKEN) (${CHECK_USAGE})`);
  const timeoutMs = values.timeout ? duration(values.timeout, '--timeout') : 10_000;
  if (timeoutMs <= 0) throw new UsageError('--timeout must be more than 0');
  const wopiSrc = `${url.origin}${url.pathname}`;
  const print = (text: string) => console.log(redactSecrets(text));
  if (!values.json) print(`Checking ${wopiSrc} (this changes the file; its content and name are put back at the end)`);
  try {
    const report = await runCheck({
      wopiSrc,
      token,
      timeoutMs,
      ...(!values.json && { onResult: (result, secrets) => print(formatResult(result, secrets)) }),
    });
    print(values.json ? formatJson(report) : formatSummary(report));
    process.exitCode = passed(report) ? 0 : 1;
  } catch (err) {
    if (!(err instanceof CheckAbortedError)) throw err;
    // the host, not the command line, is what went wrong: no usage hint
    console.error(redactSecrets(`quire check: ${err.message}`.split(token).join('[redacted]')));
    process.exitCode = 2;
  }
}

const WEBHOOK_USAGE =
  'usage: quire webhook add URL [--events TYPE,TYPE…] [--description TEXT] | list | delete ID | deliveries ID [--data DIR] [--database URL]';

/**
 * Webhooks, as admins manage them on the web page: add (prints the signing secret, once), list, delete, and one's
 * delivery log, newest first. A running server sends what is queued; the commands only read and write the store.
 */
export async function webhook(args: string[], env: Env): Promise<void> {
  const [sub, ...rest] = args;
  const counts: Record<string, number> = { add: 1, list: 0, delete: 1, deliveries: 1 };
  if (sub === undefined || !(sub in counts)) throw new UsageError(WEBHOOK_USAGE);
  const { values, positionals } = parseCommand(
    rest,
    { events: { type: 'string' }, description: { type: 'string' } },
    { count: counts[sub] as number, usage: WEBHOOK_USAGE },
  );
  await withQuire(storeOptions(values, env), async (quire) => {
    const hooks = quire.webhooks;
    if (!hooks) throw new UsageError('this storage keeps no webhooks');
    const [id = ''] = positionals;
    if (sub === 'add') {
      const events = values.events?.split(/[\s,]+/).filter((e) => e !== '');
      const { secret, ...created } = await hooks.register(
        { url: id, ...(events && { events }), ...(values.description && { description: values.description }) },
        { ...OPERATOR, userId: 'command-line' },
      );
      console.log(JSON.stringify({ ...webhookView(created), secret }));
    } else if (sub === 'list') {
      for (const h of await hooks.list()) console.log(JSON.stringify(webhookView(h)));
    } else if (sub === 'delete') {
      await hooks.remove(id, OPERATOR);
    } else {
      for (const d of await hooks.deliveries(id, { limit: 100 })) console.log(JSON.stringify(deliveryView(d)));
    }
  });
}
