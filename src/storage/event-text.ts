/**
 * What an event log keeps of a text field a client sent (a User-Agent, a correlation id, a name): part of the
 * EventLog contract (src/testing/event-log.contract.ts checks it), so every implementation, Quire's or an
 * integrator's, calls this rather than writing the rule again.
 */

/** The longest text kept of any one field. */
export const MAX_EVENT_FIELD = 512;

/** The field as kept: U+0000 replaced (PostgreSQL's text cannot hold it), capped at MAX_EVENT_FIELD; null if absent. */
export const eventFieldText = (value: string | undefined): string | null =>
  value === undefined ? null : value.replaceAll('\u0000', '\ufffd').slice(0, MAX_EVENT_FIELD);
