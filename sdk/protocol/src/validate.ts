import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * Validation with the protocol's schemas. They are built with `zod/mini` (tree-shakable: a browser
 * bundle of the client carries a few kilobytes of it, not the whole of zod), which leaves messages
 * generic unless given a locale; the English one is passed per call, so the host application's own
 * zod configuration is never changed.
 */
const english = en();

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** `value` checked against `schema`: the parsed value, or one `path: message` line per problem. */
export function check<S extends z.ZodMiniType>(schema: S, value: unknown): Checked<z.output<S>> {
  const result = z.safeParse(schema, value, { error: english.localeError });
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    }),
  };
}
