// Where a coordinator's checkpoints live. A store is fenced: a save carries the epoch of the lease
// its coordinator holds, and a save older than the last one is refused, so a coordinator that
// lost its lease (and has not noticed yet) cannot overwrite its successor's state.

import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';

/** A coordinator's saved state and the lease epoch that wrote it. */
export interface Checkpoint {
  epoch: number;
  value: unknown;
}

/** Where failover checkpoints are kept (a node's own configuration, never chosen by a peer). */
export interface CheckpointStore {
  load(key: string): Promise<Checkpoint | undefined>;
  /** Rejects (FDN_ERR_FENCED) when the stored epoch is newer than `epoch`. */
  save(key: string, epoch: number, value: unknown): Promise<void>;
}

/** Keeps checkpoints in memory (tests, or one node). */
export class MemoryStore implements CheckpointStore {
  readonly #data = new Map<string, Checkpoint>();

  load(key: string): Promise<Checkpoint | undefined> {
    return Promise.resolve(this.#data.get(key));
  }

  save(key: string, epoch: number, value: unknown): Promise<void> {
    const current = this.#data.get(key);
    if (current !== undefined && current.epoch > epoch) return Promise.reject(fenced(key, epoch, current.epoch));
    this.#data.set(key, { epoch, value: structuredClone(value) });
    return Promise.resolve();
  }
}

/**
 * One JSON file per key in `dir`, written atomically (a temporary file, fsync, rename), so a crash
 * mid-write leaves the previous checkpoint. Shared by the nodes of one machine; across machines,
 * put `dir` on shared storage or use another store.
 */
export class FileStore implements CheckpointStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  #path(key: string): string {
    return join(this.dir, `${encodeURIComponent(key)}.json`);
  }

  load(key: string): Promise<Checkpoint | undefined> {
    try {
      return Promise.resolve(JSON.parse(readFileSync(this.#path(key), 'utf8')) as Checkpoint);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return Promise.resolve(undefined);
      return Promise.reject(err);
    }
  }

  async save(key: string, epoch: number, value: unknown): Promise<void> {
    const current = await this.load(key);
    if (current !== undefined && current.epoch > epoch) throw fenced(key, epoch, current.epoch);
    const path = this.#path(key);
    const tmp = `${path}.${String(process.pid)}.${String(Date.now())}.tmp`;
    writeFileSync(tmp, JSON.stringify({ epoch, value } satisfies Checkpoint));
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }
}

function fenced(key: string, epoch: number, stored: number): DistributionError {
  return new DistributionError(DistributionErrorCode.FENCED, `checkpoint '${key}': epoch ${String(epoch)} is older than the stored ${String(stored)} (a newer coordinator holds the lease)`);
}
