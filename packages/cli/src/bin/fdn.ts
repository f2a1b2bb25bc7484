#!/usr/bin/env node
// The `fdn` binary: runs the command, then exits with its code (unless it keeps something running: `fdn start`, `fdn observe`).

import { processIo } from '../command/io.ts';
import { runFdn } from '../command/program.ts';

const run = await runFdn(process.argv.slice(2), processIo());
if (!run.running) process.exit(run.code);
