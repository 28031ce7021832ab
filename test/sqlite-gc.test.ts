import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';

const CHILD = new URL('./helpers/sqlite-churn.ts', import.meta.url).pathname;

// On Node 24, better-sqlite3 12 aborts a process whose garbage collector finalizes one of its Statement or Database
// objects (src/storage/sqlite/database.ts, heldUntilExit). This fails there if the driver ever leaves one to the
// collector; .ci/node24.sh runs it on Node 24.
it('databases opened, used and closed through the SQLite driver survive the garbage collector and a clean exit', async () => {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  assert.equal(signal, null, `killed by ${signal}: ${stderr}`);
  assert.equal(code, 0, `exit ${code}: ${stderr}`);
  assert.equal(stdout.trim(), 'collected');
});
