/**
 * The `fanout` command line: `token`, `publish`, `tail`, `dlq` (list, show, redrive) and `dev` (with
 * the local runtime). Every command and option is in one table (spec.ts), from which the parser and
 * the help are made.
 *
 * @packageDocumentation
 */

export type { Output } from './commands.js';
export { type Context, main } from './main.js';
