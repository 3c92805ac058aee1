// `llamac verify --report`: the build report's HTML for one verify run (one cell), with the
// per-layer hidden-state errors from taps.

import { basename } from 'node:path';
import type { Built } from '../compile.js';
import { LLAMAC_VERSION } from '../version.js';
import type { Golden } from '../verify/golden.js';
import type { VerifyReport } from '../verify/verify.js';
import { writeAtomic } from './command.js';
import { buildReportHtml } from './report.js';
import { layerErrors } from './verify-cell.js';
import { roundFigures } from './cell.js';

export async function writeVerifyReport(file: string, model: string, built: Built, golden: Golden, report: VerifyReport, vsReference: VerifyReport | null, seconds: number): Promise<void> {
  const layers = built.target.name === 'reference' ? null : await layerErrors(built, golden);
  const pass = report.pass && (vsReference?.pass ?? true);
  const quant = built.ctx.quant.name;
  const id = `${basename(model)}-${built.target.name}-${quant}`;
  const verification = roundFigures({ pass, against: 'golden' as const, golden: report, vs_reference: vsReference, layers, perplexity: null });
  const cell = { id, model: basename(model), target: built.target.name, quant, status: pass ? ('pass' as const) : ('fail' as const), cached: false, seconds, package: null, sha256: null, bytes: null, verification, error: null };
  const summary = { build_file: `llamac verify ${model}`, out: '', llamac_version: LLAMAC_VERSION, pass, cells_total: 1, cells_rebuilt: 1, cells_cached: 0, cells_failed: pass ? 0 : 1, seconds, cells: [cell] };
  writeAtomic(file, buildReportHtml(summary, `llamac verify: ${id}`));
}
