// Node options from the environment, so one image runs everywhere: FDN_NAME, FDN_SECRET (or
// FDN_SECRET_FILE, a file holding it: a mounted Kubernetes secret), FDN_LISTEN (`port`,
// `host:port`, or `ws://host:port`), FDN_SEEDS (comma-separated addresses), FDN_APP_VERSION, and the
// default logger's FDN_LOG_LEVEL and FDN_LOG_FORMAT. A variable that is set but malformed is
// FDN_ERR_BAD_CONFIG naming it.

import { readFileSync } from 'node:fs';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';

/** What the environment says about a node (only the variables that are set). */
export interface EnvironmentOptions {
  name?: string;
  secret?: string;
  listen?: { host?: string; port: number };
  seeds?: string[];
  appVersion?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  logFormat?: 'json' | 'text';
}

/** The variables `@fdn` reads, for documentation and error messages. */
export const ENVIRONMENT_VARIABLES = ['FDN_NAME', 'FDN_SECRET', 'FDN_SECRET_FILE', 'FDN_LISTEN', 'FDN_SEEDS', 'FDN_APP_VERSION', 'FDN_LOG_LEVEL', 'FDN_LOG_FORMAT', 'FDN_PROFILE'] as const;

/** Reads the node options the environment sets (`env` defaults to `process.env`). */
export function optionsFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): EnvironmentOptions {
  const out: EnvironmentOptions = {};
  const name = env.FDN_NAME?.trim();
  if (name !== undefined && name !== '') out.name = name;
  const secret = env.FDN_SECRET;
  const secretFile = env.FDN_SECRET_FILE?.trim();
  if (secret !== undefined && secret !== '' && secretFile !== undefined && secretFile !== '') {
    throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'both FDN_SECRET and FDN_SECRET_FILE are set: set one');
  }
  if (secret !== undefined && secret !== '') out.secret = secret;
  else if (secretFile !== undefined && secretFile !== '') {
    try {
      out.secret = readFileSync(secretFile, 'utf8').trim();
    } catch (err) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `FDN_SECRET_FILE=${secretFile}: cannot read it (${(err as Error).message})`, { cause: err });
    }
  }
  const listen = env.FDN_LISTEN?.trim();
  if (listen !== undefined && listen !== '') out.listen = parseListen(listen);
  const appVersion = env.FDN_APP_VERSION?.trim();
  if (appVersion !== undefined && appVersion !== '') out.appVersion = appVersion;
  const logLevel = env.FDN_LOG_LEVEL?.trim().toLowerCase();
  if (logLevel !== undefined && logLevel !== '') {
    if (logLevel !== 'debug' && logLevel !== 'info' && logLevel !== 'warn' && logLevel !== 'error') throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `FDN_LOG_LEVEL=${logLevel}: expected debug, info, warn or error`);
    out.logLevel = logLevel;
  }
  const logFormat = env.FDN_LOG_FORMAT?.trim().toLowerCase();
  if (logFormat !== undefined && logFormat !== '') {
    if (logFormat !== 'json' && logFormat !== 'text') throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `FDN_LOG_FORMAT=${logFormat}: expected json or text`);
    out.logFormat = logFormat;
  }
  const seeds = env.FDN_SEEDS?.trim();
  if (seeds !== undefined && seeds !== '') out.seeds = seeds.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return out;
}

function parseListen(value: string): { host?: string; port: number } {
  const m = /^(?:wss?:\/\/)?(?:(\[[^\]]+\]|[^:/]+):)?(\d+)\/?$/.exec(value);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port > 65_535) {
    throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `FDN_LISTEN=${value}: expected a port (4370), host:port (0.0.0.0:4370) or ws://host:port`);
  }
  const host = m[1]?.replace(/^\[|\]$/g, '');
  return host === undefined ? { port } : { host, port };
}
