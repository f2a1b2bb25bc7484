// Writes schema/node-config.schema.json from the options schema (npm run schema -w @fdn/distribution).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeConfigJsonSchema } from '../src/config/json-schema.ts';

const target = fileURLToPath(new URL('../schema/node-config.schema.json', import.meta.url));
writeFileSync(target, JSON.stringify(nodeConfigJsonSchema(), null, 2) + '\n');
console.log(`wrote ${target}`);
