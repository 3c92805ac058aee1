// Hugging Face Hub ids wherever a model path is accepted. Files land in the standard cache
// (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub) through @huggingface/hub, and a
// model already cached resolves offline without touching the network.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHFHubCachePath, snapshotDownload } from '@huggingface/hub';
import { LlamacError } from '../errors.js';

export interface HubOptions {
  readonly revision?: string;
  /** Overrides HF_ENDPOINT (tests point it at a loopback server). */
  readonly endpoint?: string;
  readonly token?: string;
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** True when `spec` names a Hub repo rather than a local folder. */
export function looksLikeHubId(spec: string): boolean {
  return !existsSync(spec) && HUB_ID.test(spec) && !spec.startsWith('.') && !spec.includes('..');
}

function cachedSnapshot(cacheDir: string, repo: string, revision: string): string | null {
  const repoDir = join(cacheDir, `models--${repo.replace('/', '--')}`);
  let commit = revision;
  const ref = join(repoDir, 'refs', revision);
  if (existsSync(ref)) commit = readFileSync(ref, 'utf8').trim();
  const snap = join(repoDir, 'snapshots', commit);
  return existsSync(join(snap, 'config.json')) ? snap : null;
}

/** Resolve a Hub id to a local snapshot folder, downloading into the HF cache if needed. */
export async function resolveHubModel(repo: string, opts: HubOptions = {}): Promise<string> {
  const revision = opts.revision ?? 'main';
  const cacheDir = getHFHubCachePath();
  const cached = cachedSnapshot(cacheDir, repo, revision);
  if (cached) return cached;
  const hubUrl = opts.endpoint ?? process.env['HF_ENDPOINT'];
  const accessToken = opts.token ?? process.env['HF_TOKEN'];
  // @huggingface/hub logs each download with console.debug (stdout); keep stdout for results.
  const debug = console.debug;
  console.debug = () => {};
  try {
    return await snapshotDownload({
      repo: { type: 'model', name: repo },
      revision,
      cacheDir,
      ...(hubUrl ? { hubUrl } : {}),
      ...(accessToken ? { accessToken } : {}),
    });
  } catch (e) {
    throw new LlamacError(`${repo}@${revision}: cannot fetch from the Hub and not in the cache (${cacheDir}): ${(e as Error).message}`);
  } finally {
    console.debug = debug;
  }
}

/** A model argument: a local folder as is, or a Hub id resolved through the cache. */
export async function resolveModelPath(spec: string, opts: HubOptions = {}): Promise<string> {
  return looksLikeHubId(spec) ? resolveHubModel(spec, opts) : spec;
}
