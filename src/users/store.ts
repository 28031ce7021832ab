/** A person who signs in to Quire's web pages: who is browsing, and who is editing. */
export interface User {
  id: string;
  /** What the person signs in with; unique without regard to case. */
  name: string;
  /** What editors and pages show; the name unless given. */
  displayName: string;
  isAdmin: boolean;
  /** ms since epoch */
  createdAt: number;
}

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

export interface UserStore {
  /** Throws `UserExistsError` when the name is taken (in any case), `InvalidUserInputError` for a bad name or password. */
  create(input: NewUser): Promise<User>;
  findByName(name: string): Promise<User | null>;
  findById(id: string): Promise<User | null>;
  /** The user when the password is theirs, else null; takes as long for an unknown name as for a wrong password. */
  verifyPassword(name: string, password: string): Promise<User | null>;
  /** Throws `UserNotFoundError` for an unknown name, `InvalidUserInputError` for a too-short password. */
  setPassword(name: string, password: string): Promise<void>;
  list(): Promise<User[]>;
}

export class UserExistsError extends Error {
  override name = 'UserExistsError';
  constructor(readonly userName: string) {
    super(`a user named ${JSON.stringify(userName)} already exists (names are compared without case)`);
  }
}

export class UserNotFoundError extends Error {
  override name = 'UserNotFoundError';
  constructor(readonly userName: string) {
    super(`no user is named ${JSON.stringify(userName)}`);
  }
}

export class InvalidUserInputError extends Error {
  override name = 'InvalidUserInputError';
  constructor(
    readonly field: 'name' | 'displayName' | 'password',
    message: string,
  ) {
    super(message);
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
