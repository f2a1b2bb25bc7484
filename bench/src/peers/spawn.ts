// Starts a benchmark peer in its own OS process and waits for the address it reports.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Peer {
  child: ChildProcess;
  info: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Forks `bench/dist/peers/<script>.js` with `args` (JSON in FDN_PEER) and resolves with its ready message. */
export function spawnPeer(script: string, args: object, timeoutMs = 15_000): Promise<Peer> {
  const path = fileURLToPath(new URL(`./${script}.js`, import.meta.url));
  // FDN_PEER_NODE_ARGS passes Node flags to the peers (`--cpu-prof --cpu-prof-dir=…` to profile them).
  const execArgv = process.env.FDN_PEER_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [];
  const child = fork(path, [], { execArgv, env: { ...process.env, FDN_PEER: JSON.stringify(args) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`peer ${script} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (info: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve({
        child,
        info,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) {
              done();
              return;
            }
            child.once('exit', () => {
              done();
            });
            child.kill('SIGKILL');
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer ${script} exited with ${String(code)} before it was ready`));
    });
  });
}

/**
 * Tells a counting peer to expect `n` messages (it resets its count) and resolves with its
 * `ready` answer (which may carry figures of its own, e.g. `nodedowns`).
 */
export function expectCount(peer: Peer, n: number): Promise<{ ready: true; [figure: string]: unknown }> {
  return new Promise((resolve) => {
    const onMessage = (m: { ready?: boolean }): void => {
      if (m.ready !== true) return;
      peer.child.off('message', onMessage);
      resolve(m as { ready: true });
    };
    peer.child.on('message', onMessage);
    peer.child.send({ expect: n });
  });
}
