import { SourceMap } from 'node:module';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs build script, without type declarations
import { trimSourceMap } from '../../../scripts/build/trim-source-map.mjs';

interface RawMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
}

/** A minified bundle of one file of ours and one "dependency", with its source map. */
async function bundleWithMap(): Promise<{ code: string; map: RawMap }> {
  const result = await build({
    stdin: {
      contents:
        "import { dep } from './node_modules/dep/index.js';\nexport function ours(x) {\n  return dep(x) + 1;\n}\n",
      resolveDir: __dirname,
      sourcefile: 'ours.js',
    },
    plugins: [
      {
        name: 'fake-dependency',
        setup(b) {
          b.onResolve({ filter: /node_modules\/dep/ }, () => ({
            path: '/fake/node_modules/dep/index.js',
            namespace: 'dep',
          }));
          b.onLoad({ filter: /.*/, namespace: 'dep' }, () => ({
            contents: 'export function dep(value) {\n  const doubled = value * 2;\n  return doubled;\n}\n',
            loader: 'js',
          }));
        },
      },
    ],
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    write: false,
    outfile: 'out.js',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('out.js'))?.text ?? '';
  const map = JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.map'))?.text ?? '{}') as RawMap;
  return { code, map };
}

describe('trimming a bundle source map to our own code', () => {
  it('keeps every position of our sources exactly, and drops the dependencies and their names', async () => {
    const { map } = await bundleWithMap();
    expect(map.sources.some((s) => s.includes('node_modules/'))).toBe(true);
    const trimmed: RawMap = trimSourceMap(map, (source: string) => !source.includes('node_modules/'));

    expect(trimmed.sources).toEqual(map.sources.filter((s) => !s.includes('node_modules/')));
    const before = new SourceMap(map as never);
    const after = new SourceMap(trimmed as never);
    let ourPositions = 0;
    // Every generated position on the (single, minified) line: ours map identically, theirs not at all.
    for (let column = 0; column < 400; column++) {
      const was = before.findEntry(0, column) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      const now = after.findEntry(0, column) as typeof was;
      if (was.originalSource && !was.originalSource.includes('node_modules/')) {
        ourPositions += 1;
        expect(now).toEqual(was);
      } else if (now.originalSource) {
        expect(now.originalSource.includes('node_modules/')).toBe(false);
      }
    }
    expect(ourPositions).toBeGreaterThan(0);
    expect(trimmed.names).not.toContain('doubled');
  });

  it('refuses a map whose mappings are not base64 VLQ', () => {
    expect(() =>
      trimSourceMap({ version: 3, sources: ['a'], names: [], mappings: 'A!' }, () => true),
    ).toThrow('bad VLQ character');
  });
});
