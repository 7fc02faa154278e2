import { DEFAULT_BACKEND_PORT, readBackendSettings } from '../../../shared/backend/config';
import { ConfigError, isConfigError } from '../../../shared/config';

const PROOF = 'proof-0123456789abcdef0123456789abcdef';

describe("the backend's own settings", () => {
  it('defaults to 127.0.0.1, port 8080 and API Gateway’s 29 s integration timeout', () => {
    expect(readBackendSettings({ FANOUT_BACKEND_PROOF: PROOF })).toEqual({
      proof: PROOF,
      host: '127.0.0.1',
      port: DEFAULT_BACKEND_PORT,
      integrationTimeoutMs: 29_000,
    });
  });

  it('reads host, port and timeout from the environment, and lets --host and --port win over it', () => {
    const env = {
      FANOUT_BACKEND_PROOF: PROOF,
      FANOUT_BACKEND_HOST: '0.0.0.0',
      FANOUT_BACKEND_PORT: '9000',
      FANOUT_BACKEND_INTEGRATION_TIMEOUT_MS: '5000',
    };
    expect(readBackendSettings(env)).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      integrationTimeoutMs: 5000,
    });
    expect(readBackendSettings(env, { host: '127.0.0.1', port: '0' })).toMatchObject({
      host: '127.0.0.1',
      port: 0,
    });
  });

  it('names every bad setting at once, and never shows the proof', () => {
    const bad = 'short-proof-Zq93';
    const read = () =>
      readBackendSettings(
        { FANOUT_BACKEND_PROOF: bad, FANOUT_BACKEND_INTEGRATION_TIMEOUT_MS: '30000' },
        { port: '70000' },
      );
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(
      'FANOUT_BACKEND_PROOF must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - (16 characters given); --port must be an integer from 0 to 65535, got "70000"; FANOUT_BACKEND_INTEGRATION_TIMEOUT_MS must be an integer from 50 to 29000, got "30000"',
    );
    try {
      read();
    } catch (err) {
      expect(String(err)).not.toContain(bad);
    }
  });

  it('requires the proof', () => {
    expect(() => readBackendSettings({})).toThrow('FANOUT_BACKEND_PROOF is required but not set');
  });

  it('names the variable when the port comes from the environment', () => {
    expect(() => readBackendSettings({ FANOUT_BACKEND_PROOF: PROOF, FANOUT_BACKEND_PORT: 'http' })).toThrow(
      'FANOUT_BACKEND_PORT must be an integer from 0 to 65535, got "http"',
    );
  });

  it('recognises a configuration error by its name, as a second copy of the module throws it', () => {
    const fromAnotherCopy = Object.assign(new Error('TABLE_NAME is required but not set'), {
      name: 'ConfigError',
    });
    expect(isConfigError(fromAnotherCopy)).toBe(true);
    expect(isConfigError(new ConfigError('x'))).toBe(true);
    expect(isConfigError(new Error('x'))).toBe(false);
    expect(isConfigError('ConfigError')).toBe(false);
  });
});
