import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiAs, signIn, startHost, type TestHost, WopiClient } from './helpers/host.ts';
import { REPO_ROOT, waitFor } from './helpers/process-helpers.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

/**
 * examples/sidecar: the Python app (standard library only) drives a real Quire with an API key: it registers a
 * webhook, imports a document, mints a token for its user alice and opens the host-page URL; an editor (the test,
 * speaking WOPI with the token the host page hands the editor) saves; the app prints the verified webhook.
 */

interface Step {
  step: string;
  [field: string]: unknown;
}

describe('examples/sidecar: a Python app beside Quire', () => {
  let host: TestHost;
  let editor: StandInEditor;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    editor = await startStandInEditor();
    host = await startHost({ clock: { now: () => Date.now() }, editor: { url: editor.url } });
    dir = await mkdtemp(join(tmpdir(), 'quire-sidecar-'));
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await host?.close();
    await editor?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports, mints a token for alice, opens the host page and receives the verified webhook for her save', async () => {
    const root = await signIn(host, 'root', { isAdmin: true });
    const admin = apiAs(host, root.cookie, { 'Content-Type': 'application/json' });
    const made = await admin('/api/admin/api-keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'Python sidecar', scopes: ['files:write', 'tokens', 'webhooks'] }),
    });
    assert.equal(made.status, 201, made.text);
    const { id: keyId, key } = made.json as { id: string; key: string };
    const document = join(dir, 'Minutes.docx');
    await writeFile(document, 'the minutes, first draft');

    const env = { ...process.env, QUIRE_API_KEY: key };
    child = spawn(
      'python3',
      [
        join(REPO_ROOT, 'examples', 'sidecar', 'sidecar.py'),
        '--quire',
        host.url,
        '--document',
        document,
        '--timeout',
        '60',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const steps: Step[] = [];
    let stderr = '';
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        steps.push(JSON.parse(buffered.slice(0, end)) as Step);
        buffered = buffered.slice(end + 1);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    const stepNamed = (name: string): Promise<Step> =>
      waitFor<Step | undefined>(
        () => {
          if (child?.exitCode !== null && !steps.some((s) => s.step === name)) {
            throw new Error(`the app exited ${child?.exitCode} before "${name}": ${stderr}`);
          }
          return steps.find((s) => s.step === name);
        },
        30_000,
        `the app's "${name}" step (so far: ${JSON.stringify(steps)}; stderr: ${stderr})`,
      ) as Promise<Step>;

    const imported = await stepNamed('imported');
    const fileId = imported.fileId as string;
    assert.equal(imported.name, 'Minutes.docx');
    const token = await stepNamed('token');
    assert.equal(token.userId, `ext:${keyId}:alice`);
    assert.equal(token.wopiSrc, `${host.url}/wopi/files/${fileId}`);
    const page = await stepNamed('host-page');
    assert.deepEqual(page, { step: 'host-page', status: 200, editorForm: true });

    // the editor gets the token the host page posts to it, and saves as alice
    const html = await (await fetch(token.hostPageUrl as string)).text();
    const accessToken = html.match(/name="access_token" value="([^"]+)"/)?.[1];
    assert.ok(accessToken, 'the host page carries a token for the editor');
    const wopi = new WopiClient(host.url, fileId, accessToken);
    const info = (await wopi.checkFileInfo()).json as { UserId: string; UserFriendlyName: string };
    assert.deepEqual([info.UserId, info.UserFriendlyName], [`ext:${keyId}:alice`, 'Alice Example']);
    assert.equal((await wopi.lock('sidecar-lock')).status, 200);
    assert.equal(
      (await wopi.putFile('the minutes, as alice left them', { 'X-WOPI-Lock': 'sidecar-lock' })).status,
      200,
    );
    assert.equal((await wopi.unlock('sidecar-lock')).status, 200);

    const code = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`the app did not finish: ${JSON.stringify(steps)} ${stderr}`)), 60_000),
      ),
    ]);
    assert.equal(code, 0, stderr);
    const heard = steps.filter((s) => s.step === 'webhook');
    assert.deepEqual(heard, [
      {
        step: 'webhook',
        verified: true,
        type: 'version.created',
        fileId,
        version: heard[0]?.version,
        by: `ext:${keyId}:alice`,
      },
    ]);
    // the app took its webhook away when it finished
    const left = await admin('/api/webhooks');
    assert.deepEqual(left.json, []);
  });
});
