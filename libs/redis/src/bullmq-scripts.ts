import { createRequire } from 'node:module';

/** One of BullMQ's Lua scripts, as BullMQ defines it on a connection. */
export interface BullmqScript {
  name: string;
  keys: number;
  content: string;
}

// BullMQ's entry point exports neither its scripts nor the version that names them.
const require = createRequire(import.meta.url);
const scripts = require('bullmq/dist/cjs/scripts/index.js') as Record<string, BullmqScript>;
const { version } = require('bullmq/dist/cjs/version.js') as { version: string };

/** BullMQ's script of this name (e.g. `moveToFinished`). */
export function bullmqScript(name: string): BullmqScript {
  const script = scripts[name];
  if (!script) throw new Error(`BullMQ ${version} has no script named ${name}`);
  return script;
}

/**
 * The name BullMQ calls the script by on a connection. BullMQ defines a script there only if nothing
 * holds its name yet, so whoever defines it first decides what BullMQ runs.
 */
export function bullmqCommandName(script: BullmqScript): string {
  return `${script.name}:${version}`;
}
