#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so a fresh checkout works after `npm install` alone.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
