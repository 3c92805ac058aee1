// Lowers a Llama checkpoint to the core IR: the plain decoder, one op per step, no fusion.
// Fusion and quantization are passes; this file only says what the model computes.

import { join } from 'node:path';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { checkRopeFrequencies } from '../checkpoint/config.js';
import { layerTensorName } from '../checkpoint/llama-names.js';
import { GraphBuilder, type Graph, type ModelInfo, type Value } from '../ir/graph.js';
import { tensorType, type DType } from '../ir/types.js';
import { verifyGraph } from '../ir/verify.js';
import { ropeInvFreq } from './rope.js';

const f32 = (shape: (number | string)[]) => tensorType('f32', shape);

export function modelInfo(ck: Checkpoint): ModelInfo {
  const c = ck.config;
  return {
    name: ck.name,
    vocabSize: c.vocabSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    numKvHeads: c.numKvHeads,
    headDim: c.headDim,
    intermediateSize: c.intermediateSize,
    maxPositions: c.maxPositions,
    rmsNormEps: c.rmsNormEps,
    ropeTheta: c.ropeTheta,
    tiedEmbeddings: c.tiedEmbeddings,
    bosTokenId: c.bosTokenId,
    eosTokenIds: c.eosTokenIds,
  };
}

export function importLlama(ck: Checkpoint): Graph {
  const c = ck.config;
  const b = new GraphBuilder();
  const weight = (name: string): Value => {
    const ref = ck.tensors.get(name);
    if (!ref) throw new Error(`internal: tensor ${name} not validated`);
    return b.param(name, tensorType(ref.dtype.toLowerCase() as DType, ref.shape), { kind: 'checkpoint', tensor: name });
  };
  const { hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hd, intermediateSize: F, vocabSize: V } = c;

  const ids = b.value('input_ids', tensorType('i32', ['seq']));
  const positions = b.value('position_ids', tensorType('i32', ['seq']));
  const past: Value[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    past.push(b.value(`past.${i}.key`, f32([nkv, 'past', hd])), b.value(`past.${i}.value`, f32([nkv, 'past', hd])));
  }
  const inputs = [ids, positions, ...past];
  const present: Value[] = [];

  const embed = weight('model.embed_tokens.weight');
  let h = b.value('embeddings', f32(['seq', H]));
  b.node('embedding', 'embed_tokens', [embed, ids], [h], {});
  const invFreqData = ropeInvFreq(hd, c.ropeTheta, c.ropeScaling);
  checkRopeFrequencies(invFreqData, c, join(ck.dir, 'config.json'));

  for (let i = 0; i < c.numLayers; i++) {
    const p = `layers.${i}`;
    const w = (suffix: string) => weight(layerTensorName(i, suffix));
    const linear = (name: string, x: Value, wt: Value, n: number): Value => {
      const y = b.value(`${p}.${name}`, f32(['seq', n]));
      b.node('linear', `${p}.${name}`, [x, wt], [y], {});
      return y;
    };
    const n1 = b.value(`${p}.attn_norm`, f32(['seq', H]));
    b.node('rms_norm', `${p}.input_layernorm`, [h, w('input_layernorm.weight')], [n1], { eps: c.rmsNormEps });
    const q = linear('q', n1, w('self_attn.q_proj.weight'), nh * hd);
    const k = linear('k', n1, w('self_attn.k_proj.weight'), nkv * hd);
    const v = linear('v', n1, w('self_attn.v_proj.weight'), nkv * hd);
    // One table per layer, as a naive lowering would; the share-constants pass dedups them.
    const invFreq = b.param(`${p}.rope.inv_freq`, f32([hd / 2]), { kind: 'constant', data: invFreqData });
    const qr = b.value(`${p}.q_rope`, f32(['seq', nh * hd]));
    b.node('rope', `${p}.rope_q`, [q, positions, invFreq], [qr], { heads: nh, headDim: hd });
    const kr = b.value(`${p}.k_rope`, f32(['seq', nkv * hd]));
    b.node('rope', `${p}.rope_k`, [k, positions, invFreq], [kr], { heads: nkv, headDim: hd });
    const att = b.value(`${p}.attn`, f32(['seq', nh * hd]));
    const pk = b.value(`present.${i}.key`, f32([nkv, 'total', hd]));
    const pv = b.value(`present.${i}.value`, f32([nkv, 'total', hd]));
    b.node('attention', `${p}.self_attn`, [qr, kr, v, past[2 * i], past[2 * i + 1]], [att, pk, pv], {
      heads: nh,
      kvHeads: nkv,
      headDim: hd,
      scale: 1 / Math.sqrt(hd),
    });
    present.push(pk, pv);
    const o = linear('o', att, w('self_attn.o_proj.weight'), H);
    const h1 = b.value(`${p}.attn_residual`, f32(['seq', H]));
    b.node('add', `${p}.attn_add`, [h, o], [h1], {});
    const n2 = b.value(`${p}.mlp_norm`, f32(['seq', H]));
    b.node('rms_norm', `${p}.post_attention_layernorm`, [h1, w('post_attention_layernorm.weight')], [n2], { eps: c.rmsNormEps });
    const gate = linear('gate', n2, w('mlp.gate_proj.weight'), F);
    const up = linear('up', n2, w('mlp.up_proj.weight'), F);
    const act = b.value(`${p}.gate_silu`, f32(['seq', F]));
    b.node('silu', `${p}.silu`, [gate], [act], {});
    const prod = b.value(`${p}.gate_up`, f32(['seq', F]));
    b.node('mul', `${p}.mul`, [act, up], [prod], {});
    const down = linear('down', prod, w('mlp.down_proj.weight'), H);
    const h2 = b.value(`${p}.output`, f32(['seq', H]));
    b.node('add', `${p}.mlp_add`, [h1, down], [h2], {});
    h = h2;
  }
  const normed = b.value('final_norm', f32(['seq', H]));
  b.node('rms_norm', 'norm', [h, weight('model.norm.weight')], [normed], { eps: c.rmsNormEps });
  // Tied: lm_head reads the very embedding parameter, so no copy exists anywhere downstream.
  const lmHead = c.tiedEmbeddings ? embed : weight('lm_head.weight');
  const logits = b.value('logits', f32(['seq', V]));
  b.node('linear', 'lm_head', [normed, lmHead], [logits], {});

  const graph: Graph = { info: modelInfo(ck), inputs, outputs: [logits, ...present], nodes: b.nodes, params: b.params };
  verifyGraph(graph);
  return graph;
}
