#!/usr/bin/env node
import { cleanupAll } from '../compiler/output.js';
import { main } from './cli.js';

// `llamac inspect --ir | head`: a closed pipe ends the output, not the process with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Ctrl-C, kill, a closed terminal: remove the temp folders (and nothing is left at --out), then
// exit with the shell's 128 + signal number. SIGKILL cannot be caught: the next run sweeps those.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    cleanupAll();
    process.exit(code);
  });
}

const code = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
});
process.exitCode = code;
