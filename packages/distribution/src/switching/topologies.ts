// The overlays a cluster can switch between, by name.

/** An overlay by its topology name (`pubSub`: HyParView with Plumtree tuned for events). */
export type TopologyName = 'fullMesh' | 'hyparview' | 'clientServer' | 'static' | 'pubSub';

/** Every topology name, in the order error messages list them. */
export const TOPOLOGIES: readonly TopologyName[] = ['fullMesh', 'hyparview', 'clientServer', 'static', 'pubSub'];
