// A real browser: Debian's chromium (headless, WebGPU on its bundled SwiftShader Vulkan), driven by
// playwright-core, loads the demo page of a stories260K artifact from `llamac serve`'s server on
// 127.0.0.1 and generates transformers' greedy tokens; without WebGPU the page says so.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCommand } from '../../commands.js';
import { serveDir, type Served } from '../../serve.js';
import { loadGolden } from '../../verify/golden.js';

const REPO = new URL('../../../', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
// ../shared/TOOLCHAIN.md: WebGPU compute headless on SwiftShader, no GPU needed
const WEBGPU_FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking'];

let work = '';
let served: Served | null = null;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'llamac-browser-'));
  await compileCommand(join(REPO, 'fixtures/stories260K'), { target: 'webgpu', quant: 'f32', fuse: true, out: join(work, 'stories') }, () => {}, () => {});
  served = await serveDir(join(work, 'stories'), 0);
});
afterAll(async () => {
  await served?.close();
  rmSync(work, { recursive: true, force: true });
});

async function launch(flags: string[]): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: run .ci/install-browser.sh`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: flags });
}

describe('the webgpu demo page in chromium', () => {
  it('loads the stories260K artifact and streams transformers\' greedy tokens', async () => {
    const golden = loadGolden(join(REPO, 'golden/stories260K'));
    const prompt = golden.cases.find((c) => c.name === golden.greedy?.prompt);
    if (!prompt || !golden.greedy) throw new Error('no greedy golden');
    const want = golden.greedy.newTokens;
    const browser = await launch(WEBGPU_FLAGS);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${served?.url}index.html?autorun=1&max=${want.length}&prompt=${prompt.inputIds.join(',')}`);
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 240_000 });
      expect(await page.locator('#error').textContent()).toBe('');
      expect(errors).toEqual([]);
      const got = ((await page.locator('#out').getAttribute('data-tokens')) ?? '').split(',').map(Number);
      // the page stops at the model's eos like transformers' generate; the tokens up to there agree
      expect(got.length).toBeGreaterThan(0);
      expect(got).toEqual(want.slice(0, got.length));
      if (got.length < want.length) expect(golden.greedy.newTokens[got.length - 1]).toBe(got[got.length - 1]);
      // text from tokenizer.json, a progress bar that reached the end, a speed line
      expect((await page.locator('#out').textContent())?.length ?? 0).toBeGreaterThan(0);
      expect(await page.locator('#progress').evaluate((e) => (e as HTMLProgressElement).value)).toBe(1);
      expect(await page.locator('#speed').textContent()).toMatch(/tokens\/s/);
    } finally {
      await browser.close();
    }
  });

  it('says clearly when the browser has no WebGPU', async () => {
    const browser = await launch(['--no-sandbox', '--disable-features=Vulkan,WebGPU', '--disable-gpu']);
    try {
      const page = await browser.newPage();
      await page.goto(`${served?.url}index.html`);
      await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60_000 });
      expect(await page.locator('#error').textContent()).toMatch(/WebGPU/);
    } finally {
      await browser.close();
    }
  });
});
