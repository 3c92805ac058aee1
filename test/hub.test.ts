// Hub ids through @huggingface/hub into the standard HF cache, against a loopback Hub.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, goldenDir, runCli, tempDir } from './helpers.js';
import { startFakeHub, type FakeHub } from './hub-server.js';

const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const REPO = 'llamac-test/llama32-tiny';
const saved = { ...process.env };
let hub: FakeHub;
let cache: string;

beforeEach(async () => {
  hub = await startFakeHub([{ id: REPO, dir: fixture('llama32-tiny'), commit: COMMIT }]);
  cache = tempDir('llamac-hf-');
  process.env['HF_HUB_CACHE'] = cache;
  process.env['HF_ENDPOINT'] = hub.url;
  process.env['HF_TOKEN'] = 'hf_test_token';
});

afterEach(async () => {
  await hub.close();
  for (const k of ['HF_HUB_CACHE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_HOME']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('Hub ids', () => {
  it('downloads into the HF cache, sends HF_TOKEN, then works offline', async () => {
    const r = await runCli('inspect', REPO);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/2 layers, hidden 128/);
    const snap = join(cache, 'models--llamac-test--llama32-tiny', 'snapshots', COMMIT);
    expect(existsSync(join(snap, 'model.safetensors'))).toBe(true);
    expect(readFileSync(join(cache, 'models--llamac-test--llama32-tiny', 'refs', 'main'), 'utf8')).toBe(COMMIT);
    expect(hub.requests.some((q) => q.auth === 'Bearer hf_test_token')).toBe(true);

    await hub.close();
    process.env['HF_ENDPOINT'] = 'http://127.0.0.1:9'; // nothing listens: must not be needed
    const v = await runCli('verify', REPO, '--golden', goldenDir('llama32-tiny'), '--json');
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out).pass).toBe(true);
    hub = await startFakeHub([]); // for afterEach
  });

  it('respects HF_HOME when HF_HUB_CACHE is unset', async () => {
    delete process.env['HF_HUB_CACHE'];
    const home = tempDir('llamac-hfhome-');
    process.env['HF_HOME'] = home;
    const r = await runCli('inspect', REPO, '--json');
    expect(r.code).toBe(0);
    expect(existsSync(join(home, 'hub', 'models--llamac-test--llama32-tiny', 'snapshots', COMMIT, 'config.json'))).toBe(true);
  });

  it('--revision by commit hash', async () => {
    const r = await runCli('inspect', REPO, '--revision', COMMIT, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).config.hiddenSize).toBe(128);
  });

  it('an unknown revision is a one-line error', async () => {
    const r = await runCli('inspect', REPO, '--revision', 'no-such-branch');
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^llamac: error: llamac-test\/llama32-tiny@no-such-branch: cannot fetch from the Hub and not in the cache/);
  });
});
