import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { serveSettings } from '../src/cli/options.ts';
import { freePort, GiveUp, REPO_ROOT, waitFor, withTimeout } from './helpers/process-helpers.ts';

/**
 * The Dockerfile and the compose files in deploy/, checked as far as they can be without running Docker (no image
 * is built or pulled here): the image's command is one the CLI takes, its environment is what the CLI reads, its
 * health check passes against a real Quire and fails without one; the compose files are valid Compose (when
 * `docker compose` or `docker-compose` is installed) and every URL in them works from the browser and from the other
 * container alike.
 */

const run = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments and parser directives left out. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (pending === '' && (/^\s*#/.test(line) || line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    const m = /^(\w+)\s+([\s\S]*)$/.exec(whole);
    assert.ok(m, `a Dockerfile instruction: ${whole}`);
    out.push({ keyword: (m[1] as string).toUpperCase(), args: m[2] as string });
  }
  return out;
}

const dockerfile = instructions(await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
/** From the runtime stage (after the last FROM): what the image is. */
const runtime = dockerfile.slice(dockerfile.findLastIndex((i) => i.keyword === 'FROM'));

function only(keyword: string): string {
  const found = runtime.filter((i) => i.keyword === keyword);
  assert.equal(found.length, 1, `one ${keyword} in the runtime stage`);
  return (found[0] as Instruction).args;
}

/** An exec-form (JSON array) argument, as Docker reads it. */
function execForm(args: string, what: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'), `${what} in exec form`);
  return parsed as string[];
}

/** The image's environment: every ENV KEY=VALUE of the runtime stage. */
const imageEnv: Record<string, string> = {};
for (const env of runtime.filter((i) => i.keyword === 'ENV')) {
  for (const pair of env.args.split(/\s+/).filter((p) => p !== '')) {
    const m = /^(\w+)=(.*)$/.exec(pair);
    assert.ok(m, `ENV in KEY=VALUE form: ${pair}`);
    imageEnv[m[1] as string] = m[2] as string;
  }
}
const entrypoint = execForm(only('ENTRYPOINT'), 'ENTRYPOINT');
const cmd = execForm(only('CMD'), 'CMD');
const healthcheck = /^(?:--\S+\s+)*CMD\s+(\[[\s\S]*\])$/.exec(only('HEALTHCHECK'));
assert.ok(healthcheck, 'HEALTHCHECK [OPTIONS] CMD [exec form]');
const healthCommand = execForm(healthcheck[1] as string, 'HEALTHCHECK CMD');

/** The settings `quire serve` takes from the image's command and environment (plus `env`), by Quire's own parser. */
function imageServeSettings(env: Record<string, string> = {}) {
  assert.equal(cmd[0], 'serve', 'the image runs quire serve');
  return serveSettings(cmd.slice(1), { ...imageEnv, ...env });
}

/** Runs the image's health check command with `env`; its exit code. */
function runHealthcheck(env: Record<string, string>): Promise<number | null> {
  assert.equal(healthCommand[0], 'node', 'the health check runs node (the slim image has no curl)');
  const child = spawn(process.execPath, healthCommand.slice(1), { env: { ...env }, stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

describe('Dockerfile', () => {
  it("runs the CLI's serve on 0.0.0.0 with its data in the /data volume, on the port it exposes", () => {
    assert.deepEqual(entrypoint, ['node', 'bin/quire.js'], 'ENTRYPOINT');
    const { hostname, port, options } = imageServeSettings();
    assert.equal(hostname, '0.0.0.0', 'reachable from outside the container');
    assert.deepEqual(only('EXPOSE').split(/\s+/), [String(port)], 'EXPOSE names the port Quire listens on');
    assert.equal(options.dataDir, '/data');
    assert.deepEqual(execForm(only('VOLUME'), 'VOLUME'), ['/data'], 'the data dir is the volume');
    // every command, not only serve, finds the data there (`docker compose exec quire node bin/quire.js user add …`)
    assert.equal(imageEnv.QUIRE_DATA, '/data');
  });

  it('runs as an unprivileged user, not root', () => {
    const user = only('USER');
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
  });

  it('copies what the package ships into the image: the build, bin/, templates/ and package.json', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      files: string[];
      bin: Record<string, string>;
    };
    const copied = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/).at(-2));
    for (const shipped of [...pkg.files.filter((f) => !f.endsWith('.md')), 'package.json', 'node_modules']) {
      assert.ok(copied.includes(`/app/${shipped}`), `${shipped} is copied into the image (copied: ${copied})`);
    }
    assert.equal(pkg.bin.quire, entrypoint[1], "the ENTRYPOINT runs the package's bin");
    assert.equal(only('WORKDIR'), '/app');
  });

  it('sets only environment variables the CLI reads', async () => {
    const options = await readFile(join(REPO_ROOT, 'src', 'cli', 'options.ts'), 'utf8');
    for (const name of Object.keys(imageEnv).filter((k) => k.startsWith('QUIRE_'))) {
      assert.match(options, new RegExp(`env\\.${name}\\b`), `src/cli/options.ts reads ${name}`);
    }
  });

  describe('its health check, against a real `quire serve` started as the image starts it', () => {
    const dirs: string[] = [];
    let server: ChildProcess | undefined;
    after(async () => {
      if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    it('passes while Quire serves (under its public URL path too) and fails when it is gone', async () => {
      const data = await mkdtemp(join(tmpdir(), 'quire-docker-health-'));
      dirs.push(data);
      const port = String(await freePort());
      // the image's environment and nothing else (none of the developer's QUIRE_* settings), but on 127.0.0.1 (the
      // tests never listen beyond it) and under a path, which moves /healthz to /office/healthz; the sources, as
      // every test runs them
      const env = {
        ...imageEnv,
        QUIRE_DATA: data,
        QUIRE_HOST: '127.0.0.1',
        QUIRE_PORT: port,
        QUIRE_PUBLIC_URL: `http://127.0.0.1:${port}/office`,
        QUIRE_LOG_LEVEL: 'warn',
      };
      assert.equal(entrypoint[0], 'node');
      const child = spawn(process.execPath, [join(REPO_ROOT, entrypoint[1] as string), ...cmd], {
        cwd: REPO_ROOT,
        env: { ...env, QUIRE_FROM_SOURCE: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      server = child;
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new GiveUp(`quire ${cmd.join(' ')} exited: ${stderr}`);
          return (await fetch(`http://127.0.0.1:${port}/office/healthz`)).status === 200;
        },
        30_000,
        'quire serve to answer /office/healthz',
      );
      assert.equal(await runHealthcheck(env), 0, 'healthy while serving');
      const { QUIRE_PUBLIC_URL: _, ...withoutPath } = env;
      assert.equal(await runHealthcheck(withoutPath), 1, 'a check of /healthz outside the public path fails');
      child.kill('SIGKILL');
      await withTimeout(exited, 10_000, 'quire serve to exit');
      assert.equal(await runHealthcheck(env), 1, 'unhealthy once nothing listens');
    });
  });
});

/** `docker compose` (v2) or `docker-compose` (v1), whichever is installed, or why neither can be used. */
async function composeTool(): Promise<{ command: string[] } | { missing: string }> {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    try {
      await run(command[0] as string, [...command.slice(1), 'version'], { timeout: 20_000 });
      return { command };
    } catch {
      // not installed, or no compose plugin: try the next
    }
  }
  return { missing: 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)' };
}

const tool = await composeTool();
const composeSkip = 'missing' in tool ? { skip: `compose files not validated: ${tool.missing}` } : {};

type Service = {
  build?: { context?: string } | string;
  environment?: Record<string, string | null> | string[];
  ports?: (string | { host_ip?: string; target: number | string; published?: number | string })[];
  networks?: Record<string, { aliases?: string[] } | null>;
};

/** The compose file as Compose itself reads it (validated, normalized), as a plain object. */
async function composeConfig(file: string): Promise<{ services: Record<string, Service> }> {
  if ('missing' in tool) throw new Error(tool.missing);
  const [bin, ...args] = tool.command as [string, ...string[]];
  const path = join(REPO_ROOT, file);
  if (bin === 'docker') {
    const { stdout } = await run(bin, [...args, '-f', path, 'config', '--format', 'json'], { timeout: 60_000 });
    return JSON.parse(stdout);
  }
  // docker-compose v1 prints YAML only; it is a Python program, and PyYAML (one of its dependencies) reads that
  const { stdout } = await run(bin, ['-f', path, 'config'], { timeout: 60_000 });
  const json = await new Promise<string>((resolve, reject) => {
    const python = execFile(
      'python3',
      ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
      { timeout: 60_000 },
      (err, out) => (err ? reject(err) : resolve(out)),
    );
    python.stdin?.end(stdout);
  });
  return JSON.parse(json);
}

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const pairs = Array.isArray(env)
    ? env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])
    : Object.entries(env).map(([k, v]) => [k, v ?? '']);
  return Object.fromEntries(pairs);
}

