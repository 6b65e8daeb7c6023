/**
 * The error of a stage option (or a flag) that can never be right, raised before the stage
 * reads or writes the store: the command line reports it as a usage error (exit status 2).
 *
 * @module
 */

/**
 * A bad option value; the message names the option (and its `--flag`) and what was expected.
 * A RangeError, so code that catches those keeps working.
 *
 * @example
 * ```ts
 * import { OptionError } from "./option_error.ts";
 * throw new OptionError("sample: option steps (--steps) must be an integer >= 1, got 0");
 * ```
 */
export class OptionError extends RangeError {
  /** An option error with the given message. */
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}
