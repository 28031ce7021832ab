import type { FastifyInstance } from 'fastify';
import { TEMPLATES } from '../../documents/templates.ts';
import { TEMPLATE_LIST } from './schemas.ts';

/** What can be created from Quire's templates. */
export function registerTemplates(api: FastifyInstance): void {
  api.get('/api/templates', { schema: TEMPLATE_LIST }, async () =>
    TEMPLATES.map(({ kind, label, ext }) => ({ kind, label, ext })),
  );
}
