// The TypeScript blocks of a README, with where they are and how they are checked: every ```ts
// block is type-checked against the packages; one marked `<!-- fdn:runnable -->` on the line
// before is a whole program and is run too; `<!-- fdn:skip: why -->` leaves a block out (the why
// is required, and shown).

import { readFileSync } from 'node:fs';

export interface ReadmeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  runnable: boolean;
  skip: string | null;
}

export function readmeBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(ts|typescript)\s*$/.exec(lines[i] ?? '');
    if (fence === null) continue;
    let j = i - 1;
    while (j >= 0 && (lines[j] ?? '').trim() === '') j--;
    const marker = /^<!--\s*fdn:(runnable|skip)(?::\s*(.*?))?\s*-->$/.exec((lines[j] ?? '').trim());
    const end = lines.findIndex((l, k) => k > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${String(i + 1)}: a code block that never closes`);
    const skip = marker?.[1] === 'skip' ? marker[2] ?? '' : null;
    if (skip === '') throw new Error(`${file}:${String(i + 1)}: fdn:skip needs a reason (<!-- fdn:skip: why -->)`);
    blocks.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n') + '\n', runnable: marker?.[1] === 'runnable', skip });
    i = end;
  }
  return blocks;
}
