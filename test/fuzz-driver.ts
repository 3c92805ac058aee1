// The fuzz loop, run in a child process by fuzz.test.ts (so a hang or runaway allocation is
// caught by a timeout and a heap limit instead of freezing the test runner). Each case mutates a
// fixture's config.json or safetensors header with a PRNG seeded by (seed, case index), runs
// `llamac inspect` in-process and, when that succeeds, imports the model and runs the reference
// interpreter. One JSON line per case on stdout: {i, fixture, what, outcome, detail, ms}.
//   node test/fuzz-driver.js <fixtures dir> <work dir> <seed> <max cases> <budget ms>

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../bin/cli.js';
import { openCheckpoint } from '../compiler/checkpoint/checkpoint.js';
import { importLlama } from '../compiler/frontend/llama.js';
import { referenceRunner, runCase as runFresh } from '../compiler/targets/runner.js';
import { LlamacError } from '../compiler/errors.js';
import { rng } from '../compiler/random.js';

type Rng = () => number;


const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Stands for 2^64 - 1 written as a JSON integer (JSON.stringify cannot write it exactly). */
const BIG64 = '__BIG64__';
const toJson = (v: unknown) => JSON.stringify(v).replaceAll(`"${BIG64}"`, '18446744073709551615');

const NUMBERS = [0, -1, 1, 2, 3, 0.5, 1e-30, 1e-50, 1e300, 1e12, 4096, 2 ** 31, 2 ** 53 + 2, BIG64, -0.5, 7.5];
const VALUES: readonly unknown[] = [...NUMBERS, null, true, false, 'x', 'llama3', 'default', 'yarn', [], [1], {}, { rope_type: 'llama3' }, { rope_type: 'llama3', factor: 8 }];
const CONFIG_EXTRA_KEYS = ['head_dim', 'num_key_value_heads', 'partial_rotary_factor', 'rope_scaling', 'rope_parameters', 'rope_theta', 'tie_word_embeddings', 'eos_token_id', 'bos_token_id'];
const ROPE_KEYS = ['rope_type', 'type', 'factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings', 'rope_theta'];

function mutateConfig(r: Rng, text: string): { text: string; what: string } {
  if (r() < 0.1) {
    // Raw text damage: truncation or one replaced character (control characters included).
    const at = Math.floor(r() * text.length);
    if (r() < 0.5) return { text: text.slice(0, at), what: `config truncated at ${at}` };
    const ch = String.fromCharCode(Math.floor(r() * 128));
    return { text: text.slice(0, at) + ch + text.slice(at + 1), what: `config char ${at} := ${JSON.stringify(ch)}` };
  }
  const c = JSON.parse(text) as Record<string, unknown>;
  const whats: string[] = [];
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const ropeKey = c['rope_parameters'] ? 'rope_parameters' : c['rope_scaling'] ? 'rope_scaling' : null;
    const inRope = ropeKey !== null && typeof c[ropeKey] === 'object' && c[ropeKey] !== null && r() < 0.35;
    const obj = inRope ? (c[ropeKey as string] as Record<string, unknown>) : c;
    const key = inRope ? pick(r, ROPE_KEYS) : pick(r, [...Object.keys(c), ...CONFIG_EXTRA_KEYS]);
    const where = inRope ? `${ropeKey}.${key}` : key;
    if (r() < 0.2) {
      delete obj[key];
      whats.push(`delete ${where}`);
    } else {
      const v = pick(r, VALUES);
      obj[key] = v;
      whats.push(`${where} := ${toJson(v)}`);
    }
  }
  return { text: toJson(c), what: whats.join('; ') };
}

