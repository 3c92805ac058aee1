// A loopback HTTP server that serves checkpoint folders the way the Hugging Face Hub does, for
// the routes @huggingface/hub uses: revision info, tree listing, paths-info, resolve (with Range).

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubRepo {
  readonly id: string; // "org/name"
  readonly dir: string;
  readonly commit: string; // 40 hex
}

export interface FakeHub {
  readonly url: string;
  readonly requests: Array<{ method: string; path: string; auth: string | undefined }>;
  close(): Promise<void>;
}

function json(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeHub(repos: readonly HubRepo[]): Promise<FakeHub> {
  const requests: FakeHub['requests'] = [];
  const files = (r: HubRepo) =>
    readdirSync(r.dir)
      .sort()
      .map((name) => {
        const data = readFileSync(join(r.dir, name));
        return { name, data, oid: createHash('sha1').update(data).digest('hex') };
      });
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    requests.push({ method: req.method ?? 'GET', path, auth: req.headers.authorization });
    for (const r of repos) {
      const api = `/api/models/${r.id}/`;
      const known = (rev: string) => rev === 'main' || rev === r.commit;
      if (path.startsWith(api)) {
        const [kind, rev] = path.slice(api.length).split('/');
        if (!known(rev)) return json(res, { error: `Invalid rev id: ${rev}` }, 404);
        const list = files(r);
        if (kind === 'revision') return json(res, { _id: r.commit.slice(0, 24), id: r.id, sha: r.commit, private: false, siblings: list.map((f) => ({ rfilename: f.name })) });
        if (kind === 'tree') return json(res, list.map((f) => ({ type: 'file', path: f.name, oid: f.oid, size: f.data.length })));
        if (kind === 'paths-info') {
          let body = '';
          req.on('data', (c: Buffer) => (body += c.toString()));
          req.on('end', () => {
            const wanted = (JSON.parse(body) as { paths: string[] }).paths;
            json(res, list.filter((f) => wanted.includes(f.name)).map((f) => ({ type: 'file', path: f.name, oid: f.oid, size: f.data.length, lastCommit: { id: r.commit, title: 'fixture', date: '2026-01-01T00:00:00Z' } })));
          });
          return;
        }
      }
      const resolve = `/${r.id}/resolve/`;
      if (path.startsWith(resolve)) {
        const [rev, ...rest] = path.slice(resolve.length).split('/');
        const f = files(r).find((x) => x.name === rest.join('/'));
        if (!known(rev) || !f) return json(res, { error: 'Entry not found' }, 404);
        const headers = { etag: `"${f.oid}"`, 'x-repo-commit': r.commit, 'accept-ranges': 'bytes' };
        const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        if (range) {
          const start = Number(range[1]);
          const end = range[2] ? Math.min(Number(range[2]), f.data.length - 1) : f.data.length - 1;
          res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${f.data.length}`, 'content-length': end - start + 1 });
          res.end(req.method === 'HEAD' ? undefined : f.data.subarray(start, end + 1));
          return;
        }
        res.writeHead(200, { ...headers, 'content-length': f.data.length });
        res.end(req.method === 'HEAD' ? undefined : f.data);
        return;
      }
    }
    json(res, { error: 'Repository not found' }, 404);
  };
  const server: Server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
