/**
 * The `fanout` command line: `token`, `publish`, `dlq` (list, show, redrive) and `dev` (with the local
 * runtime).
 *
 * @packageDocumentation
 */

export type { Output } from './commands.js';
export { main } from './main.js';
