// "Did you mean …?" for configuration keys: the known word nearest to a misspelt one.

/** The word of `known` nearest to `word` (edit distance ≤ 2, or one contains the other; one edit beats containment), ignoring case; `null` when none is near. */
export function closestWord(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  const lower = word.toLowerCase();
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    // Containment (`selector` in `kubernetes_selector`) ranks between one edit and two.
    const d = Math.min(editDistance(lower, other), other.includes(lower) || lower.includes(other) ? 1.5 : Infinity);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
