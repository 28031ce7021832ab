/**
 * Quire as an integrator gets it: `npm pack` (its `prepare` build included), the tarball installed into a fresh app
 * in a temp dir outside the repository, then plain `node` (no tsx anywhere): the library and `quire/testing` import,
 * the public types check with `tsc`, the conformance kit runs under `node --test`, and `npx quire serve` serves.
 *
 * The install stays offline when it can: the app pins every package to the version Quire's lockfile chose (what
 * `npm ci` put in npm's cache), and better-sqlite3's installer is pointed at a prebuilt binary made from the
 * checkout's own compiled addon (same version, same Node), as its prebuild-install supports, rather than compiling
 * SQLite for two minutes; argon2 compiles in seconds. A registry that is needed and unreachable skips the test.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, REPO_ROOT, waitFor, withTimeout } from './helpers/process-helpers.ts';

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout and stderr as they came */
  output: string;
}

/**
 * The environment the app's commands run in: the Node running this test first on the PATH (so `npm`, `npx` and
 * the addons' builds use it), nothing of Quire's settings, no loader, and nothing of an enclosing `npm test` that
 * would point npm back at the checkout (its package, its prefix), nor of the test runner that runs this file (which
 * would make a `node --test` below report to it); npm's own configuration (cache, nodedir) stays.
 */
function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(QUIRE_|npm_package_|npm_lifecycle_)|^(NODE_OPTIONS|NODE_TEST_CONTEXT|INIT_CWD|npm_config_local_prefix|npm_command)$/.test(
        k,
      )
    ) {
      continue;
    }
    env[k] = v;
  }
  env.PATH = [dirname(process.execPath), process.env.PATH].join(delimiter);
  return { ...env, ...extra };
}

const children = new Set<ChildProcess>();

