// Attaching to a running cluster as a hidden node (Erlang's `remsh` and observer do the same):
// connected to one node of the cluster (the contact) with the cluster's secret, member of
// nothing, taking no work; every question goes to the contact's inspector, which answers for
// itself or relays to the node asked about.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect, startNode } from '@fdn/distribution';
import type { Node, NodeSummary } from '@fdn/distribution';
import { CliError, CliErrorCode, ExitCode } from '../errors.ts';
import type { CommandIo } from './io.ts';

/** How to reach the cluster: from the options, else the environment. */
export interface AttachOptions {
  /** An address of any node (`ws://127.0.0.1:4370`); default FDN_CONTACT, else the first of FDN_SEEDS. */
  contact?: string | undefined;
  /** A file holding the cluster secret; default FDN_SECRET, else the file FDN_SECRET_FILE names. */
  secretFile?: string | undefined;
  /** How long to wait for the contact, and for each answer (default 10,000 ms). */
  timeoutMs?: number | undefined;
}

/** A hidden node attached to the cluster through its contact. */
export interface Attached {
  readonly node: Node;
  /** The contact's node name. */
  readonly contact: string;
  /** Asks `target`'s inspector (default the contact) for `op`. */
  ask<T>(op: string, args?: Record<string, unknown>, target?: string): Promise<T>;
  /** The contact and every node it is connected to, sorted. */
  nodes(): Promise<string[]>;
  close(): Promise<void>;
}

function secretOf(options: AttachOptions, env: CommandIo['env']): string {
  const file = options.secretFile ?? (env.FDN_SECRET === undefined || env.FDN_SECRET === '' ? env.FDN_SECRET_FILE : undefined);
  if (file !== undefined && file !== '') {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliError(CliErrorCode.ATTACH_FAILED, `cannot read the secret file ${file}: ${(err as Error).message}`);
    }
  }
  if (env.FDN_SECRET !== undefined && env.FDN_SECRET !== '') return env.FDN_SECRET;
  throw new CliError(CliErrorCode.ATTACH_FAILED, 'no cluster secret: set FDN_SECRET, or FDN_SECRET_FILE / --secret-file to a file holding it');
}

function contactOf(options: AttachOptions, env: CommandIo['env']): string {
  const contact = options.contact ?? env.FDN_CONTACT ?? env.FDN_SEEDS?.split(',')[0]?.trim();
  if (contact === undefined || contact === '') throw new CliError(CliErrorCode.ATTACH_FAILED, 'no node to attach to: pass --contact ws://host:port (or set FDN_CONTACT) with the address of any node of the cluster');
  return contact;
}

/** Attaches to the cluster (see the file comment); throws FDN_ERR_ATTACH saying what to check. */
export async function attach(io: CommandIo, options: AttachOptions = {}): Promise<Attached> {
  const secret = secretOf(options, io.env);
  const contact = contactOf(options, io.env);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let node: Node;
  try {
    node = await startNode({ name: `fdn-${randomBytes(4).toString('hex')}`, secret, listen: false, seeds: [contact], overlay: 'hidden', loadReportMs: 0, logLevel: 'error' });
  } catch (err) {
    throw new CliError(CliErrorCode.ATTACH_FAILED, `cannot attach to ${contact}: ${(err as Error).message}`);
  }
  try {
    await node.joined({ timeoutMs });
  } catch (err) {
    await node.stop({ timeoutMs: 1_000 });
    throw new CliError(CliErrorCode.ATTACH_FAILED, `cannot attach to ${contact}: ${(err as Error).message}. Check the address (--contact or FDN_CONTACT) and that the secret is the cluster's`);
  }
  const name = node.nodes()[0] as string;
  const ask = <T>(op: string, args: Record<string, unknown> = {}, target?: string): Promise<T> => inspect<T>(node, name, op, args, { target: target ?? name, timeoutMs });
  return {
    node,
    contact: name,
    ask,
    nodes: async () => {
      const summary = await ask<NodeSummary>('node');
      return [name, ...summary.nodes.filter((n) => n !== node.name)].sort();
    },
    close: () => node.stop({ timeoutMs: 1_000 }),
  };
}

/** One node's answer to a question asked of several: its value, or why it gave none. */
export interface NodeAnswer<T> {
  node: string;
  value?: T;
  error?: string;
}

/** Runs `fn` for each node, all at once; the answers in node order, failures beside them. */
export async function eachNode<T>(nodes: readonly string[], fn: (node: string) => Promise<T>): Promise<NodeAnswer<T>[]> {
  const settled = await Promise.allSettled(nodes.map(fn));
  return settled.map((s, i) => (s.status === 'fulfilled' ? { node: nodes[i] as string, value: s.value } : { node: nodes[i] as string, error: s.reason instanceof Error ? s.reason.message : String(s.reason) }));
}

/** A line per node that did not answer, saying why. */
export function noAnswers(answers: readonly NodeAnswer<unknown>[]): string[] {
  return answers.filter((a) => a.error !== undefined).map((a) => `${a.node}: no answer (${a.error ?? ''})`);
}

/** The exit code of a listing across nodes: failed when any node did not answer. */
export function exitCodeOf(answers: readonly NodeAnswer<unknown>[]): number {
  return answers.some((a) => a.error !== undefined) ? ExitCode.FAILED : ExitCode.OK;
}
