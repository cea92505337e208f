/** Writes the contract JSON Schemas into docs/contracts/ (run: npm run contracts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { contractDocuments } from '../src/contract/documents.ts';

const outDir = fileURLToPath(new URL('../../docs/contracts/', import.meta.url));
mkdirSync(outDir, { recursive: true });
for (const [name, text] of Object.entries(contractDocuments())) {
  writeFileSync(outDir + name, text);
  console.log(`wrote docs/contracts/${name}`);
}
