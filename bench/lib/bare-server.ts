/**
 * The baselines: bare `node:http` servers, no framework, doing the least the same request needs. Run as a child
 * process (as Quire is), on a free port of 127.0.0.1; prints `listening on PORT`.
 *
 *   node --import tsx bench/lib/bare-server.ts bytes FILE CONTENT_TYPE   every request: FILE's bytes, as loaded once
 *   node --import tsx bench/lib/bare-server.ts stream FILE               every request: fs.createReadStream(FILE)
 *   node --import tsx bench/lib/bare-server.ts upload DIR                every request: body → a new file in DIR, fsync
 */
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const [mode, arg, contentType] = process.argv.slice(2);
if (!arg) throw new Error('usage: bare-server.ts bytes FILE CONTENT_TYPE | stream FILE | upload DIR');

function bytes(file: string, type: string): RequestListener {
  const body = readFileSync(file);
  return (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
    res.end(body);
  };
}

function stream(file: string): RequestListener {
  const size = statSync(file).size;
  return (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
    pipeline(createReadStream(file), res).catch(() => res.destroy());
  };
}

function upload(dir: string): RequestListener {
  let n = 0;
  return async (req, res) => {
    const path = join(dir, `upload-${process.pid}-${n++}.bin`);
    try {
      await pipeline(req, createWriteStream(path));
      // as Quire does it: the written file is opened again and fsynced
      const fh = await open(path, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    } finally {
      await rm(path, { force: true });
    }
  };
}

const handlers: Record<string, () => RequestListener> = {
  bytes: () => bytes(arg, contentType ?? 'application/octet-stream'),
  stream: () => stream(arg),
  upload: () => upload(arg),
};
const make = handlers[mode ?? ''];
if (!make) throw new Error(`unknown mode ${mode}`);
const server = createServer(make());
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on ${typeof address === 'object' && address ? address.port : '?'}`);
});
process.once('SIGTERM', () => process.exit(0));
