// Every pass by name. The pipelines of targets are lists of these names.

import { dcePass } from './dce.js';
import { fuseGateUpPass } from './fuse-gate-up.js';
import { fuseNormLmHeadPass } from './fuse-norm-lm-head.js';
import { fuseQkvPass } from './fuse-qkv.js';
import { fuseRopeAttentionPass } from './fuse-rope-attention.js';
import { fuseSkipNormPass } from './fuse-skip-norm.js';
import { fuseSwigluPass } from './fuse-swiglu.js';
import type { Pass } from './pass.js';
import { quantizePass } from './quantize.js';
import { shareConstantsPass } from './share-constants.js';

const ALL_PASSES: readonly Pass[] = [
  shareConstantsPass,
  fuseQkvPass,
  fuseGateUpPass,
  fuseSwigluPass,
  fuseRopeAttentionPass,
  fuseSkipNormPass,
  fuseNormLmHeadPass,
  dcePass,
  quantizePass,
];

export const PASS_REGISTRY: ReadonlyMap<string, Pass> = new Map(ALL_PASSES.map((p) => [p.name, p]));

/**
 * The default pipeline: fusions in dependency order, then cleanup, then quantization.
 * share-constants first so every layer's rope reads the one table; fuse-qkv and fuse-gate-up make
 * the splits that fuse-rope-attention and fuse-swiglu consume; fuse-skip-norm and
 * fuse-norm-lm-head match disjoint norms, so their order is free; dce drops the unstacked weights.
 */
export const DEFAULT_PIPELINE: readonly string[] = [
  'share-constants',
  'fuse-qkv',
  'fuse-gate-up',
  'fuse-swiglu',
  'fuse-rope-attention',
  'fuse-skip-norm',
  'fuse-norm-lm-head',
  'dce',
];
