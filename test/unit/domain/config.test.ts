import { ConfigError, integer, optionalString, requireString } from '../../../shared/config';

describe('configuration', () => {
  it('reads a required variable and names it when missing or blank', () => {
    expect(requireString({ TABLE_NAME: ' t ' }, 'TABLE_NAME')).toBe('t');
    expect(() => requireString({}, 'TABLE_NAME')).toThrow(
      new ConfigError('TABLE_NAME is required but not set'),
    );
    expect(() => requireString({ TABLE_NAME: '  ' }, 'TABLE_NAME')).toThrow(ConfigError);
  });

  it('treats a blank optional variable as unset', () => {
    expect(optionalString({ A: '' }, 'A')).toBeUndefined();
    expect(optionalString({ A: 'x' }, 'A')).toBe('x');
  });

  it('parses integers within range and explains a bad value', () => {
    const range = { min: 1, max: 10 };
    expect(integer({}, 'N', 5, range)).toBe(5);
    expect(integer({ N: '7' }, 'N', 5, range)).toBe(7);
    for (const bad of ['0', '11', '2.5', 'x']) {
      expect(() => integer({ N: bad }, 'N', 5, range)).toThrow(
        `N must be an integer from 1 to 10, got "${bad}"`,
      );
    }
  });
});