/** The service's published ports, in v1's strings ("127.0.0.1:8080:8080/tcp") or v2's objects alike. */
function published(service: Service): { hostIp: string; published: number; target: number }[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'string') {
      const m = /^(?:([\d.]+):)?(\d+):(\d+)(?:\/tcp)?$/.exec(p);
      assert.ok(m, `a port mapping: ${p}`);
      return { hostIp: m[1] ?? '', published: Number(m[2]), target: Number(m[3]) };
    }
    return { hostIp: p.host_ip ?? '', published: Number(p.published), target: Number(p.target) };
  });
}

function aliases(service: Service): string[] {
  return Object.values(service.networks ?? {}).flatMap((n) => n?.aliases ?? []);
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/**
 * The one rule both setups live by: `url` must work from the browser on the host and from the other container.
 * Its host is a *.localhost name (browsers send it to 127.0.0.1) that is also the service's alias on the compose
 * network, and its port is published on 127.0.0.1 as the same port inside the container.
 */
function assertReachableFromBoth(url: URL, service: Service, listens: number, what: string): void {
  assert.match(url.hostname, /\.localhost$/, `${what}: a name browsers resolve to this machine`);
  assert.ok(aliases(service).includes(url.hostname), `${what}: ${url.hostname} is the service's network alias`);
  assert.equal(portOf(url), listens, `${what}: the port the service listens on inside its container`);
  assert.ok(
    published(service).some((p) => p.published === listens && p.target === listens && p.hostIp === '127.0.0.1'),
    `${what}: port ${listens} published on 127.0.0.1 as the same port inside (${JSON.stringify(service.ports)})`,
  );
}

/** Quire's service in `config`: built from this checkout, its settings read by the CLI's own parser. */
function quireService(config: { services: Record<string, Service> }) {
  const quire = config.services.quire;
  assert.ok(quire, 'a service named quire');
  const context = typeof quire.build === 'string' ? quire.build : quire.build?.context;
  assert.equal(resolve(context ?? ''), resolve(REPO_ROOT), 'built from the checkout (the Dockerfile at its root)');
  const env = environment(quire);
  const settings = imageServeSettings(env);
  assert.ok(settings.options.publicUrl, 'QUIRE_PUBLIC_URL is set: WOPISrc must not say 127.0.0.1');
  assert.ok(settings.options.editor?.url, 'QUIRE_EDITOR_URL is set');
  assert.notEqual(settings.options.editor?.proofKeys, 'off', "the editor's proofs are checked");
  assertReachableFromBoth(new URL(settings.options.publicUrl), quire, settings.port, 'QUIRE_PUBLIC_URL');
  return { service: quire, env, settings, publicUrl: new URL(settings.options.publicUrl) };
}

describe('deploy/ compose files', composeSkip, () => {
  it('every QUIRE_ variable in them is one the CLI reads', async () => {
    const options = await readFile(join(REPO_ROOT, 'src', 'cli', 'options.ts'), 'utf8');
    for (const file of ['deploy/onlyoffice/compose.yml', 'deploy/collabora/compose.yml']) {
      const config = await composeConfig(file);
      for (const name of Object.keys(environment(config.services.quire ?? {}))) {
        assert.match(name, /^QUIRE_/, `${file}: Quire is configured through QUIRE_* only`);
        assert.match(options, new RegExp(`env\\.${name}\\b`), `${file}: src/cli/options.ts reads ${name}`);
      }
    }
  });

  it('ONLYOFFICE Docs: WOPI on, Quire reachable from its container, its discovery URL the browser can load', async () => {
    const config = await composeConfig('deploy/onlyoffice/compose.yml');
    const { settings } = quireService(config);
    const onlyoffice = config.services.onlyoffice;
    assert.ok(onlyoffice, 'a service named onlyoffice');
    assert.match(String((onlyoffice as { image?: string }).image), /^onlyoffice\/documentserver(:|$)/);
    const env = environment(onlyoffice);
    assert.equal(env.WOPI_ENABLED, 'true', 'WOPI is off in ONLYOFFICE Docs unless enabled');
    assert.equal(env.ALLOW_PRIVATE_IP_ADDRESS, 'true', 'ONLYOFFICE refuses private addresses (Quire is one)');
    // its nginx listens on 80 in the container
    assertReachableFromBoth(new URL(settings.options.editor?.url as string), onlyoffice, 80, 'QUIRE_EDITOR_URL');
  });

  it('Collabora Online: Quire in its alias group, plain HTTP, its discovery URL the browser can load', async () => {
    const config = await composeConfig('deploy/collabora/compose.yml');
    const { settings, publicUrl } = quireService(config);
    const collabora = config.services.collabora;
    assert.ok(collabora, 'a service named collabora');
    assert.match(String((collabora as { image?: string }).image), /^collabora\/code(:|$)/);
    const env = environment(collabora);
    assert.equal(env.aliasgroup1, publicUrl.origin, 'Collabora opens documents only from the hosts it is given');
    assert.match(env.extra_params ?? '', /--o:ssl\.enable=false\b/, 'plain HTTP, as the URLs say');
    const editorUrl = new URL(settings.options.editor?.url as string);
    assert.equal(editorUrl.protocol, 'http:');
    assertReachableFromBoth(editorUrl, collabora, 9980, 'QUIRE_EDITOR_URL');
  });
});
