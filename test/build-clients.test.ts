// What llamac build hands to users, checked in the real clients: the transformers.js layout
// generates through @huggingface/transformers, the genai folder passes the genai config checks,
// the HTML report renders in headless Chromium with plots that hold the JSON's numbers, JUnit has
// one test case per cell, and a cell that fails verification fails the build (exit 1) without
// stopping the others or leaving its package behind.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildSummary, CellSummary } from '../compiler/build/index.js';
import { checkGenaiFolder } from '../compiler/build/layouts.js';
import { loadModel } from '../compiler/compile.js';
import { onnxRunner } from '../compiler/targets/onnx/runner.js';
import { argmax } from '../compiler/verify/metrics.js';
import { EVAL_IDS, fixture, goldenDir, runCli } from './helpers.js';

interface GoldenJson {
  cases: Record<string, { input_ids: number[] }>;
  greedy: { prompt: string; new_tokens: number[] };
}

let work = '';
let summary: BuildSummary;
let code = -1;
const golden = JSON.parse(readFileSync(join(goldenDir('stories260K'), 'golden.json'), 'utf8')) as GoldenJson;
const prompt = golden.cases[golden.greedy.prompt].input_ids;

function cell(id: string): CellSummary {
  const c = summary.cells.find((x) => x.id === id);
  if (!c) throw new Error(`no cell ${id}`);
  return c;
}

/** Unpacks a package with the system tar (what a user does); returns its folder. */
function unpack(c: CellSummary): string {
  const dest = join(work, 'unpacked');
  mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['-xzf', c.package as string, '-C', dest]);
  return join(dest, (c.package as string).split('/').pop()!.replace(/\.tar\.gz$/, ''));
}

