// The work itself: jobs, and what a worker computes for one.

/** A unit of work. `crashesOnAttempts` makes a worker crash on those attempts (1-based), for the demo. */
export interface Job {
  id: number;
  input: number;
  crashesOnAttempts?: number[];
}

/** What the coordinator hands a worker: a job and which attempt this is. */
export interface Assignment {
  job: Job;
  attempt: number;
}

/** The computation a worker runs: the sum of the divisors of `input`. */
export function compute(input: number): number {
  let sum = 0;
  for (let d = 1; d <= input; d++) if (input % d === 0) sum += d;
  return sum;
}

/** `count` jobs; every fifth crashes its worker on the first attempt, job 7 on the first two. */
export function makeJobs(count: number): Job[] {
  return Array.from({ length: count }, (_, i) => {
    const id = i + 1;
    const crashesOnAttempts = id === 7 ? [1, 2] : id % 5 === 0 ? [1] : undefined;
    return { id, input: 1_000 + id * 37, ...(crashesOnAttempts === undefined ? {} : { crashesOnAttempts }) };
  });
}
