import { ConfigError, functionEnvironment } from '../../../shared/config';
import { integerSetting } from '../../../shared/deployment/manifest';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

describe('configuration', () => {
  it('reads a required variable and names it when missing or blank', () => {
    expect(functionEnvironment('connect', { TABLE_NAME: ' t ' }).string('TABLE_NAME')).toBe('t');
    expect(() => functionEnvironment('connect', {})).toThrow(
      new ConfigError('TABLE_NAME is required but not set'),
    );
    expect(() => functionEnvironment('connect', { TABLE_NAME: '  ' })).toThrow(ConfigError);
  });

  it('treats a blank optional variable as unset', () => {
    const read = (issuer: string) =>
      functionEnvironment('authorizer', { AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: issuer }).optionalString(
        'AUTH_ISSUER',
      );
    expect(read('')).toBeUndefined();
    expect(read(' ')).toBeUndefined();
    expect(read('x')).toBe('x');
  });

  it('parses integers within range and explains a bad value', () => {
    const { min, max, default: fallback } = integerSetting('subscribe', 'MAX_SUBSCRIPTIONS');
    const read = (value?: string) =>
      functionEnvironment('subscribe', {
        TABLE_NAME: 't',
        MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/local',
        ...(value === undefined ? {} : { MAX_SUBSCRIPTIONS: value }),
      }).integer('MAX_SUBSCRIPTIONS');
    expect(read()).toBe(fallback);
    expect(read('')).toBe(fallback);
    expect(read(' 7 ')).toBe(7);
    expect(read(String(max))).toBe(max);
    for (const bad of [String(min - 1), String(max + 1), '2.5', 'x']) {
      expect(() => read(bad)).toThrow(
        `MAX_SUBSCRIPTIONS must be an integer from ${min} to ${max}, got "${bad}"`,
      );
    }
  });
});
