/**
 * Starts the example: `node --import tsx examples/express-embed/main.ts` from the repository's root.
 * PORT (3000), HOST (127.0.0.1), DATA (./casebook-data) and EDITOR_URL (your ONLYOFFICE Docs or Collabora Online).
 */
import { resolve } from 'node:path';
import { DEMO_USERS, startApp } from './app.ts';

const app = await startApp({
  root: resolve(process.env.DATA ?? 'casebook-data'),
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 3000),
  ...(process.env.EDITOR_URL && { editorUrl: process.env.EDITOR_URL }),
});
console.log(`Casebook on ${app.url} — Quire under ${app.url}/office`);
console.log(`Sign in as ${DEMO_USERS.map((u) => `${u.login} / ${u.password}`).join(', ')}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
