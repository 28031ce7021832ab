import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_PERMISSIONS, DEFAULT_TOKEN_TTL_MS, parseDuration, READ_ONLY } from '../auth/tokens.ts';
import { NameError } from '../documents/names.ts';
import { Quire, type QuireOptions, recordedPublicUrl } from '../quire.ts';
import { InvalidUserInputError, UserExistsError } from '../users/accounts.ts';

const USAGE = `Usage: quire <command> [options]

Commands:
  serve [--data DIR] [--port N] [--host H] [--public-url URL] [--max-upload BYTES] [--lock-ttl 30m] [--log-level L]
        [--editor URL] [--editor-flavour onlyoffice|collabora|microsoft] [--proof-keys off|log|enforce]
        [--ui-language en-US] [--trusted-user-header X-Remote-User] [--metrics] [--database URL]
        Start the WOPI host (default data dir ./quire-data, port 8080, host 127.0.0.1).
        --database postgres://… keeps files, versions, locks and users in PostgreSQL (blobs stay in DIR/blobs);
        add, token and user add take it too, and must be given the same one.
  user add NAME [--display-name NAME] [--admin] [--data DIR] [--database URL]
        Add a user who can sign in to Quire's pages. The password is read from QUIRE_PASSWORD, else from standard
        input (first line), else asked for on the terminal.
  add PATH [--name NAME] [--owner ID] [--data DIR] [--database URL] [--public-url URL]
        Import a file; prints {"id","name","wopiSrc"} as one JSON line.
  token FILE_ID --user ID [--name DISPLAY] [--read-only] [--ttl 10h] [--data DIR] [--database URL]
        Mint an access token; prints {"access_token","access_token_ttl"} as one JSON line.

Environment: QUIRE_DATA, QUIRE_DATABASE_URL, QUIRE_PORT, QUIRE_HOST, QUIRE_PUBLIC_URL, QUIRE_SECRET (token signing
key), QUIRE_EDITOR_URL, QUIRE_EDITOR_FLAVOUR, QUIRE_PROOF_KEYS, QUIRE_UI_LANGUAGE, QUIRE_TRUSTED_USER_HEADER, QUIRE_METRICS=1.`;

const FLAVOURS = ['onlyoffice', 'collabora', 'microsoft', 'generic'] as const;
const PROOF_MODES = ['off', 'log', 'enforce'] as const;

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${what} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

class UsageError extends Error {}

const env = process.env;
const dataDirOf = (v: string | undefined) => resolve(v ?? env.QUIRE_DATA ?? 'quire-data');
/** `{ databaseUrl }` for Quire.create when PostgreSQL is asked for, else nothing (the embedded SQLite store). */
const databaseOf = (v: string | undefined) => {
  const databaseUrl = v ?? env.QUIRE_DATABASE_URL;
  return databaseUrl ? { databaseUrl } : {};
};

