/** The suites' fixture lives with them in src/testing/; Quire-only suites here (test/contract/*.contract.ts) use it. */
export * from '../../src/testing/fixture.ts';
