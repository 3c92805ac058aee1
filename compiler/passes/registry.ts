// Every pass by name. The pipelines of targets are lists of these names.

import type { Pass } from './pass.js';

const ALL_PASSES: readonly Pass[] = [];

export const PASS_REGISTRY: ReadonlyMap<string, Pass> = new Map(ALL_PASSES.map((p) => [p.name, p]));

/** The default pipeline: fusions in dependency order, then cleanup, then quantization. */
export const DEFAULT_PIPELINE: readonly string[] = [];
