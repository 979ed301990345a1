import { describe, expect, it } from 'vitest';
import { overridesSchema } from '../../../../functions/rds-restore/input.ts';

describe('rds-restore overrides', () => {
  it('accepts publiclyAccessible false, which makes a copy of a public source private', () => {
    // Act
    const parsed = overridesSchema.safeParse({ publiclyAccessible: false });

    // Assess
    expect(parsed.success).toBe(true);
  });

  it('refuses publiclyAccessible true, naming the field', () => {
    // Act
    const parsed = overridesSchema.safeParse({ publiclyAccessible: true });

    // Assess
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['publiclyAccessible']);
  });
});
