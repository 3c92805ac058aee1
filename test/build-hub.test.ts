// llamac build with a Hub model (a loopback Hub): the package's manifest records the Hub id, the
// revision, the commit it resolved to and the checkpoint's file hashes; a Hub id that cannot be
// fetched fails the build before any cell runs.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildSummary } from '../compiler/build/index.js';
import { sha256File } from '../compiler/targets/onnx/artifact.js';
import { fixture, goldenDir, runCli, tempDir } from './helpers.js';
import { startFakeHub, type FakeHub } from './hub-server.js';

const COMMIT = 'b'.repeat(8) + '0123456789abcdef0123456789abcdef';
const REPO = 'llamac-test/llama32-tiny';
const saved = { ...process.env };
let hub: FakeHub;

beforeEach(async () => {
  hub = await startFakeHub([{ id: REPO, dir: fixture('llama32-tiny'), commit: COMMIT }]);
  process.env['HF_HUB_CACHE'] = tempDir('llamac-hf-');
  process.env['HF_ENDPOINT'] = hub.url;
});

afterEach(async () => {
  await hub.close();
  for (const k of ['HF_HUB_CACHE', 'HF_ENDPOINT']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('build with a Hub model', () => {
  it('records the Hub id, revision, commit and file hashes in the manifest', async () => {
    const d = tempDir('llamac-build-hub-');
    writeFileSync(join(d, 'b.json'), JSON.stringify({ models: [{ hub: REPO, revision: 'main', golden: goldenDir('llama32-tiny') }], targets: ['onnx'], quant: ['f32'], out: 'out' }));
    const r = await runCli('build', join(d, 'b.json'), '--json', '--no-cache');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as BuildSummary;
    expect(s.cells.map((c) => [c.id, c.status])).toEqual([['llama32-tiny-onnx-f32', 'pass']]);
    execFileSync('tar', ['-xzf', s.cells[0].package as string, '-C', d]);
    const pkg = readdirSync(d).find((f) => f.startsWith('llama32-tiny-onnx-f32-')) as string;
    const m = JSON.parse(readFileSync(join(d, pkg, 'manifest.json'), 'utf8')) as { model: { source: string; revision: string; commit: string; files: { path: string; sha256: string }[] } };
    expect([m.model.source, m.model.revision, m.model.commit]).toEqual([REPO, 'main', COMMIT]);
    const st = m.model.files.find((f) => f.path === 'model.safetensors');
    expect(st?.sha256).toBe(sha256File(join(fixture('llama32-tiny'), 'model.safetensors')));
  });

  it('fails before any cell when a Hub id cannot be fetched', async () => {
    const d = tempDir('llamac-build-hub-');
    writeFileSync(join(d, 'b.json'), JSON.stringify({ models: [{ path: fixture('stories260K') }, { hub: 'llamac-test/absent' }], targets: ['onnx'], quant: ['f32'], out: 'out' }));
    const r = await runCli('build', join(d, 'b.json'), '--no-cache');
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^llamac: error: llamac-test\/absent@main: cannot fetch from the Hub/);
    expect(existsSync(join(d, 'out'))).toBe(false);
  });
});
