#!/usr/bin/env node
// `npm run bench`: bundles bench/bench.ts like the CLI (bin/bundle.js) and runs it.
import { bundled } from '../bin/bundle.js'

await import(await bundled('bench', 'bench/bench.ts'))
