// Target options, declared by each target as data: the CLI builds its flags from the specs, checks
// the given strings before anything is read, and the target receives typed values.

import { LlamacError } from '../errors.js';

interface SpecBase {
  /** The command-line flag without dashes, e.g. 'onnx-ops'. Unique over all targets. */
  readonly flag: string;
  readonly help: string;
}

export interface EnumSpec<V extends string = string> extends SpecBase {
  readonly kind: 'enum';
  readonly values: readonly V[];
  readonly default: V;
}

export interface IntSpec extends SpecBase {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

export type OptionSpec = EnumSpec | IntSpec;

/** A target's options by the property name its code reads them as. */
export type OptionSpecs = { readonly [key: string]: OptionSpec };

export type OptionValue<S extends OptionSpec> = S extends EnumSpec<infer V> ? V : number;

/** The typed values a target receives. */
export type OptionValues<S extends OptionSpecs> = { readonly [K in keyof S]: OptionValue<S[K]> };

/** The strings given on the command line (or by an API caller), keyed by optionKey(spec). */
export type GivenOptions = Readonly<Record<string, string>>;

/** commander's attribute name for a flag ('onnx-accuracy-level' -> 'onnxAccuracyLevel'); manifests record it. */
export function optionKey(spec: OptionSpec): string {
  return spec.flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** One line describing what a spec accepts, for help and errors. */
export function describeAccepted(spec: OptionSpec): string {
  return spec.kind === 'enum' ? spec.values.join(' | ') : `an integer ${spec.min}..${spec.max}`;
}

function parseOne<S extends OptionSpec>(spec: S, text: string | undefined): OptionValue<S>;
function parseOne(spec: OptionSpec, text: string | undefined): string | number {
  if (text === undefined) return spec.default;
  const bad = () => new LlamacError(`--${spec.flag}: expected ${describeAccepted(spec)}, got '${text}'`);
  if (spec.kind === 'enum') {
    const v = spec.values.find((x) => x === text);
    if (v === undefined) throw bad();
    return v;
  }
  if (!/^-?\d+$/.test(text)) throw bad();
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw bad();
  return n;
}

/** Checks every given string against its spec (defaults for the rest); unknown keys are an error. */
export function parseOptions<S extends OptionSpecs>(target: string, specs: S, given: GivenOptions): OptionValues<S> {
  const known = new Map(Object.values(specs).map((s) => [optionKey(s), s]));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) throw new LlamacError(`option '${key}' is not an option of target ${target} (its options: ${[...known.values()].map((s) => `--${s.flag}`).join(', ') || 'none'})`);
  }
  const out: { [K in keyof S]?: OptionValue<S[K]> } = {};
  for (const key of Object.keys(specs) as (keyof S & string)[]) {
    const spec = specs[key];
    out[key] = parseOne(spec, given[optionKey(spec)]);
  }
  return out as OptionValues<S>;
}
