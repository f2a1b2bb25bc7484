// Runs a measurement on a node that serves its operations endpoint and is scraped the while, every
// 100 ms and once at the start (Prometheus scrapes every 15 s by default: this is the heavy case,
// and a measurement shorter than a second still sees scrapes): what metrics cost. The scraper is
// another OS process, as Prometheus is: the node pays for answering, not for asking.

import { spawn } from 'node:child_process';
import { serveOperations } from '@fdn/cli';
import type { Node } from '@fdn/distribution';

/** The scraper: fetches the URL every `everyMs`, says `ready` after its first scrape, prints its count when its stdin closes. */
const SCRAPER = `
const [url, everyMs] = process.argv.slice(1);
let scrapes = 0;
const scrape = () => fetch(url).then((r) => r.text()).then(() => { scrapes++; if (scrapes === 1) process.stdout.write('ready\\n'); }, () => undefined);
scrape();
const timer = setInterval(scrape, Number(everyMs));
process.stdin.on('end', () => { clearInterval(timer); process.stdout.write('scrapes ' + scrapes + '\\n'); process.exit(0); });
process.stdin.resume();
`;

/** `measure()` while `node` serves /metrics and a scraper in another process fetches it every `everyMs`. */
export async function whileScraped<T>(node: Node, measure: () => Promise<T>, everyMs = 100): Promise<{ result: T; scrapes: number }> {
  const ops = await serveOperations(node, { port: 0 });
  const scraper = spawn(process.execPath, ['-e', SCRAPER, `${ops.url}/metrics`, String(everyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  scraper.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    // Measure once the scraper runs (its start-up is not the node's cost); 10 s at most.
    const deadline = Date.now() + 10_000;
    while (!out.includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const result = await measure();
    const ended = new Promise<void>((resolve) => scraper.once('exit', () => { resolve(); }));
    scraper.stdin.end();
    await ended;
    // The first scrape came before the measurement.
    return { result, scrapes: Math.max(0, Number(/scrapes (\d+)/.exec(out)?.[1] ?? 0) - 1) };
  } finally {
    scraper.kill();
    await ops.close();
  }
}
