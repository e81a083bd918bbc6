#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error(`swt: ${entry} is missing. Run \`npm install\` (or \`npm run build\`) in ${root} first.`);
  process.exit(2);
}
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv);
