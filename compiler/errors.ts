/**
 * An error caused by the user's input (a file, tensor, option). The CLI prints its message as one
 * line and exits non-zero; anything else is a bug and keeps its stack trace.
 */
export class LlamacError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LlamacError';
  }
}

/** Raised by the IR verifier: a pass or importer produced an ill-typed graph. */
export class VerifyError extends LlamacError {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyError';
  }
}
