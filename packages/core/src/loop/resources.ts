/**
 * The contract between a loop and what it owns that holds a Node handle
 * (transports, servers): a leaf module, so classes anywhere can key methods
 * by these symbols at definition time.
 */

/** Key of {@link LoopResource}'s release hook (a symbol, so a resource's own API keeps its names). */
export const RELEASE_ON_LOOP_CLOSE: unique symbol = Symbol('@aioloop/core.releaseOnLoopClose');
/** Key of {@link LoopResource}'s kind ('transport', 'server'). */
export const RESOURCE_KIND: unique symbol = Symbol('@aioloop/core.resourceKind');

/**
 * Something the loop owns that holds a Node handle (a transport, a server):
 * registered while open so `close()` can release it and name it in debug mode.
 */
export interface LoopResource {
  /** Stops its Node handles from keeping the process alive (the loop closed). */
  [RELEASE_ON_LOOP_CLOSE](): void;
  /** What it is, for the warning: 'transport' or 'server'. */
  readonly [RESOURCE_KIND]: string;
  /** asyncio's repr, used in the "unclosed ..." warning. */
  toString(): string;
}
