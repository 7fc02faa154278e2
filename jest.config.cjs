/** Jest runs TypeScript through swc (fast, no type check: `make typecheck` does that). */
const swc = [
  '@swc/jest',
  { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // jose is published as ESM only; transform it like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  // Sources import './x.js' (ESM style); resolve those to the .ts file beside them.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  collectCoverageFrom: ['shared/**/*.ts'],
  coverageReporters: ['text-summary', 'text'],
  coverageThreshold: { './shared/': { lines: 90 } },
  testTimeout: 20000,
};
