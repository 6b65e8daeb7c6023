/**
 * Filling a stage's options from its defaults and a scale: the given options win, except
 * that an option given as `undefined` means "use the default".
 *
 * @module
 */

/**
 * `{ ...defaults, ...given }` without the keys of `given` whose value is undefined. The
 * caller states the full options type `T`; the stage checks the values.
 *
 * @example
 * ```ts
 * import { withDefaults } from "./_defaults.ts";
 * withDefaults<{ steps: number; seed: number }>({ steps: 50, seed: 0 }, {
 *   seed: 1,
 *   steps: undefined,
 * }); // { steps: 50, seed: 1 }
 * ```
 */
export function withDefaults<T extends object>(defaults: Partial<T>, given: Partial<T>): T {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out as T;
}
