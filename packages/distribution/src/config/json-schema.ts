// The configuration file's JSON Schema, generated from the same zod schema that checks options:
// editors validate and complete `fdn.config.json` with it ("$schema": "…/node-config.schema.json").

import { z } from 'zod';
import { nodeConfigFileSchema } from './schema.ts';

/** The JSON Schema of a node configuration file (what `schema/node-config.schema.json` holds). */
export function nodeConfigJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(nodeConfigFileSchema, { io: 'input', unrepresentable: 'any' }), title: '@fdn node configuration', description: 'Options of an @fdn node (startNode / loadNodeConfig), with profiles laid over them.' };
}
