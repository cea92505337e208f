/** Exit codes and the error a command throws to end with a message and a code. */
export const EXIT_FAILURE = 1;
/** Misuse: unknown command or flag, bad configuration, missing input file. */
export const EXIT_USAGE = 2;

export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
