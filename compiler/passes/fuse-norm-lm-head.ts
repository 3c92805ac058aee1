// fuse-norm-lm-head: the final rms_norm whose only reader is the lm_head linear ==> rms_norm_linear.
// The head is recognised by structure: a linear whose output is a graph output (the logits). A norm
// feeding a layer's projection is left alone, so every layer keeps the same shape.

import type { Graph } from '../ir/graph.js';
import type { Pass } from './pass.js';
import { Rewrite } from './rewrite.js';

export function fuseNormLmHead(g: Graph): Graph {
  const rw = new Rewrite(g);
  const ix = rw.index;
  for (const head of g.nodes) {
    if (head.op !== 'linear' || !ix.isGraphOutput(head.outputs[0])) continue;
    const [normed, weight] = head.inputs;
    const norm = ix.producedBy(normed, 'rms_norm');
    if (!norm || rw.claimed(norm) || !ix.onlyUsedBy(normed, head)) continue;
    rw.replace([norm, head], [{ op: 'rms_norm_linear', name: head.name, inputs: [norm.inputs[0], norm.inputs[1], weight], outputs: head.outputs, attrs: { eps: norm.attrs.eps } }]);
  }
  return rw.finish();
}

export const fuseNormLmHeadPass: Pass = {
  name: 'fuse-norm-lm-head',
  description: 'final rms_norm read only by the lm_head linear => rms_norm_linear',
  run: (g) => fuseNormLmHead(g),
};
