// The build file (JSON or YAML): models x targets x quant configs, validated up front with errors
// that name the file and the key. The schema is documented in README.md ("CI builds").

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { looksLikeHubId } from '../checkpoint/hub.js';
import { LlamacError } from '../errors.js';
import { LAYOUTS } from './layouts.js';
import { makeQuantConfig, type QuantCliOptions } from '../passes/quant-config.js';
import { lookupTarget, TARGET_NAMES } from '../targets/index.js';
import { optionKey } from '../targets/options.js';

export interface ModelSpec {
  /** Short name used in cell and package names. */
  readonly name: string;
  /** A local folder (absolute) or a Hub id. */
  readonly source: string;
  readonly hub: boolean;
  readonly revision: string;
  readonly golden: string | null;
  /** Token-id file ({"stories": [[...]]}) for perplexity, or null. */
  readonly evalIds: string | null;
  readonly evalMaxLen: number | null;
}

export interface TargetSpec {
  readonly name: string;
  readonly label: string;
  /** Target options as the CLI gives them (key -> string). */
  readonly options: Readonly<Record<string, string>>;
}

export interface QuantSpec {
  readonly label: string;
  /** What makeQuantConfig takes, with the calibration as given (a path, 'self' or 'auto'). */
  readonly cli: Omit<QuantCliOptions, 'calibration'> & { readonly calibration?: string };
  readonly fuse: boolean;
}

export interface CellSpec {
  /** `<model>-<target>-<quant>`: unique in a build. */
  readonly id: string;
  readonly model: ModelSpec;
  readonly target: TargetSpec;
  readonly quant: QuantSpec;
}

export interface BuildSpec {
  readonly file: string;
  readonly out: string;
  /** Package layouts written beside the plain artifact (see layouts.ts). */
  readonly layouts: readonly string[];
  readonly cells: readonly CellSpec[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

class Reader {
  constructor(readonly file: string) {}

  fail(key: string, msg: string): never {
    throw new LlamacError(`${this.file}: ${key}: ${msg}`);
  }

  object(v: Json | undefined, key: string, allowed: readonly string[]): { [k: string]: Json } {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'expected a mapping');
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail(key ? `${key}.${k}` : k, `unknown key (known: ${allowed.join(', ')})`);
    }
    return v;
  }

  list(v: Json | undefined, key: string): Json[] {
    if (!Array.isArray(v) || v.length === 0) this.fail(key, 'expected a non-empty list');
    return v;
  }

  string(v: Json | undefined, key: string): string {
    if (typeof v !== 'string' || v === '') this.fail(key, `expected a non-empty string, got ${JSON.stringify(v ?? null)}`);
    return v;
  }

  optString(v: Json | undefined, key: string): string | undefined {
    return v === undefined ? undefined : this.string(v, key);
  }

