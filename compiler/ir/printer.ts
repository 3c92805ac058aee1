// Readable text form of a graph (`llamac inspect --ir`, `--dump-ir-after`). Stable across runs so
// it can be diffed and snapshot-tested.

import type { Graph, Value, WeightSource } from './graph.js';
import { formatType } from './types.js';

function sourceText(s: WeightSource): string {
  switch (s.kind) {
    case 'checkpoint':
      return `checkpoint("${s.tensor}")`;
    case 'concat_rows':
      return `concat_rows(${s.parts.map(sourceText).join(', ')})`;
    case 'scale_cols':
      return `scale_cols(${sourceText(s.base)})`;
    case 'scale_rows':
      return `scale_rows(${sourceText(s.base)})`;
    case 'scale_elems':
      return `scale_elems(${sourceText(s.base)})`;
    case 'constant':
      return `constant(${s.data.length})`;
    case 'quantized':
      return `quantized(${sourceText(s.from)})`;
  }
}

function attrText(attrs: object): string {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return '';
  return ' {' + entries.map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(6) : String(v)}`).join(', ') + '}';
}

const ref = (v: Value): string => `%${v.name}`;

export function printGraph(g: Graph): string {
  const lines: string[] = [];
  const i = g.info;
  lines.push(`graph "${i.name}" (layers=${i.numLayers}, hidden=${i.hiddenSize}, heads=${i.numHeads}/${i.numKvHeads}, head_dim=${i.headDim}, ffn=${i.intermediateSize}, vocab=${i.vocabSize}) {`);
  for (const v of g.inputs) lines.push(`  input ${ref(v)} : ${formatType(v.type)}`);
  for (const p of g.params) lines.push(`  param ${ref(p)} : ${formatType(p.type)} = ${p.param ? sourceText(p.param) : '?'}`);
  for (const n of g.nodes) {
    const outs = n.outputs.map(ref).join(', ');
    const types = n.outputs.map((o) => formatType(o.type)).join(', ');
    lines.push(`  ${outs} = ${n.op}(${n.inputs.map(ref).join(', ')})${attrText(n.attrs)} : ${types}`);
  }
  lines.push(`  return ${g.outputs.map(ref).join(', ')}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
