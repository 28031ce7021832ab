import type { EventType } from '../documents/events.ts';
import type { NewEvent } from '../storage/types.ts';
import type { WopiRequest } from './context.ts';

export { EVENT } from '../documents/events.ts';

/** An event of this request: the caller (from the access token and the request) and the file it names. */
export function eventOf(
  req: WopiRequest,
  type: EventType,
  details?: Record<string, unknown>,
  fileId: string = req.fileId,
): NewEvent {
  return { type, fileId, ...req.actor, ...(details && { details }) };
}
