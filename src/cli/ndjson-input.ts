import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { InputError } from './cli-error.js';

export interface InputFile {
  path: string;
  /** As shown in messages: relative to the export directory. */
  name: string;
  bytes: number;
  gzip: boolean;
}

/**
 * Every regular file under `dir` (recursively), except hidden files and a Bulk Data `manifest.json`:
 * resource types are read from each line, so file names do not matter. Sorted, for stable runs.
 */
export async function listInputFiles(dir: string): Promise<InputFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    throw new InputError(`${dir}: not a readable directory`);
  }
  const files: InputFile[] = [];
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(dir, path);
    if (!entry.isFile() || name.split('/').some((part) => part.startsWith('.'))) {
      continue;
    }
    if (entry.name === 'manifest.json') {
      continue;
    }
    files.push({ path, name, bytes: (await stat(path)).size, gzip: await isGzip(path) });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** The file's lines, gunzipped when needed, with 1-based numbers; `onBytes` sees raw bytes read. */
export async function* readLines(
  file: InputFile,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ text: string; line: number }> {
  const raw = createReadStream(file.path, { highWaterMark: 1 << 20 });
  if (onBytes !== undefined) {
    raw.on('data', (chunk) => onBytes(chunk.length));
  }
  const stream = file.gzip ? raw.pipe(createGunzip()) : raw;
  let failure: Error | undefined;
  stream.on('error', (error: Error) => {
    failure = error;
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line += 1;
      yield { text, line };
    }
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
  }
  if (failure !== undefined) {
    throw new InputError(`${file.name}:${line + 1}: cannot read (${failure.message})`);
  }
}