beforeAll(async () => {
  // Not helpers.tempDir: that one is emptied after each test, and this build serves them all.
  work = mkdtempSync(join(tmpdir(), 'llamac-build-clients-'));
  // A copy of the golden set whose 'short' case has other input ids: the f32 cell must fail on it.
  const bad = join(work, 'bad-golden');
  cpSync(goldenDir('stories260K'), bad, { recursive: true });
  const g = JSON.parse(readFileSync(join(bad, 'golden.json'), 'utf8')) as GoldenJson;
  g.cases['short'].input_ids = [...g.cases['short'].input_ids].reverse();
  writeFileSync(join(bad, 'golden.json'), JSON.stringify(g));
  const build = {
    models: [
      { path: fixture('stories260K'), golden: goldenDir('stories260K'), eval: EVAL_IDS, eval_max_len: 64 },
      { path: fixture('stories260K'), golden: bad, name: 'stories260K_badgolden' },
      // No golden set: held to the interpreter on fixed token cases.
      { path: fixture('llama32-tiny') },
    ],
    targets: ['onnx'],
    quant: ['f32', { name: 'int4', method: 'rtn' }],
    out: 'out',
  };
  writeFileSync(join(work, 'build.json'), JSON.stringify(build));
  const r = await runCli('build', join(work, 'build.json'), '--json', '--no-cache', '--junit', join(work, 'junit.xml'), '--report', join(work, 'report.html'));
  code = r.code;
  summary = JSON.parse(r.out) as BuildSummary;
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('build outcome', () => {
  it('fails the build for the cell that fails verification and builds the others', () => {
    expect(code).toBe(1);
    expect(summary.cells.map((c) => [c.id, c.status])).toEqual([
      ['stories260K-onnx-f32', 'pass'],
      ['stories260K-onnx-int4', 'pass'],
      ['stories260K_badgolden-onnx-f32', 'fail'],
      // int4 is held to the interpreter (the golden set is reported only), so it passes.
      ['stories260K_badgolden-onnx-int4', 'pass'],
      ['llama32-tiny-onnx-f32', 'pass'],
      ['llama32-tiny-onnx-int4', 'pass'],
    ]);
    const bad = cell('stories260K_badgolden-onnx-f32');
    expect(bad.verification?.golden?.cases['short'].pass).toBe(false);
    expect(bad.package).toBeNull();
    expect(readdirSync(join(work, 'out')).filter((f) => f.includes('badgolden-onnx-f32'))).toEqual([]);
    expect(readdirSync(join(work, 'out')).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('holds a model without goldens to the interpreter and reports perplexity when asked', () => {
    for (const q of ['f32', 'int4']) {
      const v = cell(`llama32-tiny-onnx-${q}`).verification!;
      expect(v.against).toBe('reference');
      expect(v.golden).toBeNull();
      expect(Object.keys(v.vs_reference!.cases)).toEqual(['short', 'long', 'offset']);
      expect(v.vs_reference!.thresholds.maxAbs).toBe(1e-3);
      expect(v.vs_reference!.greedy?.match).toBe(1);
      expect(v.perplexity).toBeNull();
    }
    const ppl = cell('stories260K-onnx-f32').verification!.perplexity!;
    expect(ppl.tokens).toBeGreaterThan(0);
    // The f32 artifact's perplexity over 64-token prefixes of TinyStories: a trained model, far below the vocabulary size.
    expect(ppl.ppl).toBeGreaterThan(1);
    expect(ppl.ppl).toBeLessThan(100);
  });

  it('writes JUnit XML with one test case per cell and the failure', () => {
    const xml = readFileSync(join(work, 'junit.xml'), 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(6);
    expect(xml).toMatch(/<testsuites name="llamac build" tests="6" failures="1" errors="0"/);
    expect(xml).toMatch(/<testcase classname="stories260K_badgolden" name="onnx-f32"[^>]*>\s*<properties>.*<\/properties>\s*<failure message="verification failed" type="verification">vs golden short: max_abs_err=/);
  });
});

describe('client layouts', () => {
  /** Greedy generation through transformers.js from the package's transformers.js/ folder. */
  async function generate(pkg: string): Promise<number[]> {
    env.allowRemoteModels = false;
    env.localModelPath = pkg + '/';
    // The default subfolder ('onnx') and file names: the layout is what transformers.js looks for.
    const model = await AutoModelForCausalLM.from_pretrained('transformers.js', { local_files_only: true });
    try {
      const ids = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
      const out = (await model.generate({ input_ids: ids, max_new_tokens: 64, min_new_tokens: 64, do_sample: false })) as Tensor;
      return Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
    } finally {
      await model.dispose();
    }
  }

  /** Greedy tokens from onnxruntime on the package's artifact folder (the genai layout). */
  async function ortGreedy(artifact: string): Promise<number[]> {
    const { graph } = await loadModel(fixture('stories260K'));
    const runner = await onnxRunner(artifact, graph, { accuracyLevel: 0 });
    try {
      const V = graph.info.vocabSize;
      const first = await runner.prefill(prompt, 0);
      let row = first.subarray((prompt.length - 1) * V);
      const toks: number[] = [];
      for (let i = 0; i < 64; i++) {
        toks.push(argmax(row));
        if (i < 63) row = await runner.decode(toks[i]);
      }
      return toks;
    } finally {
      await runner.dispose();
    }
  }

  it('transformers.js generates the golden greedy tokens from the f32 package', async () => {
    const pkg = unpack(cell('stories260K-onnx-f32'));
    expect(existsSync(join(pkg, 'transformers.js', 'onnx', 'model.onnx_data'))).toBe(true);
    expect(await generate(pkg)).toEqual(golden.greedy.new_tokens);
  });

  it('transformers.js generates from the int4 package what onnxruntime generates from its genai folder', async () => {
    const pkg = unpack(cell('stories260K-onnx-int4'));
    const tokens = await generate(pkg);
    expect(tokens).toHaveLength(64);
    expect(tokens).toEqual(await ortGreedy(join(pkg, 'artifact')));
  });

  it('the genai folder passes the genai config checks; a broken config is named', () => {
    const pkg = unpack(cell('stories260K-onnx-int4'));
    const dir = join(pkg, 'artifact');
    expect(checkGenaiFolder(dir).join('\n')).toMatch(/past_present_share_buffer false/);
    const cfgFile = join(dir, 'genai_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { model: { decoder: { num_hidden_layers: number; inputs: Record<string, string> } }; search: Record<string, unknown> };
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, search: { ...cfg.search, top_kk: 1 } }));
    expect(() => checkGenaiFolder(dir)).toThrow(/search\.top_kk: not a key onnxruntime-genai knows/);
    cfg.model.decoder.inputs['position_ids'] = 'positions';
    writeFileSync(cfgFile, JSON.stringify(cfg));
    expect(() => checkGenaiFolder(dir)).toThrow(/model\.decoder\.inputs: 'positions' is not a graph input/);
  });
});

describe('HTML report', () => {
  it('llamac verify --report writes the same report for one verify run', async () => {
    const file = join(work, 'verify.html');
    const r = await runCli('verify', fixture('stories260K'), '--golden', goldenDir('stories260K'), '--target', 'onnx', '--quant', 'int8', '--report', file);
    expect(r.code).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/<tr data-cell="stories260K-onnx-int8"><td class="pass">PASS<\/td>/);
    expect(html.match(/<svg class="plot" data-kind="(logits|layers)"/g)).toHaveLength(2);
    expect(html.match(/<circle class="pt" data-series="[a-z]+ vs interpreter" data-x="\d"/g)?.length).toBe(5 * 4);
    expect(html).not.toMatch(/(src|href)=/);
  }, 120_000);

  it('renders in headless Chromium with per-case logit and per-layer plots holding the JSON numbers', async () => {
    const file = join(work, 'report.html');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      // Self-contained: the page fetched nothing but itself.
      expect(requests).toEqual([pathToFileURL(file).href]);
      const rows = await page.$$eval('tr[data-cell]', (trs) => trs.map((t) => [t.getAttribute('data-cell'), t.querySelector('td')?.textContent]));
      expect(rows).toEqual(summary.cells.map((c) => [c.id, c.status.toUpperCase()]));
      for (const c of summary.cells) {
        const v = c.verification!;
        const plot = (kind: string) =>
          page.$$eval(`section[data-cell="${c.id}"] svg.plot[data-kind="${kind}"] circle.pt`, (pts) =>
            pts.map((p) => ({ series: p.getAttribute('data-series'), x: p.getAttribute('data-x'), value: Number(p.getAttribute('data-value')), box: (p as SVGGraphicsElement).getBoundingClientRect().width })),
          );
        const logits = await plot('logits');
        const want: { series: string; x: string; value: number }[] = [];
        for (const [series, r] of [['vs interpreter', v.vs_reference], ['vs transformers', v.golden]] as const) {
          if (!r) continue;
          for (const [name, k] of Object.entries(r.cases)) want.push({ series, x: name, value: k.max_abs_err });
          if (r.greedy) want.push({ series, x: 'greedy', value: r.greedy.max_abs_err });
        }
        expect(logits.map(({ series, x, value }) => ({ series, x, value }))).toEqual(want);
        expect(logits.every((p) => p.box > 0)).toBe(true);
        const layers = await plot('layers');
        const wantLayers = Object.entries(v.layers!.vs_reference).flatMap(([name, errs]) => errs.map((e, i) => ({ series: `${name} vs interpreter`, x: String(i), value: e })));
        const wantGolden = Object.entries(v.layers!.vs_golden).flatMap(([name, errs]) => errs.map((e, i) => ({ series: `${name} vs transformers`, x: String(i), value: e })));
        expect(layers.map(({ series, x, value }) => ({ series, x, value }))).toEqual([...wantLayers, ...wantGolden].filter((p) => p.value !== null));
        // stories260K has 5 layers and a golden set with transformers' hidden states for 'short'; llama32-tiny 2 and none.
        const stories = c.model.startsWith('stories260K');
        expect(wantLayers.length).toBe((stories ? 5 : 2) * Object.keys(v.layers!.vs_reference).length);
        expect(wantGolden.length).toBe(stories ? 5 : 0);
      }
    } finally {
      await browser.close();
    }
  }, 120_000);
});
