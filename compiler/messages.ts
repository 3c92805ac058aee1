// Text that goes into one-line error messages: values from user files are described, never
// echoed raw. Control characters are escaped (a message stays one line and cannot drive the
// terminal) and integers beyond 2^53 are not printed as the nearest double.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Escape C0/C1 control characters (and line separators) as \n, \t, \xNN or \uNNNN. */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A number as it can be stated exactly: integers past 2^53 were rounded by JSON.parse. */
export function describeNumber(v: number): string {
  if (Number.isInteger(v) && !Number.isSafeInteger(v)) return `a number beyond 2^53 (about ${v.toExponential(3)})`;
  return String(v);
}

/** A JSON value from a user file, short and exact, for an error message. */
export function describeJson(v: unknown): string {
  if (typeof v === 'number') return describeNumber(v);
  if (v === undefined) return 'nothing';
  let s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x) ? `<${describeNumber(x)}>` : x)) ?? String(v);
  if (s.length > 80) s = s.slice(0, 77) + '...';
  return s;
}
