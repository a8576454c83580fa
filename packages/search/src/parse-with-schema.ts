import type { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `data` with `schema`; a failure lists every bad field after `source`. */
export function parseWithSchema<Schema extends z.ZodType>(schema: Schema, data: unknown, source: string): z.infer<Schema> {
  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`${source}: ${problems.join('; ')}`);
  }
  return result.data;
}
