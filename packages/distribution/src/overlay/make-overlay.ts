// An overlay from its configuration: each built-in kind has its builder in one table (a kind is
// added by adding a row), and a function is a user-written overlay, called with the node's parts.

import { clientServer, fullMesh, hidden, hyparview, staticMembers } from '@fdn/topology';
import type { ClientServerOptions, PeerService, PeerSpec, StaticOptions } from '@fdn/topology';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { OverlayComponents, OverlayConfig } from '../node/options.ts';

export type { OverlayComponents };

type Builder = (options: Record<string, unknown> & { seeds: (string | PeerSpec)[] }, components: OverlayComponents) => PeerService;

/** HyParView with the member directory unless `directory: false` (pubSub is HyParView with another Plumtree tuning). */
const hyparviewWithDirectory: Builder = (options, components) => {
  const overlay = hyparview(options)(components);
  if (options.directory !== false) overlay.useDirectory();
  return overlay;
};

const BUILDERS: Readonly<Record<string, Builder>> = {
  fullMesh: (options, components) => fullMesh(options)(components),
  hyparview: hyparviewWithDirectory,
  pubSub: hyparviewWithDirectory,
  clientServer: (options, components) => clientServer(options as unknown as ClientServerOptions)(components),
  static: (options, components) => staticMembers(options as unknown as StaticOptions)(components),
  hidden: (options, components) => hidden(options)(components),
};

/** Builds the overlay `config` names (default full mesh), joining through `seeds`. */
export function makeOverlay(config: OverlayConfig | undefined, seeds: (string | PeerSpec)[], components: OverlayComponents): PeerService {
  if (typeof config === 'function') return config(components);
  const given = config ?? 'fullMesh';
  const { kind, ...options } = typeof given === 'string' ? { kind: given } : given;
  const build = BUILDERS[kind];
  if (build === undefined) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown overlay '${kind}': use ${Object.keys(BUILDERS).join(', ')}, or a function returning a PeerService`);
  return build({ seeds, ...options } as Parameters<Builder>[0], components);
}

/** The topology name of a configuration (a user-written overlay: its `kind`). */
export function topologyOf(config: OverlayConfig | undefined, built: PeerService): string {
  if (config === undefined) return 'fullMesh';
  if (typeof config === 'string') return config;
  if (typeof config === 'function') return built.kind;
  return config.kind;
}
