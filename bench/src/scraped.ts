// Runs a measurement on a node that serves its operations endpoint and is scraped the while, every
// 100 ms and once at the start (Prometheus scrapes every 15 s by default: this is the heavy case,
// and a measurement shorter than a second still sees scrapes): what metrics cost.

import { serveOperations } from '@fdn/cli';
import type { Node } from '@fdn/distribution';

/** `measure()` while `node` serves /metrics and a client in this process fetches it every `everyMs`. */
export async function whileScraped<T>(node: Node, measure: () => Promise<T>, everyMs = 100): Promise<{ result: T; scrapes: number }> {
  const ops = await serveOperations(node, { port: 0 });
  let scrapes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const scrape = (): void => {
    inFlight = fetch(`${ops.url}/metrics`)
      .then((res) => res.text())
      .then(() => {
        scrapes++;
      });
  };
  scrape();
  const timer = setInterval(scrape, everyMs);
  try {
    return { result: await measure(), scrapes };
  } finally {
    clearInterval(timer);
    await inFlight.catch(() => undefined);
    await ops.close();
  }
}
