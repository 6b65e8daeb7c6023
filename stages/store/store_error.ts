/**
 * The error of a store that cannot be used as asked.
 *
 * @module
 */

/**
 * Error for a store that cannot be used as asked; the message names the path.
 *
 * @example
 * ```ts
 * import { StoreError } from "./store_error.ts";
 * throw new StoreError("No store at .store: .store/store.json does not exist");
 * ```
 */
export class StoreError extends Error {
  /** A store error with the given message. */
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}
