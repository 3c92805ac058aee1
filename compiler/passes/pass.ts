// Pass infrastructure: a pass is a pure Graph -> Graph function with a name; a pipeline is a list
// of pass names (data), run in order with the verifier after each one.

import type { Graph } from '../ir/graph.js';
import type { TensorReader } from '../ir/materialize.js';
import type { Progress } from '../progress.js';
import type { QuantConfig } from './quant-config.js';

export interface PassContext {
  /** Reads checkpoint tensors, for passes that need numbers (quantization, calibration). */
  readonly reader: TensorReader;
  readonly quant: QuantConfig;
  /** Progress messages (shown with --verbose). */
  readonly log: (msg: string) => void;
  /** Progress of long steps (a bar on a terminal); optional. */
  readonly progress?: Progress;
}

export interface Pass {
  readonly name: string;
  readonly description: string;
  run(graph: Graph, ctx: PassContext): Graph | Promise<Graph>;
}