  optInt(v: Json | undefined, key: string): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) this.fail(key, `expected a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }

  optBool(v: Json | undefined, key: string): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A path relative to the build file's folder, which must exist. */
  path(v: Json | undefined, key: string, kind: 'dir' | 'file'): string {
    const p = resolve(dirname(this.file), this.string(v, key));
    if (!existsSync(p)) this.fail(key, `${p} does not exist`);
    if (kind === 'dir' ? !statSync(p).isDirectory() : !statSync(p).isFile()) this.fail(key, `${p} is not a ${kind === 'dir' ? 'folder' : 'file'}`);
    return p;
  }
}

/** Safe in file and package names. Labels have no '-', so `<model>-<target>-<quant>-<hash>` parses from the right. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._]*$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(r: Reader, key: string, name: string, re = LABEL): string {
  if (!re.test(name)) r.fail(key, `'${name}' is not a usable name (letters, digits, '.', '_'${re === LABEL ? "; no '-', which separates the parts of a package name" : ", '-'"})`);
  return name;
}

function readModel(r: Reader, v: Json, i: number): ModelSpec {
  const key = `models[${i}]`;
  const m = r.object(v, key, ['path', 'hub', 'revision', 'name', 'golden', 'eval', 'eval_max_len']);
  if ((m['path'] === undefined) === (m['hub'] === undefined)) r.fail(key, "give exactly one of 'path' (a checkpoint folder) or 'hub' (a Hub id)");
  let source: string;
  let hub = false;
  if (m['path'] !== undefined) {
    source = r.path(m['path'], `${key}.path`, 'dir');
    if (!existsSync(resolve(source, 'config.json'))) r.fail(`${key}.path`, `${source} has no config.json`);
  } else {
    source = r.string(m['hub'], `${key}.hub`);
    if (!looksLikeHubId(source)) r.fail(`${key}.hub`, `'${source}' is not a Hub id (owner/name)`);
    hub = true;
  }
  const revision = r.optString(m['revision'], `${key}.revision`) ?? 'main';
  if (!hub && m['revision'] !== undefined) r.fail(`${key}.revision`, "only Hub models ('hub') have a revision");
  const name = checkName(r, `${key}.name`, r.optString(m['name'], `${key}.name`) ?? basename(source), MODEL_NAME);
  const golden = m['golden'] === undefined ? null : r.path(m['golden'], `${key}.golden`, 'dir');
  if (golden && !existsSync(resolve(golden, 'golden.json'))) r.fail(`${key}.golden`, `${golden} has no golden.json`);
  const evalIds = m['eval'] === undefined ? null : r.path(m['eval'], `${key}.eval`, 'file');
  const evalMaxLen = r.optInt(m['eval_max_len'], `${key}.eval_max_len`) ?? null;
  if (evalMaxLen !== null && evalIds === null) r.fail(`${key}.eval_max_len`, "needs 'eval'");
  return { name, source, hub, revision, golden, evalIds, evalMaxLen };
}

function readTarget(r: Reader, v: Json, i: number): TargetSpec {
  const key = `targets[${i}]`;
  if (typeof v === 'string') v = { name: v };
  const t = r.object(v, key, ['name', 'label', 'options']);
  const name = r.string(t['name'], `${key}.name`);
  if (!TARGET_NAMES.includes(name)) r.fail(`${key}.name`, `unknown target '${name}' (known: ${TARGET_NAMES.join(', ')})`);
  const options: Record<string, string> = {};
  if (t['options'] !== undefined) {
    const o = t['options'];
    if (o === null || typeof o !== 'object' || Array.isArray(o)) r.fail(`${key}.options`, 'expected a mapping of option -> value');
    // Options by their flag name (onnx-ops, as on the command line) or their key (onnxOps).
    const specs = Object.values(lookupTarget(name).options);
    for (const [k, val] of Object.entries(o)) {
      if (typeof val !== 'string' && typeof val !== 'number') r.fail(`${key}.options.${k}`, 'expected a string or number');
      const spec = specs.find((sp) => sp.flag === k || optionKey(sp) === k);
      if (!spec) r.fail(`${key}.options.${k}`, `not an option of target ${name} (its options: ${specs.map((sp) => sp.flag).join(', ') || 'none'})`);
      options[optionKey(spec)] = String(val);
    }
  }
  const label = checkName(r, `${key}.label`, r.optString(t['label'], `${key}.label`) ?? name);
  return { name, label, options };
}

const QUANT_KEYS = ['name', 'label', 'group_size', 'sym', 'scale_dtype', 'method', 'embeddings', 'calibration', 'fuse'];

function readQuant(r: Reader, v: Json, i: number): QuantSpec {
  const key = `quant[${i}]`;
  if (typeof v === 'string') v = { name: v };
  const q = r.object(v, key, QUANT_KEYS);
  const name = r.string(q['name'], `${key}.name`);
  let calibration = r.optString(q['calibration'], `${key}.calibration`);
  if (calibration !== undefined && calibration !== 'self' && calibration !== 'auto') calibration = r.path(calibration, `${key}.calibration`, 'file');
  const cli = {
    quant: name,
    groupSize: r.optInt(q['group_size'], `${key}.group_size`),
    symmetric: r.optBool(q['sym'], `${key}.sym`),
    scaleDtype: r.optString(q['scale_dtype'], `${key}.scale_dtype`),
    method: r.optString(q['method'], `${key}.method`),
    quantEmbeddings: r.optString(q['embeddings'], `${key}.embeddings`),
    calibration,
  };
  // The quantizer's own checks, with the key in front of its message.
  try {
    makeQuantConfig({ ...cli, calibration: calibration === undefined ? undefined : 'self' });
  } catch (e) {
    if (e instanceof LlamacError) r.fail(key, e.message);
    throw e;
  }
  const label = checkName(r, `${key}.label`, r.optString(q['label'], `${key}.label`) ?? name);
  return { label, cli, fuse: r.optBool(q['fuse'], `${key}.fuse`) ?? true };
}

const KNOWN_LAYOUTS: readonly string[] = LAYOUTS.map((l) => l.name);

function parseText(file: string, text: string): Json {
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  try {
    return (yaml ? parseYaml(text, { uniqueKeys: true }) : JSON.parse(text)) as Json;
  } catch (e) {
    throw new LlamacError(`${file}: bad ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Reads and validates a build file; every problem is a LlamacError naming the key. Does no work. */
export function loadBuildFile(path: string, outOverride?: string): BuildSpec {
  const file = isAbsolute(path) ? path : resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LlamacError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseBuildSpec(file, parseText(file, text), outOverride);
}

export function parseBuildSpec(file: string, json: Json, outOverride?: string): BuildSpec {
  const r = new Reader(file);
  const top = r.object(json, '', ['models', 'targets', 'quant', 'out', 'layouts']);
  const models = r.list(top['models'], 'models').map((m, i) => readModel(r, m, i));
  const targets = r.list(top['targets'], 'targets').map((t, i) => readTarget(r, t, i));
  const quants = r.list(top['quant'], 'quant').map((q, i) => readQuant(r, q, i));
  const out = outOverride ? resolve(outOverride) : resolve(dirname(file), r.string(top['out'], 'out'));
  const layouts = top['layouts'] === undefined ? [...KNOWN_LAYOUTS] : r.list(top['layouts'], 'layouts').map((l, i) => r.string(l, `layouts[${i}]`));
  layouts.forEach((l, i) => {
    if (!KNOWN_LAYOUTS.includes(l)) r.fail(`layouts[${i}]`, `unknown layout '${l}' (known: ${KNOWN_LAYOUTS.join(', ')})`);
  });
  const names = new Map<string, number>();
  models.forEach((m, i) => {
    const prev = names.get(m.name);
    if (prev !== undefined) r.fail(`models[${i}].name`, `'${m.name}' is also models[${prev}]'s name (set 'name' to tell them apart)`);
    names.set(m.name, i);
  });
  const cells: CellSpec[] = [];
  const seen = new Map<string, string>();
  for (const [mi, model] of models.entries()) {
    for (const [ti, target] of targets.entries()) {
      for (const [qi, quant] of quants.entries()) {
        const id = `${model.name}-${target.label}-${quant.label}`;
        const where = `targets[${ti}] x quant[${qi}]`;
        const prev = seen.get(id);
        if (prev !== undefined) r.fail(where, `duplicate cell '${id}' (also ${prev}); give the target or quant entry a distinct 'label'`);
        seen.set(id, `models[${mi}] x ${where}`);
        cells.push({ id, model, target, quant });
      }
    }
  }
  // Target options are checked by the target itself, before any cell runs.
  for (const [ti, t] of targets.entries()) checkTargetOptions(r, `targets[${ti}].options`, t);
  return { file, out, layouts, cells };
}

function checkTargetOptions(r: Reader, key: string, t: TargetSpec): void {
  try {
    lookupTarget(t.name).checkOptions(t.options);
  } catch (e) {
    if (e instanceof LlamacError) r.fail(key, e.message);
    throw e;
  }
}
