import { describe, expect, it, vi } from 'vitest';
import { cachedPasswords, passwordFromSecret } from '../../../../functions/health-check/secrets.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf';

describe('passwordFromSecret', () => {
  it('takes the password field of an RDS-style JSON secret', () => {
    expect(passwordFromSecret('{"username":"monitor","password":"s3cret"}')).toBe('s3cret');
  });

  it('takes a plain-text secret as the password', () => {
    expect(passwordFromSecret('plain-s3cret')).toBe('plain-s3cret');
  });

  it('refuses a JSON secret without a password, without echoing the secret', () => {
    expect(() => passwordFromSecret('{"username":"monitor","pass":"s3cret"}')).toThrow(
      /^the JSON secret has no "password" field$/,
    );
  });

  it('refuses an empty secret', () => {
    expect(() => passwordFromSecret('  ')).toThrow(/empty/);
  });
});

describe('cachedPasswords', () => {
  it('reads each secret once within the cache lifetime and again after it', async () => {
    // Prepare
    let clock = 0;
    const read = vi.fn(async () => '{"password":"p"}');
    const passwords = cachedPasswords(read, 1000, () => clock);

    // Act
    await passwords(ARN);
    await passwords(ARN);
    clock = 1500;
    await passwords(ARN);

    // Assess
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('does not cache a failed read', async () => {
    // Prepare
    const read = vi.fn().mockRejectedValueOnce(new Error('throttled')).mockResolvedValueOnce('p');
    const passwords = cachedPasswords(read);

    // Act
    await expect(passwords(ARN)).rejects.toThrow('throttled');
    const second = await passwords(ARN);

    // Assess
    expect(second).toBe('p');
  });
});
