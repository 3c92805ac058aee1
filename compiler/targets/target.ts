// A target: the pipeline it wants, how it writes an artifact folder, and how it runs one for
// verification. A new target is a new folder under compiler/targets/ plus one line in index.ts.

import type { Graph } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';
import type { QuantConfig } from '../passes/quant-config.js';
import type { Progress } from '../progress.js';
import type { ModelRunner } from './runner.js';

export interface CompileContext {
  readonly reader: TensorReader;
  /** The source checkpoint folder (tokenizer and generation files are copied from it). */
  readonly checkpointDir: string;
  readonly quant: QuantConfig;
  /** Target-specific options from the CLI, e.g. { onnxOps: 'ort' }. */
  readonly options: Readonly<Record<string, string>>;
  /** The compile options as given, recorded in manifests. */
  readonly recordedOptions: Readonly<Record<string, string | number | boolean>>;
  readonly log: (msg: string) => void;
  /** Progress of long steps (a bar on a terminal); optional. */
  readonly progress?: Progress;
}

export interface Target {
  readonly name: string;
  /** Pass names run before emission (see compiler/passes/registry.ts). */
  readonly pipeline: readonly string[];
  /** Write the artifact into outDir, an empty temporary folder the driver renames on success. */
  emit(graph: Graph, outDir: string, ctx: CompileContext): Promise<void>;
  /** Run an emitted artifact for verify/eval. */
  load(artifactDir: string, graph: Graph, ctx: CompileContext): Promise<ModelRunner>;
}
