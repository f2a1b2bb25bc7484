// Which seeds the simulation tests run: FDN_SIM_SEED=n runs one (to replay a failure),
// FDN_SIM_SEEDS=a-b or a,b,c runs many (the long run: `npm run sim-seeds -- 1-200`), else the default.

export function simSeeds(fallback: number[]): number[] {
  const one = process.env.FDN_SIM_SEED;
  if (one !== undefined && one !== '') return [Number(one)];
  const many = process.env.FDN_SIM_SEEDS;
  if (many === undefined || many === '') return fallback;
  return many.split(',').flatMap((part) => {
    const range = /^(\d+)-(\d+)$/.exec(part.trim());
    if (range === null) return [Number(part)];
    const from = Number(range[1]);
    const to = Number(range[2]);
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  });
}
