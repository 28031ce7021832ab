/**
 * Why a migration stopped or would not start, said plainly: a target holding another Quire's data, a source still
 * in use, a blob that does not hash to its name. The command prints the message alone (no stack) and exits non-zero.
 */
export class MigrationError extends Error {
  override name = 'MigrationError';
}
