import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_PERMISSIONS, DEFAULT_TOKEN_TTL_MS, parseDuration, READ_ONLY } from '../auth/tokens.ts';
import { Quire, recordedPublicUrl } from '../quire.ts';
import { NameError } from '../wopi/names.ts';

const USAGE = `Usage: quire <command> [options]

Commands:
  serve [--data DIR] [--port N] [--host H] [--public-url URL] [--max-upload BYTES] [--lock-ttl 30m] [--log-level L]
        Start the WOPI host (default data dir ./quire-data, port 8080, host 127.0.0.1).
  add PATH [--name NAME] [--owner ID] [--data DIR] [--public-url URL]
        Import a file; prints {"id","name","wopiSrc"} as one JSON line.
  token FILE_ID --user ID [--name DISPLAY] [--read-only] [--ttl 10h] [--data DIR]
        Mint an access token; prints {"access_token","access_token_ttl"} as one JSON line.

Environment: QUIRE_DATA, QUIRE_PORT, QUIRE_HOST, QUIRE_PUBLIC_URL, QUIRE_SECRET (token signing key).`;

class UsageError extends Error {}

const env = process.env;
const dataDirOf = (v: string | undefined) => resolve(v ?? env.QUIRE_DATA ?? 'quire-data');

function integer(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      'max-upload': { type: 'string' },
      'lock-ttl': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const dataDir = dataDirOf(values.data);
  const port = integer(values.port ?? env.QUIRE_PORT ?? '8080', '--port');
  const hostname = values.host ?? env.QUIRE_HOST ?? '127.0.0.1';
  const publicUrl = values['public-url'] ?? env.QUIRE_PUBLIC_URL;
  const quire = await Quire.create({
    dataDir,
    ...(publicUrl && { publicUrl }),
    ...(values['max-upload'] && { maxUploadBytes: integer(values['max-upload'], '--max-upload') }),
    ...(values['lock-ttl'] && { lockTtlMs: parseDuration(values['lock-ttl']) }),
    logger: { level: values['log-level'] ?? env.QUIRE_LOG_LEVEL ?? 'info' },
  });
  const url = await quire.listen(port, hostname);
  console.log(`Quire is listening on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`);
  console.log(`Public URL: ${url}   Data: ${dataDir}`);
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
      'public-url': { type: 'string' },
    },
  });
  const [path] = positionals;
  if (!path || positionals.length > 1) throw new UsageError('quire add takes exactly one PATH');
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw new UsageError(`not a readable file: ${path}`);
  const dataDir = dataDirOf(values.data);
  const publicUrl = values['public-url'] ?? env.QUIRE_PUBLIC_URL ?? (await recordedPublicUrl(dataDir));
  const quire = await Quire.create({ dataDir, ...(publicUrl && { publicUrl }) });
  try {
    const file = await quire.addFile({
      source: createReadStream(path),
      name: values.name ?? basename(path),
      ownerId: values.owner ?? 'admin',
    });
    console.log(JSON.stringify({ id: file.id, name: file.name, wopiSrc: quire.wopiSrc(file.id) }));
  } finally {
    await quire.close();
  }
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
    },
  });
  const [fileId] = positionals;
  if (!fileId || positionals.length > 1) throw new UsageError('quire token takes exactly one FILE_ID');
  if (!values.user) throw new UsageError('quire token needs --user ID');
  const quire = await Quire.create({ dataDir: dataDirOf(values.data) });
  try {
    if (!(await quire.host.storage.catalog.getFile(fileId))) throw new UsageError(`no file with id ${fileId}`);
    const minted = await quire.mintToken({
      fileId,
      userId: values.user,
      userName: values.name ?? values.user,
      permissions: values['read-only'] ? READ_ONLY : ALL_PERMISSIONS,
      ttlMs: values.ttl ? parseDuration(values.ttl) : DEFAULT_TOKEN_TTL_MS,
    });
    console.log(JSON.stringify(minted));
  } finally {
    await quire.close();
  }
}

const commands: Record<string, (args: string[]) => Promise<void>> = { serve, add, token };

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
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`quire: ${err instanceof Error ? err.message : String(err)}`);
  if (known) console.error('Run "quire --help" for usage.');
  else if (err instanceof Error && err.stack) console.error(err.stack);
  process.exit(known ? 2 : 1);
});
