/**
 * The helper process behind `inPeerProcess` (peer.ts): for each request it opens a peer of the named backend's
 * store, reports that it started, runs the task, closes the peer and answers. It ends with its parent.
 */
import { backendNamed } from './backends.ts';
import { type PeerReply, type PeerRequest, peerTasks } from './peer.ts';

const reply = (message: PeerReply) => process.send?.(message);

process.on('message', async (raw) => {
  const request = raw as PeerRequest;
  try {
    const storage = await backendNamed(request.backend).openPeer(request.dir);
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
