#!/usr/bin/env -S node --no-node-snapshot
// The ttlp command: runs the TypeScript sources through tsx's loader (nothing to build first).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
