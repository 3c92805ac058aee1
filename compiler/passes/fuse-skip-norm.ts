// fuse-skip-norm: add(residual, x) whose sum feeds an rms_norm and is also read later as the next
// residual ==> skip_rms_norm(x, residual, weight) -> (normed, sum): one pass over the hidden state.
// A sum read by the norm alone (the last layer's, before the final norm) is left to fuse-norm-lm-head.

import type { Graph } from '../ir/graph.js';
import type { Pass } from './pass.js';
import { Rewrite } from './rewrite.js';

export function fuseSkipNorm(g: Graph): Graph {
  const rw = new Rewrite(g);
  const ix = rw.index;
  for (const add of g.nodes) {
    if (add.op !== 'add' || rw.claimed(add)) continue;
    const sum = add.outputs[0];
    const users = ix.usersOf(sum);
    const norm = users.find((u) => u.op === 'rms_norm' && u.inputs[0].id === sum.id && !rw.claimed(u));
    if (!norm || norm.op !== 'rms_norm') continue;
    const readLater = ix.isGraphOutput(sum) || users.some((u) => u !== norm);
    if (!readLater) continue;
    const [residual, x] = add.inputs;
    // Named after the norm it replaces; both old output values live on.
    rw.replace([add, norm], [{ op: 'skip_rms_norm', name: norm.name, inputs: [x, residual, norm.inputs[1]], outputs: [norm.outputs[0], sum], attrs: { eps: norm.attrs.eps } }]);
  }
  return rw.finish();
}

export const fuseSkipNormPass: Pass = {
  name: 'fuse-skip-norm',
  description: 'residual add feeding an rms_norm, its sum read again later => skip_rms_norm -> (normed, sum)',
  run: (g) => fuseSkipNorm(g),
};
