import type { Rule } from '../rule.ts';
import { fileInfoRules } from './file-info.ts';
import { lockRules } from './locks.ts';
import { putFileRules } from './put-file.ts';
import { putRelativeFileRules } from './put-relative-file.ts';
import { renameFileRules } from './rename-file.ts';

/** Every rule, in the order they run: reading first, then locks, then the operations that write. */
export const RULES: readonly Rule[] = [
  ...fileInfoRules,
  ...lockRules,
  ...putFileRules,
  ...putRelativeFileRules,
  ...renameFileRules,
];
