// JUnit XML for CI systems: one testsuite per build, one testcase per cell (classname = model,
// name = target-quant), a <failure> for a failed verification and an <error> for a cell that broke.

import type { BuildSummary, CellSummary } from './index.js';
import { worstLogitError } from './index.js';

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function failureText(c: CellSummary): string {
  const v = c.verification;
  if (!v) return '';
  const lines: string[] = [];
  for (const [label, r] of [['vs reference', v.vs_reference], ['vs golden', v.golden]] as const) {
    if (!r) continue;
    for (const [name, k] of Object.entries(r.cases)) if (!k.pass) lines.push(`${label} ${name}: max_abs_err=${k.max_abs_err} top1=${k.top1} kl=${k.kl} (${r.thresholds.label})`);
    if (r.greedy && !r.greedy.pass) lines.push(`${label} greedy: match=${r.greedy.match} max_abs_err=${r.greedy.max_abs_err}`);
  }
  return lines.join('\n');
}

export function junitXml(s: BuildSummary): string {
  const failures = s.cells.filter((c) => c.status === 'fail').length;
  const errors = s.cells.filter((c) => c.status === 'error').length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="llamac build" tests="${s.cells.length}" failures="${failures}" errors="${errors}" time="${s.seconds.toFixed(3)}">`];
  out.push(`  <testsuite name="${esc(s.build_file)}" tests="${s.cells.length}" failures="${failures}" errors="${errors}" time="${s.seconds.toFixed(3)}">`);
  for (const c of s.cells) {
    const worst = c.verification ? worstLogitError(c.verification) : null;
    out.push(`    <testcase classname="${esc(c.model)}" name="${esc(`${c.target}-${c.quant}`)}" time="${c.seconds.toFixed(3)}">`);
    const props = [['cached', String(c.cached)], ['package', c.package ?? ''], ['sha256', c.sha256 ?? ''], ['max_abs_err', worst === null ? '' : String(worst)]];
    out.push('      <properties>' + props.map(([k, v]) => `<property name="${k}" value="${esc(v)}"/>`).join('') + '</properties>');
    if (c.status === 'fail') out.push(`      <failure message="verification failed" type="verification">${esc(failureText(c))}</failure>`);
    if (c.status === 'error') out.push(`      <error message="${esc(c.error ?? '')}" type="error"/>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