/** Runs a command to completion in `cwd`. */
async function run(
  command: string,
  args: string[],
  cwd: string,
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Ran> {
  const child = spawn(command, args, { cwd, env: appEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    output += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  const closed = new Promise<Ran>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, output }));
  });
  try {
    return await withTimeout(closed, options.timeoutMs ?? 60_000, `${command} ${args.join(' ')}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    children.delete(child);
  }
}

const succeeded = (ran: Ran, what: string) =>
  assert.equal(ran.code, 0, `${what} exited ${ran.code ?? ran.signal}:\n${ran.output.slice(-4000)}`);

/** Errors npm reports when it needed the registry and could not reach it (or, offline, found nothing cached). */
const UNREACHABLE = /\b(ENOTCACHED|EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)\b/;

/**
 * npm `overrides` pinning every package Quire installs to the version its lockfile holds (nested copies under
 * their parent), so the fresh app resolves to what `npm ci` already fetched.
 */
async function lockfilePins(): Promise<Record<string, unknown>> {
  const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dev?: boolean; link?: boolean }>;
  };
  type Pins = { [name: string]: string | Pins };
  const pins: Pins = {};
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.dev || entry.link || !entry.version) continue;
    const names = path
      .split('node_modules/')
      .slice(1)
      .map((n) => n.replace(/\/$/, ''));
    let at = pins;
    for (const name of names.slice(0, -1)) {
      const found = at[name];
      const nested: Pins = typeof found === 'object' ? found : found ? { '.': found } : {};
      at[name] = nested;
      at = nested;
    }
    const name = names.at(-1) as string;
    const found = at[name];
    if (typeof found === 'object') found['.'] = entry.version;
    else at[name] = entry.version;
  }
  return pins;
}

/**
 * A directory holding better-sqlite3's prebuilt binary as its installer (prebuild-install) looks for one, made from
 * the checkout's compiled addon; none when that addon is missing (the install then compiles it).
 */
async function localPrebuilds(into: string): Promise<Record<string, string>> {
  const addon = join(REPO_ROOT, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(await readFile(join(addon, 'package.json'), 'utf8')) as { version: string };
  const dir = join(into, 'prebuilds');
  await mkdir(dir);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const packed = await run('tar', ['-czf', join(dir, name), 'build/Release/better_sqlite3.node'], addon);
  return packed.code === 0 ? { npm_config_better_sqlite3_local_prebuilds: dir } : {};
}

/** The files `npm pack` needs to build and pack Quire: what it ships, plus the sources and compiler settings. */
async function stageCheckout(into: string): Promise<void> {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of [...pkg.files.filter((f) => f !== 'dist'), 'package.json', 'tsconfig.json', 'src']) {
    await cp(join(REPO_ROOT, entry), join(into, entry), { recursive: true });
  }
  for (const config of (await readdir(REPO_ROOT)).filter((f) => /^tsconfig\..+\.json$/.test(f))) {
    await cp(join(REPO_ROOT, config), join(into, config));
  }
  // the build's compiler, and nothing else of the checkout's dependencies: npm pack leaves node_modules out
  await symlink(join(REPO_ROOT, 'node_modules'), join(into, 'node_modules'));
}

/** What the app type-checks: the public types used as an integrator would, and two misuses tsc must refuse. */
const TYPED_USE = `import { openSqliteStorage, Quire, QuireError, type QuireOptions, type Storage, WopiHeaders } from 'quire';
import { runStorageContract, type StorageBackend, type StoreFixture } from 'quire/testing';

export const backend: StorageBackend = {
  name: 'typed',
  open: (dir: string): Promise<Storage> => openSqliteStorage(dir),
  openPeer: (dir) => openSqliteStorage(dir),
};
export const options: Partial<QuireOptions> = {};
export const header: string = WopiHeaders.lock;
export const isQuireError = (err: unknown): err is QuireError => err instanceof QuireError;
export const quire: typeof Quire = Quire;
export const fixtureDir = (fixture: StoreFixture): string => fixture.dir;
export const declare = (): void => runStorageContract(backend, { skip: ['users', 'access'] });

// @ts-expect-error open must give a Storage
export const wrongStore: StorageBackend = { name: 'wrong', open: async () => 42 };
// @ts-expect-error no such suite
runStorageContract(backend, { skip: ['nonsense'] });
`;

describe('the npm package, installed into a fresh app and run with plain node', { timeout: 240_000 }, () => {
  let work: string;
  let app: string;
  let unreachable: string | undefined;
  let packed: string[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'quire-package-'));
    const stage = join(work, 'quire');
    await mkdir(stage);
    await stageCheckout(stage);
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], stage, { timeoutMs: 180_000 });
    succeeded(pack, 'npm pack');
    // the build's own output comes first; the report is the JSON array at the end
    const report = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[$/m)));
    const [{ filename, files }] = report as [{ filename: string; files: { path: string }[] }];
    packed = files.map((f) => f.path);

    app = join(work, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'fresh-app',
          private: true,
          type: 'module',
          overrides: await lockfilePins(),
          allowScripts: { argon2: true, 'better-sqlite3': true },
        },
        null,
        2,
      ),
    );
    const install = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, filename)],
      app,
      { timeoutMs: 180_000, env: await localPrebuilds(work) },
    );
    if (install.code !== 0 && UNREACHABLE.test(install.output)) {
      unreachable = `npm needed the registry and could not reach it: ${UNREACHABLE.exec(install.output)?.[0]}`;
      return;
    }
    succeeded(install, 'npm install of the tarball');
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the tarball holds the compiled build, the bin and the templates, and no sources or tests', () => {
    for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts']) {
      assert.ok(packed.includes(file), `${file} is packed`);
    }
    assert.ok(packed.includes('dist/testing/peer-process.js'), "the kit's helper process is packed");
    assert.ok(packed.includes('bin/quire.js'));
    assert.ok(packed.includes('dist/cli/main.js'));
    assert.ok(
      packed.some((f) => f.startsWith('templates/')),
      'the blank templates',
    );
    assert.deepEqual(
      packed.filter((f) => /^(src|test)\/|\.ts$/.test(f) && !f.endsWith('.d.ts')),
      [],
      'no TypeScript sources',
    );
  });

  it('imports the library and quire/testing with plain node; tsx is not installed', async (t) => {
    if (unreachable) return t.skip(unreachable);
    const script = [
      "import * as quire from 'quire';",
      "import * as testing from 'quire/testing';",
      'console.log(JSON.stringify({ quire: Object.keys(quire), testing: Object.keys(testing) }));',
    ].join('\n');
    const ran = await run(process.execPath, ['--input-type=module', '-e', script], app);
    succeeded(ran, 'node -e import');
    const names = JSON.parse(ran.stdout) as Record<string, string[]>;
    for (const name of ['Quire', 'openSqliteStorage', 'openPostgresStorage', 'QuireError', 'TokenService']) {
      assert.ok(names.quire?.includes(name), `quire exports ${name}`);
    }
    for (const name of ['runStorageContract', 'catalogContract', 'lockStoreContract', 'blobStoreContract']) {
      assert.ok(names.testing?.includes(name), `quire/testing exports ${name}`);
    }
    const installed = await readdir(join(app, 'node_modules'));
    assert.ok(!installed.includes('tsx'), 'tsx is a development dependency only');
    assert.ok(!installed.includes('typescript'));
  });

  it("type-checks an app's use of the public types with tsc (and tsc refuses misuse)", async (t) => {
    if (unreachable) return t.skip(unreachable);
    await writeFile(join(app, 'use.ts'), TYPED_USE);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          // node's own types from the checkout: the app needs no package beyond Quire for this
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // the misuses in TYPED_USE are marked @ts-expect-error: were the types missing or loose (any), tsc would fail
    // on the unused marks, so a pass also says it refuses them
    succeeded(await run(process.execPath, [tsc, '-p', 'tsconfig.json'], app), 'tsc');
  });

  it('runs the conformance kit from the package against its SQLite store with node --test', async (t) => {
    if (unreachable) return t.skip(unreachable);
    // the backend in a module of its own (the kit's helper process loads it from there); the test file uses it
    await writeFile(
      join(app, 'backend.js'),
      [
        "import { openSqliteStorage } from 'quire';",
        'export default {',
        "  name: 'packaged-sqlite',",
        '  open: (dir) => openSqliteStorage(dir),',
        '  openPeer: (dir) => openSqliteStorage(dir),',
        '  module: import.meta.url,',
        '};',
      ].join('\n'),
    );
    await writeFile(
      join(app, 'storage.test.js'),
      [
        "import { runStorageContract } from 'quire/testing';",
        "import backend from './backend.js';",
        "runStorageContract(backend, { skip: ['thinning'] });",
      ].join('\n'),
    );
    const ran = await run(process.execPath, ['--test', '--test-reporter=tap', 'storage.test.js'], app, {
      timeoutMs: 150_000,
    });
    succeeded(ran, 'node --test storage.test.js');
    const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(ran.output)?.[1]);
    assert.ok(count('pass') > 80, `${count('pass')} passed`);
    assert.equal(count('fail'), 0);
    assert.equal(count('skipped'), 0, 'with openPeer and module, the two-instance and two-process tests run');
    assert.match(ran.output, /ok \d+ - compare-and-set across processes/);
    assert.doesNotMatch(ran.output, /Catalog autosave thinning/, 'a skipped suite is not declared');
  });

  it('`npx quire serve` listens on a free port on 127.0.0.1 and answers /readyz with 200', async (t) => {
    if (unreachable) return t.skip(unreachable);
    const port = await freePort();
    const server = spawn('npx', ['--no', 'quire', 'serve', '--port', String(port), '--data', join(app, 'data')], {
      cwd: app,
      env: appEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: npx runs the bin in a child, and both are ended together by the group's id
      detached: true,
    });
    children.add(server);
    let output = '';
    server.stdout?.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    server.stderr?.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      const ready = await waitFor(
        async () => {
          if (server.exitCode !== null) throw new Error(`quire serve exited ${server.exitCode}:\n${output}`);
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          return res.status === 200 ? ((await res.json()) as { ready: boolean }) : undefined;
        },
        60_000,
        `/readyz of the packaged quire serve (output so far: ${output})`,
      );
      assert.equal(ready?.ready, true);
      assert.match(output, new RegExp(`listening (?:at|on) http://127\\.0\\.0\\.1:${port}`));
      const css = await fetch(`http://127.0.0.1:${port}/static/app.css`);
      assert.equal(css.status, 200, "the web app's assets are in the package");
    } finally {
      if (server.pid && server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
      await withTimeout(exited, 20_000, 'quire serve to stop');
      children.delete(server);
    }
  });
});
