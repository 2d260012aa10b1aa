import { z } from 'zod';

/** Secrets are never literal in the file: they name where the value lives. */
export const SecretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, {
    message: 'write secrets as a reference, "env:VARIABLE_NAME" or "file:/path/to/secret", never as the value itself',
  });
export type SecretRef = z.infer<typeof SecretRef>;
