// What an inspection op is: the shape the built-in ops and the features' ops share.

import type { ProcessContext } from '@fdn/actors';
import type { Node } from '../node/node.ts';

/** Answers one op on `node`, in a process of its own (`ctx`); throw a DistributionError for a bad request. */
export type InspectOp = (node: Node, args: Record<string, unknown>, ctx: ProcessContext) => unknown;
