// The observer page in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
// against a three-node cluster of OS processes started by `fdn start`, the page served by
// `fdn observe`: it lists the processes, shows a process's state, a kill from the page shows the
// supervisor's restart, and a SIGKILLed node goes down in the graph. Set
// FDN_OBSERVER_SCREENSHOT=<file.png> to keep a screenshot of the cluster view (the README's).

import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FdnCluster } from './support/fdn-cluster.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const cluster = new FdnCluster();
let browser: Browser;
let page: Page;
let url = '';

// Skipped only where no Chromium is installed (.ci/run installs Debian's `chromium`).
describe.skipIf(CHROMIUM === undefined)('the observer page, in headless Chromium', () => {
  beforeAll(async () => {
    await cluster.start(3);
    url = await cluster.observe();
    browser = await chromium.launch({ executablePath: CHROMIUM as string, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    cluster.stop();
  });

  const tab = (name: string): Promise<void> => page.click(`nav button[data-tab=${name}]`);
  // Evaluated in the page, as source text: this package is not compiled against the DOM's types.
  const inPage = <T>(expression: string): Promise<T> => page.evaluate<T>(expression);

  it('loads live: the three nodes up in the graph and the table, with their links', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('#graph g.node[data-node=n3]', { timeout: 15_000 });
    expect(await inPage<string[][]>("[...document.querySelectorAll('#graph g.node')].map((g) => [g.dataset.node, g.dataset.state])")).toEqual([
      ['n1', 'up'],
      ['n2', 'up'],
      ['n3', 'up'],
    ]);
    expect(await inPage<string[]>("[...document.querySelectorAll('#graph line.edge')].map((l) => l.dataset.edge).sort()")).toEqual(['n1|n2', 'n1|n3', 'n2|n3']);
    expect(await inPage<string[]>("[...document.querySelectorAll('#nodes tbody tr')].map((r) => r.dataset.node)")).toEqual(['n1', 'n2', 'n3']);
    await page.waitForFunction("document.querySelector('#status').textContent.startsWith('live')");
    const screenshot = process.env.FDN_OBSERVER_SCREENSHOT;
    if (screenshot !== undefined && screenshot !== '') await page.screenshot({ path: screenshot });
    expect(errors).toEqual([]);
  });

  it('lists the processes of a node, filters them, and shows one with its state', async () => {
    await tab('processes');
    await page.waitForSelector('#process-table tbody tr');
    const first = await inPage<string[]>("[...document.querySelector('#process-table tbody tr').querySelectorAll('td')].map((td) => td.textContent)");
    expect(first.slice(1, 5)).toEqual(['inbox', '', 'waiting', '40']);
    await page.selectOption('#node-select', 'n2');
    await page.waitForFunction("document.querySelector('#process-count').textContent.endsWith('on n2')");
    await page.fill('#filter', 'cache');
    await page.waitForFunction("document.querySelectorAll('#process-table tbody tr').length === 1");
    await page.click('#process-table tbody tr');
    await page.waitForSelector('[data-testid=detail-state]');
    expect(await page.textContent('[data-testid=detail-state]')).toBe('{"jobs":0}');
    expect(await page.textContent('[data-testid=detail-pid]')).toMatch(/^<n2\.\d+\.\d+>$/);
  });

  it('kills a supervised process from the page; the supervision view shows its restart', async () => {
    const before = await page.textContent('[data-testid=detail-pid]');
    await tab('trees');
    await page.waitForSelector('#tree-view li[data-child=cache]');
    expect(await page.getAttribute('#tree-view li[data-child=cache]', 'data-pid')).toBe(before);
    await tab('processes');
    await page.click('[data-testid=kill]');
    await page.click('[data-testid=kill]');
    await page.waitForFunction("document.querySelector('[data-testid=kill]').textContent === 'killed'");
    await tab('trees');
    await page.waitForSelector('#tree-view li[data-child=cache][data-restarts="1"]', { timeout: 10_000 });
    const after = await page.getAttribute('#tree-view li[data-child=cache]', 'data-pid');
    expect(after).toMatch(/^<n2\.\d+\.\d+>$/);
    expect(after).not.toBe(before);
    expect(await page.textContent('#tree-view li[data-child=cache] .badge')).toBe('restarted ×1');
  });

  it('shows a SIGKILLed node go down in the graph', async () => {
    await tab('cluster');
    (cluster.running.get('n3') as ChildProcess).kill('SIGKILL');
    cluster.running.delete('n3');
    await page.waitForSelector('#graph g.node[data-node=n3][data-state=down]', { timeout: 15_000 });
    expect(await page.getAttribute('#graph g.node[data-node=n2]', 'data-state')).toBe('up');
    expect(await page.textContent('#nodes tbody tr[data-node=n3]')).toContain('down since');
    expect(await inPage<string[]>("[...document.querySelectorAll('#graph line.edge')].map((l) => l.dataset.edge)")).toEqual(['n1|n2']);
  });
});
