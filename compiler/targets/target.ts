// A target: its options, the pipeline it wants, its lowering table, its verification bounds, how it
// writes an artifact folder and how it runs one for verify/eval. A target is written with
// defineTarget (typed options in, an erased Target out) and listed once in index.ts; README.md
// ("Adding a target") walks through compiler/targets/reference.ts as the example.

import type { InterpreterOptions } from '../interpreter/kernels.js';
import type { Graph } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';
import type { QuantConfig, QuantName } from '../passes/quant-config.js';
import type { Thresholds } from '../verify/verify.js';
import { assertSupported, type OpSupport } from './lowering.js';
import { parseOptions, type GivenOptions, type OptionSpecs, type OptionValues } from './options.js';
import type { Progress } from '../progress.js';
import type { ModelRunner } from './runner.js';

export interface CompileContext {
  readonly reader: TensorReader;
  /** The source checkpoint folder (tokenizer and generation files are copied from it). */
  readonly checkpointDir: string;
  readonly quant: QuantConfig;
  /** The target's options as given (strings by optionKey, e.g. { onnxOps: 'ort' }); targets get them typed. */
  readonly options: GivenOptions;
  /** The compile options as given, recorded in manifests. */
  readonly recordedOptions: Readonly<Record<string, string | number | boolean>>;
  readonly log: (msg: string) => void;
  /** Progress of long steps (a bar on a terminal); optional. */
  readonly progress?: Progress;
}

/**
 * How a target is judged by `llamac verify` for one quantization: against transformers' goldens,
 * and/or against the reference interpreter running the very same (quantized) graph. null = not
 * enforced (a golden comparison is still reported).
 */
export interface QuantBounds {
  readonly golden: Thresholds | null;
  readonly vsReference: Thresholds | null;
}

/** Every quantization declared (a new QuantName does not compile until each target states its bounds). */
export type VerifyBounds = { readonly [Q in QuantName]: QuantBounds };

/** What a target author writes; its functions receive the option values typed by the specs `S`. */
export interface TargetDef<S extends OptionSpecs> {
  readonly name: string;
  /** One line for --help. */
  readonly description: string;
  readonly options: S;
  /** Pass names run before emission (see compiler/passes/registry.ts). */
  readonly pipeline: readonly string[];
  /** Per op kind its lowering or reject('why'); checked over the graph before anything is written. */
  lowering(opts: OptionValues<S>): OpSupport;
  readonly bounds: VerifyBounds;
  /** Bounds for these option values when an option changes the numerics (default: `bounds`). */
  boundsFor?(opts: OptionValues<S>): VerifyBounds;
  /**
   * The interpreter mode the target's vsReference bounds compare with: float activations, or int8
   * activations for targets whose quantized matmuls quantize x (kernels-arm, the WGSL q8 path).
   */
  referenceMode(opts: OptionValues<S>): InterpreterOptions;
  /** Write the artifact into outDir, an empty temporary folder the driver renames on success. */
  emit(graph: Graph, outDir: string, ctx: CompileContext, opts: OptionValues<S>): Promise<void>;
  /** Run an emitted artifact for verify/eval (the runner holds its own KV cache). */
  load(artifactDir: string, graph: Graph, ctx: CompileContext, opts: OptionValues<S>): Promise<ModelRunner>;
}

/** A target as the driver sees it: options erased to the given strings, checked on every call. */
export interface Target {
  readonly name: string;
  readonly description: string;
  readonly options: OptionSpecs;
  readonly pipeline: readonly string[];
  readonly bounds: VerifyBounds;
  /** The bounds that apply with these options (an option such as int8 activations may change them). */
  boundsFor(given: GivenOptions): VerifyBounds;
  /** Throws a LlamacError naming the option when a given string is not valid for this target. */
  checkOptions(given: GivenOptions): void;
  /** The lowering table for these options (types erased): per op kind a lowering or a rejection. */
  lowering(given: GivenOptions): OpSupport;
  /** Throws `target X does not support op Y (why)` when the graph has an op the target rejects. */
  checkSupport(graph: Graph, given: GivenOptions): void;
  referenceMode(given: GivenOptions): InterpreterOptions;
  emit(graph: Graph, outDir: string, ctx: CompileContext): Promise<void>;
  load(artifactDir: string, graph: Graph, ctx: CompileContext): Promise<ModelRunner>;
}

export function defineTarget<S extends OptionSpecs>(def: TargetDef<S>): Target {
  const typed = (given: GivenOptions): OptionValues<S> => parseOptions(def.name, def.options, given);
  return {
    name: def.name,
    description: def.description,
    options: def.options,
    pipeline: def.pipeline,
    bounds: def.bounds,
    boundsFor: (given) => def.boundsFor?.(typed(given)) ?? def.bounds,
    checkOptions: (given) => void typed(given),
    lowering: (given) => def.lowering(typed(given)),
    checkSupport: (graph, given) => assertSupported(def.name, def.lowering(typed(given)), graph),
    referenceMode: (given) => def.referenceMode(typed(given)),
    emit: (graph, outDir, ctx) => def.emit(graph, outDir, ctx, typed(ctx.options)),
    load: (dir, graph, ctx) => def.load(dir, graph, ctx, typed(ctx.options)),
  };
}
