/**
 * Import direction (docs/architecture.md, "Layout and dependency rules"), checked by `make deps`.
 * Paths are relative to the repository root; `@fanout/*` resolves through tsconfig.json's `paths`, so
 * a package import is judged by the sources it lands in (`@fanout/client` is `sdk/client/src/...`).
 * Type-only imports count: a type pulled from the wrong layer couples it as much as a value does.
 */

/** Our own code: everything that is neither npm nor node. */
const OURS = '^(sdk|shared|functions|backend|local|test|scripts|bench)/';
/** An adapter: `<port dir>/<name>` with a technology in its name; $1 is the dir, $2 the technology. */
const ADAPTER = '^shared/([^/]+)/[^/]*(dynamodb|sqs|apigateway|memory)[^/]*[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'protocol-stands-alone',
      comment: '@fanout/protocol is what clients install: it imports nothing of ours.',
      severity: 'error',
      from: { path: '^sdk/protocol/' },
      to: { path: OURS, pathNot: '^sdk/protocol/' },
    },
    {
      name: 'domain-imports-only-protocol',
      comment: 'shared/domain is the platform’s vocabulary: of ours, it builds on @fanout/protocol alone.',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: { path: OURS, pathNot: ['^shared/domain/', '^sdk/protocol/'] },
    },
    {
      name: 'adapters-not-each-other',
      comment: 'An adapter (…-dynamodb, …-sqs, …-apigateway, …-memory) never imports another adapter.',
      severity: 'error',
      from: { path: ADAPTER },
      to: {
        path: '^shared/[^/]+/[^/]*(dynamodb|sqs|apigateway|memory)[^/]*[.]ts$',
        pathNot: '^shared/$1/[^/]*$2',
      },
    },
    {
      name: 'adapters-import-port-and-domain',
      comment:
        'An adapter imports its port (and the files beside it), the domain, the protocol and shared/concurrency.ts: nothing else of ours.',
      severity: 'error',
      from: { path: ADAPTER },
      to: {
        path: OURS,
        pathNot: ['^shared/$1/', '^shared/domain/', '^shared/concurrency[.]ts$', '^sdk/protocol/'],
      },
    },
    {
      name: 'functions-only-wire',
      comment: 'A Lambda handler wires shared/ and packages together: no local/, test/ or scripts/.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(local|test|scripts)/' },
    },
    {
      name: 'backend-only-wires',
      comment:
        'backend/ (`fanout backend`) wires shared/ and packages together, as a Lambda handler does: no local/, test/, scripts/ or functions/.',
      severity: 'error',
      from: { path: '^backend/' },
      to: { path: '^(local|test|scripts|functions)/' },
    },
    {
      name: 'functions-not-each-other',
      comment: 'Each function is bundled on its own: what two of them share lives in shared/.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'shared-not-outwards',
      comment:
        'shared/ is the platform: it may use @fanout/protocol, but not the other packages, the local runtime, the backend, the functions, scripts or tests.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: OURS, pathNot: ['^shared/', '^sdk/protocol/'] },
    },
    {
      name: 'sdk-not-server',
      comment:
        'The packages are published: nothing under sdk/ reaches into the server, the functions or tests.',
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: '^(shared|functions|test|scripts)/' },
    },
    {
      name: 'sdk-not-local',
      comment:
        'Nor into the local runtime or the backend. The exceptions are `fanout dev` and `fanout backend`, which load the optional peers @fanout/local and @fanout/backend by a dynamic import when asked for, so the CLI installs and runs without them.',
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: '^(local|backend)/', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'sdk-loads-local-by-its-entry',
      comment: 'Those dynamic imports name the package, never a file inside it.',
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: '^(local|backend)/', pathNot: '^(local|backend)/index[.]ts$' },
    },
    {
      name: 'local-not-test',
      comment: 'The local runtime ships to developers; the repository’s test/ does not.',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-cycles',
      comment: 'Modules form a tree of layers; a cycle means two of them are one.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'resolvable',
      comment:
        'An import the cruiser cannot resolve is one no rule above can judge (typecheck reports it as well).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  // bench/ (the benchmarks) may import anything; nothing above may import it (OURS covers it).
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages resolve as node does (fauxqs and jose have only an `exports` map).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    skipAnalysisNotInRules: true,
  },
};
