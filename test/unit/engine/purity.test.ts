import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const engineDir = join(root, 'src/engine');
const files = readdirSync(engineDir).filter((f) => f.endsWith('.ts'));

function readImports(source: string): { specifier: string; typeOnly: boolean }[] {
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const pattern =
    /^\s*(import|export)\s+(type\s+)?[^'";]*?\s*from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(pattern)) {
    const specifier = m[3] ?? m[4] ?? m[5];
    if (specifier !== undefined) {
      found.push({ specifier, typeOnly: m[2] !== undefined });
    }
  }
  return found;
}

function isAllowed(specifier: string): boolean {
  return (
    /^\.\/[a-z0-9-]+\.js$/.test(specifier) || /^\.\.\/terminology\/[a-z0-9-]+\.js$/.test(specifier)
  );
}

describe('the engine stays pure', () => {
  it('When the engine sources are scanned, they import only engine and terminology modules (ucum-lhc only through terminology/ucum.ts, which keeps it quiet)', () => {
    expect(files.length).toBeGreaterThan(5);
    const offending = files.flatMap((file) =>
      readImports(readFileSync(join(engineDir, file), 'utf8'))
        .filter((i) => !i.typeOnly && !isAllowed(i.specifier))
        .map((i) => `${file}: ${i.specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('When the engine sources are scanned, none reads the clock, randomness, the environment or the console', () => {
    const forbidden =
      /Date\.now\(|new Date\(\)|Math\.random\(|performance\.now\(|process\.|console\.|require\(/;
    const offending = files.filter((file) =>
      forbidden.test(readFileSync(join(engineDir, file), 'utf8')),
    );
    expect(offending).toEqual([]);
  });

  it('When the import scanner meets an I/O import, it reports it (the check can fail)', () => {
    const imports = readImports(
      "import { readFileSync } from 'node:fs';\nimport type { X } from 'express';\n",
    );
    expect(imports).toEqual([
      { specifier: 'node:fs', typeOnly: false },
      { specifier: 'express', typeOnly: true },
    ]);
    expect(isAllowed('node:fs')).toBe(false);
  });
});
