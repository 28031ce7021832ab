import type { FastifyInstance } from 'fastify';
import { TEMPLATES } from '../../documents/templates.ts';

/** What can be created from Quire's templates. */
export function registerTemplates(api: FastifyInstance): void {
  api.get('/api/templates', async () => TEMPLATES.map(({ kind, label, ext }) => ({ kind, label, ext })));
}
