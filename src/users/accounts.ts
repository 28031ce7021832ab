import type { Clock } from '../core/clock.ts';
import { QuireError } from '../core/errors.ts';
import { type User, UserExistsError, type UserStore } from '../storage/types.ts';
import { defaultPasswordHasher, type PasswordHasher } from './passwords.ts';

export type { User } from '../storage/types.ts';
export { UserExistsError };

/** Someone to add: a name, optionally a display name, a password and admin rights. */
export interface NewUser {
  name: string;
  displayName?: string;
  /**
   * Omitted only for accounts that sign in through a trusted reverse-proxy header: such an account cannot sign in
   * with a password until `setPassword` gives it one.
   */
  password?: string;
  isAdmin?: boolean;
}

export class UserNotFoundError extends QuireError {
  override name = 'UserNotFoundError';
  constructor(readonly userName: string) {
    super(404, `no user is named ${JSON.stringify(userName)}`);
  }
}

export class InvalidUserInputError extends QuireError {
  override name = 'InvalidUserInputError';
  constructor(
    readonly field: 'name' | 'displayName' | 'password',
    message: string,
  ) {
    super(400, message);
  }
}

export const MAX_NAME_LENGTH = 64;
export const MAX_DISPLAY_NAME_LENGTH = 128;
export const MIN_PASSWORD_LENGTH = 8;
// Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
export const MAX_PASSWORD_LENGTH = 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Length in characters as a person counts them (code points), not UTF-16 units. */
const lengthOf = (s: string) => [...s].length;

/** The form a name is compared and stored unique in: Unicode-normalized, without case. */
export const userNameKey = (name: string) => name.normalize('NFC').toLowerCase();

/** Returns the name as stored (NFC), or throws `InvalidUserInputError`. */
export function checkUserName(name: string): string {
  const n = name.normalize('NFC');
  const length = lengthOf(n);
  if (length < 1 || length > MAX_NAME_LENGTH) {
    throw new InvalidUserInputError('name', `a user name must be 1 to ${MAX_NAME_LENGTH} characters long`);
  }
  if (CONTROL.test(n)) throw new InvalidUserInputError('name', 'a user name must not contain control characters');
  // " alice" and "alice" would look the same on every page
  if (n.trim() !== n) throw new InvalidUserInputError('name', 'a user name must not start or end with white space');
  return n;
}

export function checkDisplayName(displayName: string): string {
  const n = displayName.normalize('NFC').trim();
  const length = lengthOf(n);
  if (length < 1 || length > MAX_DISPLAY_NAME_LENGTH) {
    throw new InvalidUserInputError(
      'displayName',
      `a display name must be 1 to ${MAX_DISPLAY_NAME_LENGTH} characters long`,
    );
  }
  if (CONTROL.test(n)) {
    throw new InvalidUserInputError('displayName', 'a display name must not contain control characters');
  }
  return n;
}

export function checkPassword(password: string): void {
  const length = lengthOf(password);
  if (length < MIN_PASSWORD_LENGTH) {
    throw new InvalidUserInputError('password', `a password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new InvalidUserInputError('password', `a password must be at most ${MAX_PASSWORD_LENGTH} characters long`);
  }
}

const withoutHash = ({ passwordHash: _, ...user }: User & { passwordHash?: unknown }): User => user;

/**
 * The people who may sign in, whatever store keeps them: the rules for names and passwords, argon2id hashing, and
 * sign-in checks that take as long for an unknown name as for a wrong password. Hashing runs outside any storage
 * transaction: it takes tens of milliseconds and must not hold the database's write lock.
 */
export class Accounts {
  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
    // Tests pass a cheaper one; production keeps the default.
    private readonly hasher: PasswordHasher = defaultPasswordHasher,
  ) {
    // A failure here resurfaces, and is retried, at the first verification of an unknown name.
    hasher.prepareDummyHash().catch(() => {});
  }

  /** Throws `UserExistsError` when the name is taken (in any case), `InvalidUserInputError` for a bad name or password. */
  async create(input: NewUser): Promise<User> {
    const name = checkUserName(input.name);
    const displayName = checkDisplayName(input.displayName ?? name);
    if (input.password !== undefined) checkPassword(input.password);
    const nameKey = userNameKey(name);
    // Refuse early so a taken name costs no hashing; the store's UNIQUE index settles races.
    if (await this.store.findByKey(nameKey)) throw new UserExistsError(name);
    const passwordHash = input.password === undefined ? null : await this.hasher.hash(input.password);
    return this.store.insert({
      name,
      nameKey,
      displayName,
      passwordHash,
      isAdmin: input.isAdmin === true,
      createdAt: this.clock.now(),
    });
  }

  async findByName(name: string): Promise<User | null> {
    const found = await this.store.findByKey(userNameKey(name));
    return found && withoutHash(found);
  }

  async findById(id: string): Promise<User | null> {
    const found = await this.store.findById(id);
    return found && withoutHash(found);
  }

  /** Makes the user an admin, or no longer one; false when there is no such user. */
  setAdmin(id: string, isAdmin: boolean): Promise<boolean> {
    return this.store.setAdmin(id, isAdmin);
  }

  /** The user when the password is theirs, else null; takes as long for an unknown name as for a wrong password. */
  async verifyPassword(name: string, password: string): Promise<User | null> {
    const found = await this.store.findByKey(userNameKey(name));
    const hash = found?.passwordHash;
    if (!found || !hash) return this.hasher.verifyAgainstNothing(password).then(() => null);
    if (!(await this.hasher.verify(hash, password))) return null;
    // a disabled account signs in no more (checked after the hash, so it takes as long as a wrong password)
    if (found.disabledAt) return null;
    if (this.hasher.needsRehash(hash)) {
      // only if nobody changed the password meanwhile
      await this.store.setPasswordHash(found.id, await this.hasher.hash(password), hash);
    }
    return withoutHash(found);
  }

  /** Throws `UserNotFoundError` for an unknown name, `InvalidUserInputError` for a too-short password. */
  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    const found = await this.store.findByKey(userNameKey(name));
    if (!found) throw new UserNotFoundError(name);
    await this.store.setPasswordHash(found.id, await this.hasher.hash(password));
  }

  list(): Promise<User[]> {
    return this.store.list();
  }
}
