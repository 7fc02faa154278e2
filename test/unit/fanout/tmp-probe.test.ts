jest.mock('@middy/core', () => {
  const native = (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module').createRequire(__filename)('@middy/core');
  return { __esModule: true, default: native.default };
});
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { BatchProcessor } from '@aws-lambda-powertools/batch';
test('probe', async () => {
  const h = middy(async (e: number) => e + 1).use({ after: async (r) => { r.response = r.response * 10; } });
  expect(await h(1, {} as never)).toBe(20);
  expect(typeof injectLambdaContext).toBe('function'); expect(typeof logMetrics).toBe('function'); expect(BatchProcessor).toBeDefined(); });
