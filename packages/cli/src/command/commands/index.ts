// The commands of `fdn`, in the order `fdn help` lists them. A command is a module that registers itself.

import type { CommandDefinition } from '../context.ts';
import { channelsCommand } from './channels.ts';
import { ecosystemsCommand } from './ecosystems.ts';
import { infoCommand } from './info.ts';
import { killCommand } from './kill.ts';
import { nodesCommand } from './nodes.ts';
import { observeCommand } from './observe.ts';
import { psCommand } from './ps.ts';
import { startCommand } from './start.ts';
import { topologyCommand } from './topology.ts';
import { treeCommand } from './tree.ts';

export const COMMANDS: readonly CommandDefinition[] = [startCommand, nodesCommand, psCommand, infoCommand, treeCommand, killCommand, topologyCommand, channelsCommand, ecosystemsCommand, observeCommand];
