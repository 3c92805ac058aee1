// `llamac serve DIR`: a static file server for an artifact folder (the WebGPU demo needs http://,
// and navigator.gpu exists only in a secure context such as http://127.0.0.1). Read-only, no
// directory listings, nothing outside DIR; ES modules get a JavaScript MIME type.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { LlamacError } from './errors.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

export interface Served {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `dir` on host:port (port 0 = any free port); resolves once listening. */
export async function serveDir(dir: string, port = 8000, host = '127.0.0.1'): Promise<Served> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new LlamacError(`serve: ${dir} is not a folder`);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? path + 'index.html' : path));
    if ((file !== root && !file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': statSync(file).size, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new LlamacError(`serve: cannot listen on ${host}:${port} (${e.code ?? e.message})`)));
    server.listen(port, host, ok);
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return { server, url: `http://${host}:${actual}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}
