import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Browser files are plain JS/CSS kept next to the TypeScript (tsc does not copy them), so their paths
// are resolved from the project root, which works both from src/ (tsx, jest) and from dist/src/.

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no package.json above ${start}`);
    }
    dir = parent;
  }
  return dir;
}

const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
const requireFromHere = createRequire(import.meta.url);

/** Directory of a package's resolved main file; works for packages that do not export package.json. */
function packageEntryDir(name: string): string {
  return dirname(requireFromHere.resolve(name));
}

export const TREND_PUBLIC_DIR = join(projectRoot, 'src', 'trend', 'public');
export const DEMO_PUBLIC_DIR = join(projectRoot, 'src', 'demo', 'public');

/** Browser builds of the bundled libraries, served same-origin: EHR workstations often lack internet. */
export const VENDOR_FILES: Readonly<Record<string, string>> = {
  'chart.umd.js': join(packageEntryDir('chart.js'), 'chart.umd.js'),
  'marked.esm.js': join(packageEntryDir('marked'), 'marked.esm.js'),
  'purify.es.mjs': join(packageEntryDir('dompurify'), 'purify.es.mjs'),
};
