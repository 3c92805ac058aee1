// The IR verifier, run after import and after every pass: SSA (each value defined once, before its
// uses), arity, and every node's inferred output types equal to the types it declares.

import { VerifyError } from '../errors.js';
import type { Graph } from './graph.js';
import { OPS } from './ops.js';
import { formatType, type TensorType } from './types.js';

function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

export function verifyGraph(g: Graph): void {
  const defined = new Set<number>();
  const define = (id: number, what: string): void => {
    if (defined.has(id)) throw new VerifyError(`value %${id} (${what}) defined twice`);
    defined.add(id);
  };
  for (const v of g.inputs) define(v.id, v.name);
  for (const p of g.params) {
    if (!p.param) throw new VerifyError(`parameter ${p.name} has no weight source`);
    define(p.id, p.name);
    const src = p.param;
    if (src.kind === 'quantized') {
      const m = src.matrix;
      if (!p.type.quant) throw new VerifyError(`parameter ${p.name}: quantized data but type ${formatType(p.type)} has no scheme`);
      if (p.type.shape[0] !== m.rows || p.type.shape[1] !== m.cols) {
        throw new VerifyError(`parameter ${p.name}: quantized matrix ${m.rows}x${m.cols} does not match ${formatType(p.type)}`);
      }
    } else if (p.type.quant) {
      throw new VerifyError(`parameter ${p.name}: type says quantized but source is ${src.kind}`);
    }
  }
  for (const n of g.nodes) {
    const def = OPS[n.op];
    if (n.inputs.length !== def.inputs.length) throw new VerifyError(`${n.name} (${n.op}): ${n.inputs.length} inputs, expected ${def.inputs.length}`);
    if (def.outputs.length > 0 && n.outputs.length !== def.outputs.length) throw new VerifyError(`${n.name} (${n.op}): ${n.outputs.length} outputs, expected ${def.outputs.length}`);
    for (const v of n.inputs) if (!defined.has(v.id)) throw new VerifyError(`${n.name} (${n.op}): input ${v.name} (%${v.id}) used before it is defined`);
    let inferred: TensorType[];
    try {
      inferred = def.infer(n.inputs.map((v) => v.type), n.attrs);
    } catch (e) {
      if (e instanceof VerifyError) throw new VerifyError(`${n.name}: ${e.message}`);
      throw e;
    }
    if (n.outputs.length !== inferred.length) throw new VerifyError(`${n.name} (${n.op}): ${n.outputs.length} outputs, inferred ${inferred.length}`);
    n.outputs.forEach((o, i) => {
      if (!sameType(o.type, inferred[i])) throw new VerifyError(`${n.name} (${n.op}): output ${o.name} declared ${formatType(o.type)}, inferred ${formatType(inferred[i])}`);
      define(o.id, o.name);
    });
  }
  for (const o of g.outputs) if (!defined.has(o.id)) throw new VerifyError(`graph output ${o.name} is never defined`);
}
