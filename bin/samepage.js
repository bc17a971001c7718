#!/usr/bin/env node
// The `samepage` command: see bin/bundle.js for how the TypeScript CLI is run.
import { bundled } from './bundle.js'

const { runCli } = await import(await bundled('cli', 'src/cli/main.ts'))
process.exitCode = await runCli(process.argv.slice(2))
