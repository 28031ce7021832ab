/**
 * The helper process behind `inPeerProcess` (peer.ts): for each request it loads the named backend from its module,
 * opens a peer of its store, reports that it started, runs the task, closes the peer and answers. It ends with its
 * parent.
 */
import type { Storage } from '../storage/types.ts';
import type { StorageBackend } from './backend.ts';
import { type PeerReply, type PeerRequest, peerTasks } from './peer.ts';

const reply = (message: PeerReply) => process.send?.(message);

/** A peer of the store in `dir` of the backend called `name` among what `module` exports (default or `backends`). */
async function openPeerIn(module: string, name: string, dir: string): Promise<Storage> {
  const exports = (await import(module)) as { default?: unknown; backends?: unknown };
  const candidates = [exports.default, exports.backends].flat() as (StorageBackend | undefined)[];
  const backend = candidates.find((b) => b?.name === name);
  if (!backend?.openPeer) {
    throw new Error(`${module} exports no backend named ${JSON.stringify(name)} with openPeer (default or backends)`);
  }
  return backend.openPeer(dir);
}

process.on('message', async (raw) => {
  const request = raw as PeerRequest;
  try {
    const storage = await openPeerIn(request.module, request.backend, request.dir);
    let result: unknown;
    try {
      reply({ id: request.id, type: 'started' });
      const task = peerTasks[request.task] as (storage: unknown, args: unknown) => Promise<unknown>;
      result = await task(storage, request.args);
    } finally {
      await storage.close();
    }
    reply({ id: request.id, type: 'done', result });
  } catch (err) {
    reply({ id: request.id, type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});

process.on('disconnect', () => process.exit(0));
