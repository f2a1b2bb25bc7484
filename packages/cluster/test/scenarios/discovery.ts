// How long discovery takes to form a cluster, for `npm run bench -- cluster`: `nodes` node OS
// processes (fixtures/cluster-node.ts) configured for DNS SRV discovery against a real DNS server
// on 127.0.0.1 that lists nobody; once all run, the records of all are published, and the time
// until every node lists every other is measured. Run as a script it prints the result as JSON.

import { fileURLToPath } from 'node:url';
import { TestDnsServer } from '../support/dns-server.ts';
import { freePort, killAll, startNodeProcess } from '../support/processes.ts';

export interface DiscoveryResult {
  nodes: number;
  /** From publishing the records to every node listing every other. */
  convergeMs: number;
  pollingIntervalMs: number;
}

export async function discovery(options: { nodes: number; pollingIntervalMs: number }): Promise<DiscoveryResult> {
  const dns = new TestDnsServer();
  await dns.start();
  try {
    const query = '_fdn._tcp.bench.test';
    dns.a.set('node.test', ['127.0.0.1']);
    dns.srv.set(query, []);
    const ports = await Promise.all(Array.from({ length: options.nodes }, () => freePort()));
    const env = (port: number): Record<string, string> => ({ FDN_SECRET: 'discovery-bench-secret', FDN_LISTEN: `127.0.0.1:${String(port)}`, FDN_DISCOVERY: 'dnsSrv', FDN_DISCOVERY_QUERY: query, FDN_DISCOVERY_MODE: 'ip', FDN_DISCOVERY_SERVERS: dns.address, FDN_DISCOVERY_POLLING_INTERVAL_MS: String(options.pollingIntervalMs) });
    // Started a few at a time: 32 processes compiling at once on 2 cores would time out.
    const nodes = [];
    for (let i = 0; i < ports.length; i += 4) nodes.push(...(await Promise.all(ports.slice(i, i + 4).map((port, j) => startNodeProcess(`d${String(i + j)}`, env(port), 60_000)))));
    const t0 = Date.now();
    dns.srv.set(query, ports.map((port) => ({ target: 'node.test', port })));
    const deadline = t0 + 120_000;
    for (;;) {
      const counts = await Promise.all(nodes.map((n) => n.call<string[]>('nodes', 10_000).then((l) => l.length)));
      if (counts.every((c) => c === options.nodes - 1)) break;
      if (Date.now() > deadline) throw new Error(`not converged after 120 s: ${counts.join(',')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { nodes: options.nodes, convergeMs: Date.now() - t0, pollingIntervalMs: options.pollingIntervalMs };
  } finally {
    await killAll();
    await dns.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{"nodes":32,"pollingIntervalMs":1000}') as { nodes: number; pollingIntervalMs: number };
  console.log(JSON.stringify(await discovery(options)));
}
