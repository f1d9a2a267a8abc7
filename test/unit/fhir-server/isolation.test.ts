import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// EMBEDDED_FHIR=false must not even load the embedded server (its definitions cost ~100 MB of RSS).
// That holds while Medplum stays inside src/fhir-server/ and the rest reaches it by dynamic import().

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function listTypeScript(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return listTypeScript(path);
    }
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm;

function staticImportsOf(file: string): string[] {
  return [...readFileSync(join(root, file), 'utf8').matchAll(STATIC_IMPORT)].map((m) => m[1] ?? '');
}

const shipped = ['src', 'hooks', 'scripts'].flatMap(listTypeScript);

describe('Embedded FHIR server isolation', () => {
  test('When EMBEDDED_FHIR=false, nothing loads Medplum: no module outside src/fhir-server imports it', () => {
    const offenders = shipped
      .filter((file) => !file.startsWith(join('src', 'fhir-server')))
      .filter((file) => staticImportsOf(file).some((spec) => spec.startsWith('@medplum/')));

    expect(offenders).toEqual([]);
  });

  test('When other code statically imports from src/fhir-server, it only takes the Medplum-free demo helpers', () => {
    const medplumFree = new Set(['demo-bundle', 'demo-curl', 'banner']);
    const imports = shipped
      .filter((file) => !file.startsWith(join('src', 'fhir-server')))
      .flatMap((file) =>
        staticImportsOf(file)
          .filter((spec) => spec.includes('fhir-server/'))
          .map((spec) => ({
            file: relative(root, join(root, file)),
            module: spec.split('/').at(-1)?.replace(/\.js$/, ''),
          })),
      );

    expect(imports.filter((i) => !medplumFree.has(i.module ?? ''))).toEqual([]);
    for (const helper of medplumFree) {
      expect(
        staticImportsOf(join('src', 'fhir-server', `${helper}.ts`)).filter((s) =>
          s.startsWith('@medplum/'),
        ),
      ).toEqual([]);
    }
  });

  test('When the service is assembled for main.ts, it loads the embedded server with a dynamic import() only', () => {
    const assembly = readFileSync(join(root, 'src', 'assemble-service.ts'), 'utf8');

    expect(assembly).toMatch(/await import\('\.\/fhir-server\/index\.js'\)/);
    for (const file of ['main.ts', 'assemble-service.ts']) {
      expect(staticImportsOf(join('src', file)).filter((s) => s.includes('fhir-server'))).toEqual(
        [],
      );
    }
  });
});
