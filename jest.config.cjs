// On Node 20 the AWS SDK prints an 8-line NodeVersionSupportWarning the first time a client is made
// in a process: in every test worker, and in every process a test starts. The SDK's own switch turns
// it off ("January 2027: End of Support for Node.js 20.x in AWS SDK for JavaScript"); set here, the
// workers and their children inherit it. test/unit/sdk/warnings.test.ts checks that it still works.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Jest runs TypeScript through swc (fast, no type check: `make typecheck` does that). */
const swc = [
  '@swc/jest',
  { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // jose, @middy and fauxqs are published as ESM only; transform them like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(jose|@middy|fauxqs)/)'],
  // Sources import './x.js' (ESM style); resolve those to the .ts file beside them.
  moduleNameMapper: {
    // fauxqs exports only an `import` condition, which jest's CommonJS resolver does not follow.
    '^fauxqs$': '<rootDir>/node_modules/fauxqs/dist/app.js',
    // The workspace packages, from their sources (as tsconfig.json's `paths` maps them).
    '^@fanout/(protocol|client|publisher|cli)$': '<rootDir>/sdk/$1/src/index.ts',
    '^@fanout/local$': '<rootDir>/local/index.ts',
    '^@fanout/backend$': '<rootDir>/backend/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/local/test/**/*.test.ts'],
  // The platform's code and the local runtime, each with its own bar (the dashboard page is covered
  // by the browser test, which runs it in Chromium where jest cannot count).
  collectCoverageFrom: ['shared/**/*.ts', 'local/**/*.ts', '!local/test/**', '!local/dashboard/**'],
  coverageReporters: ['text-summary', 'text'],
  coverageThreshold: { './shared/': { lines: 90 }, './local/': { lines: 85 } },
  testTimeout: 20000,
};