function mutateHeader(r: Rng, file: Buffer): { bytes: Buffer; what: string } {
  const len = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + len).toString('utf8')) as Record<string, Record<string, unknown>>;
  const data = file.subarray(8 + len);
  if (r() < 0.15) {
    // Raw damage: flipped header bytes (control bytes included) or a truncated file.
    const bytes = Buffer.from(file);
    if (r() < 0.3) {
      const at = Math.floor(r() * bytes.length);
      return { bytes: bytes.subarray(0, at), what: `file truncated at ${at}` };
    }
    const flips: string[] = [];
    for (let k = 1 + Math.floor(r() * 4); k > 0; k--) {
      const at = 8 + Math.floor(r() * len);
      bytes[at] = Math.floor(r() * 256);
      flips.push(`${at}=${bytes[at]}`);
    }
    return { bytes, what: `header bytes ${flips.join(',')}` };
  }
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = pick(r, names);
  const e = header[name];
  let what: string;
  switch (pick(r, ['dtype', 'shape', 'offsets', 'delete', 'rename', 'alias', 'metadata', 'swap'])) {
    case 'dtype':
      e['dtype'] = pick(r, ['BF16', 'F16', 'F32', 'I8', 'F64', 'bf16', '', null, 7]);
      what = `${name}.dtype := ${toJson(e['dtype'])}`;
      break;
    case 'shape': {
      const shape = [...(e['shape'] as unknown[])];
      const op = pick(r, ['set', 'push', 'pop', 'replace']);
      if (op === 'set' && shape.length) shape[Math.floor(r() * shape.length)] = pick(r, [...NUMBERS, null, '3']);
      else if (op === 'push') shape.push(pick(r, [1, 2, 0, 2 ** 40]));
      else if (op === 'pop') shape.pop();
      e['shape'] = op === 'replace' ? pick(r, [null, 5, [], [[1]], 'x']) : shape;
      what = `${name}.shape := ${toJson(e['shape'])}`;
      break;
    }
    case 'offsets': {
      const o = [...(e['data_offsets'] as unknown[])];
      const other = header[pick(r, names)]['data_offsets'] as number[];
      o[r() < 0.5 ? 0 : 1] = pick(r, [...NUMBERS, other[0], other[1], (o[1] as number) + 2, (o[0] as number) - 2, '0', null]);
      e['data_offsets'] = r() < 0.1 ? pick(r, [null, [1], [0, 1, 2], {}]) : o;
      what = `${name}.data_offsets := ${toJson(e['data_offsets'])}`;
      break;
    }
    case 'delete':
      delete header[name];
      what = `delete ${name}`;
      break;
    case 'rename': {
      const to = pick(r, [name.replace(/layers\.\d+/, 'layers.99999'), name.replace(/layers\.\d+/, 'layers.1999999999'), name + '\u001b[2J', '\u0007' + name, name.replace('weight', 'bias'), 'lm_head.weight', 'model.layers.0.self_attn.rotary_emb.inv_freq']);
      delete header[name];
      header[to] = e;
      what = `rename ${name} -> ${JSON.stringify(to)}`;
      break;
    }
    case 'alias':
      header[`${name}.alias`] = { ...e };
      what = `alias of ${name}`;
      break;
    case 'metadata':
      header['__metadata__'] = pick(r, [null, 5, { a: 1 }, { format: 'pt' }, [], { format: '\u0000' }]) as Record<string, unknown>;
      what = `__metadata__ := ${toJson(header['__metadata__'])}`;
      break;
    default: {
      const other = pick(r, names);
      const tmp = e['data_offsets'];
      e['data_offsets'] = header[other]['data_offsets'];
      header[other]['data_offsets'] = tmp;
      what = `swap offsets ${name} <-> ${other}`;
    }
  }
  const json = Buffer.from(toJson(header));
  const lenField = Buffer.alloc(8);
  let declared = BigInt(json.length);
  if (r() < 0.15) {
    declared = pick(r, [0n, 1n, declared - 1n, declared + 1n, 2n ** 32n, 2n ** 64n - 1n, BigInt(json.length + data.length + 9)]);
    what += `; header length := ${declared}`;
  }
  lenField.writeBigUInt64LE(declared);
  return { bytes: Buffer.concat([lenField, json, data]), what };
}

async function runCase(dir: string): Promise<{ outcome: string; detail: string }> {
  const out: string[] = [];
  const err: string[] = [];
  let code: number;
  try {
    code = await main(['inspect', dir], { out: (s) => out.push(s), err: (s) => err.push(s) });
  } catch (e) {
    return { outcome: 'crash', detail: (e as Error).stack ?? String(e) };
  }
  const errText = err.join('\n');
  if (code !== 0) {
    const clean = code === 1 && /^llamac: error: [^\n]*$/.test(errText) && !/[\u0000-\u001f\u007f]/.test(errText);
    return { outcome: clean ? 'error' : 'bad-error', detail: errText };
  }
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(out.join('\n'))) return { outcome: 'raw-control-output', detail: JSON.stringify(out.join('\n').slice(0, 300)) };
  // inspect accepted it: the importer and one forward pass must give a finite model.
  try {
    const ck = openCheckpoint(dir);
    const graph = importLlama(ck);
    const V = ck.config.vocabSize;
    const logits = await runFresh(referenceRunner(graph, ck), [1 % V, 2 % V, 3 % V]);
    const bad = logits.findIndex((x) => !Number.isFinite(x));
    return bad >= 0 ? { outcome: 'nan-model', detail: `logit ${bad} = ${logits[bad]}` } : { outcome: 'ok', detail: '' };
  } catch (e) {
    // Reading weights may still find a problem inspect does not look for (NaN bytes): a clean
    // one-line error then, never a crash.
    if (e instanceof LlamacError && !/[\n\u0000-\u001f]/.test(e.message)) return { outcome: 'error', detail: `on read: ${e.message}` };
    return { outcome: 'crash', detail: (e as Error).stack ?? String(e) };
  }
}

const [fixtures, work, seedText, maxText, budgetText] = process.argv.slice(2);
const seed = Number(seedText);
const deadline = Date.now() + Number(budgetText);
const FIXTURES = ['stories260K', 'llama32-tiny', 'llama32-tiny-untied'];
const sources = new Map(FIXTURES.map((f) => [f, { config: readFileSync(join(fixtures, f, 'config.json'), 'utf8'), st: readFileSync(join(fixtures, f, 'model.safetensors')) }]));
for (let i = 0; i < Number(maxText) && Date.now() < deadline; i++) {
  const r = rng(seed * 1_000_003 + i);
  const fixture = pick(r, FIXTURES);
  const src = sources.get(fixture) as { config: string; st: Buffer };
  const dir = join(work, `case-${i}`);
  mkdirSync(dir, { recursive: true });
  let what: string;
  if (r() < 0.5) {
    const m = mutateConfig(r, src.config);
    writeFileSync(join(dir, 'config.json'), m.text);
    writeFileSync(join(dir, 'model.safetensors'), src.st);
    what = m.what;
  } else {
    const m = mutateHeader(r, src.st);
    writeFileSync(join(dir, 'config.json'), src.config);
    writeFileSync(join(dir, 'model.safetensors'), m.bytes);
    what = m.what;
  }
  process.stdout.write(JSON.stringify({ start: i, fixture, what }) + '\n');
  const t0 = Date.now();
  const res = await runCase(dir);
  process.stdout.write(JSON.stringify({ i, fixture, what, ...res, ms: Date.now() - t0 }) + '\n');
  rmSync(dir, { recursive: true, force: true });
}
