#!/usr/bin/env node
// Runs the compiled build in dist/ (`npm install` makes it). QUIRE_FROM_SOURCE=1, or a checkout without a build,
// runs the TypeScript sources through tsx instead (a development dependency): the tests do, so they always exercise
// the sources as they are.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (process.env.QUIRE_FROM_SOURCE !== '1' && existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