function integer(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** Runs a one-shot command against the store, closing it however the command ends. */
async function withQuire(options: QuireOptions, work: (quire: Quire) => Promise<void>): Promise<void> {
  const quire = await Quire.create(options);
  try {
    await work(quire);
  } finally {
    await quire.close();
  }
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      database: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      'max-upload': { type: 'string' },
      'lock-ttl': { type: 'string' },
      'log-level': { type: 'string' },
      editor: { type: 'string' },
      'editor-flavour': { type: 'string' },
      'proof-keys': { type: 'string' },
      'ui-language': { type: 'string' },
      'trusted-user-header': { type: 'string' },
      metrics: { type: 'boolean' },
    },
  });
  const editorUrl = values.editor ?? env.QUIRE_EDITOR_URL;
  const flavour = oneOf(values['editor-flavour'] ?? env.QUIRE_EDITOR_FLAVOUR, FLAVOURS, '--editor-flavour');
  const proofKeys = oneOf(values['proof-keys'] ?? env.QUIRE_PROOF_KEYS, PROOF_MODES, '--proof-keys');
  const uiLanguage = values['ui-language'] ?? env.QUIRE_UI_LANGUAGE;
  const trustedUserHeader = values['trusted-user-header'] ?? env.QUIRE_TRUSTED_USER_HEADER;
  const dataDir = dataDirOf(values.data);
  const port = integer(values.port ?? env.QUIRE_PORT ?? '8080', '--port');
  const hostname = values.host ?? env.QUIRE_HOST ?? '127.0.0.1';
  const publicUrl = values['public-url'] ?? env.QUIRE_PUBLIC_URL;
  const quire = await Quire.create({
    dataDir,
    ...databaseOf(values.database),
    ...(publicUrl && { publicUrl }),
    ...(values['max-upload'] && { maxUploadBytes: integer(values['max-upload'], '--max-upload') }),
    ...(values['lock-ttl'] && { lockTtlMs: parseDuration(values['lock-ttl']) }),
    logger: { level: values['log-level'] ?? env.QUIRE_LOG_LEVEL ?? 'info' },
    editor: {
      ...(editorUrl && { url: editorUrl }),
      ...(flavour && { flavour }),
      ...(proofKeys && { proofKeys }),
      ...(uiLanguage && { uiLanguage }),
    },
    ...(trustedUserHeader && { trustedUserHeader }),
    metrics: values.metrics === true || env.QUIRE_METRICS === '1',
  });
  const url = await quire.listen(port, hostname);
  const bound = quire.app.server.address();
  const boundPort = bound && typeof bound === 'object' ? bound.port : port;
  console.log(`Quire is listening on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${boundPort}`);
  console.log(`Public URL: ${url}   Data: ${dataDir}`);
  const accounts = quire.accounts;
  if (accounts && (await accounts.list()).length === 0) {
    console.log('No one can sign in yet: add someone with `npx quire user add NAME --admin` (works while serving).');
  }
  console.log(
    editorUrl ? `Editor: ${editorUrl} (discovery at ${quire.editor.discovery?.discoveryUrl})` : 'Editor: none',
  );
  if (editorUrl) {
    quire.editor.current().then(
      (d) => console.log(`Editor discovery read: ${d?.flavour}, ${d?.actions.length} actions`),
      (err: Error) => console.error(`Editor discovery failed (will retry): ${err.message}`),
    );
  }
  const stop = async () => {
    await quire.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function add(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      owner: { type: 'string' },
      data: { type: 'string' },
      database: { type: 'string' },
      'public-url': { type: 'string' },
    },
  });
  const [path] = positionals;
  if (!path || positionals.length > 1) throw new UsageError('quire add takes exactly one PATH');
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw new UsageError(`not a readable file: ${path}`);
  const dataDir = dataDirOf(values.data);
  const publicUrl = values['public-url'] ?? env.QUIRE_PUBLIC_URL ?? (await recordedPublicUrl(dataDir));
  await withQuire({ dataDir, ...databaseOf(values.database), ...(publicUrl && { publicUrl }) }, async (quire) => {
    const file = await quire.addFile({
      source: createReadStream(path),
      name: values.name ?? basename(path),
      ownerId: values.owner ?? 'admin',
    });
    console.log(JSON.stringify({ id: file.id, name: file.name, wopiSrc: quire.wopiSrc(file.id) }));
  });
}

async function token(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      name: { type: 'string' },
      'read-only': { type: 'boolean' },
      ttl: { type: 'string' },
      data: { type: 'string' },
      database: { type: 'string' },
    },
  });
  const [fileId] = positionals;
  if (!fileId || positionals.length > 1) throw new UsageError('quire token takes exactly one FILE_ID');
  const userId = values.user;
  if (!userId) throw new UsageError('quire token needs --user ID');
  await withQuire({ dataDir: dataDirOf(values.data), ...databaseOf(values.database) }, async (quire) => {
    if (!(await quire.host.storage.catalog.getFile(fileId))) throw new UsageError(`no file with id ${fileId}`);
    const minted = await quire.mintToken({
      fileId,
      userId,
      userName: values.name ?? userId,
      permissions: values['read-only'] ? READ_ONLY : ALL_PERMISSIONS,
      ttlMs: values.ttl ? parseDuration(values.ttl) : DEFAULT_TOKEN_TTL_MS,
    });
    console.log(JSON.stringify(minted));
  });
}

async function readPassword(): Promise<string> {
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

async function user(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'add') {
    throw new UsageError('usage: quire user add NAME [--display-name NAME] [--admin] [--data DIR] [--database URL]');
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'display-name': { type: 'string' },
      admin: { type: 'boolean' },
      data: { type: 'string' },
      database: { type: 'string' },
    },
  });
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new UsageError('quire user add takes exactly one NAME');
  await withQuire({ dataDir: dataDirOf(values.data), ...databaseOf(values.database) }, async (quire) => {
    const accounts = quire.accounts;
    if (!accounts) throw new UsageError('this storage has no user store');
    const created = await accounts.create({
      name,
      password: await readPassword(),
      ...(values['display-name'] && { displayName: values['display-name'] }),
      ...(values.admin && { isAdmin: true }),
    });
    console.log(
      JSON.stringify({
        id: created.id,
        name: created.name,
        displayName: created.displayName,
        isAdmin: created.isAdmin,
      }),
    );
  });
}

const commands: Record<string, (args: string[]) => Promise<void>> = { serve, add, token, user };

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  const run = commands[command];
  if (!run) throw new UsageError(`unknown command: ${command}`);
  await run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const known =
    err instanceof UsageError ||
    err instanceof NameError ||
    err instanceof UserExistsError ||
    err instanceof InvalidUserInputError ||
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`quire: ${err instanceof Error ? err.message : String(err)}`);
  if (known) console.error('Run "quire --help" for usage.');
  else if (err instanceof Error && err.stack) console.error(err.stack);
  process.exit(known ? 2 : 1);
});
