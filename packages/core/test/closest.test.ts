import { describe, expect, it } from 'vitest';
import { closestWord } from '../src/index.ts';

describe('closestWord', () => {
  it('finds a misspelt word, ignoring case', () => {
    expect(closestWord('polling_intreval', ['polling_interval', 'query'])).toBe('polling_interval');
    expect(closestWord('QUERY', ['polling_interval', 'query'])).toBe('query');
  });
  it('finds a word contained in the other', () => {
    expect(closestWord('selector', ['kubernetes_selector', 'mode'])).toBe('kubernetes_selector');
  });
  it('prefers one edit to containment', () => {
    expect(closestWord('Cluster.Strategy.Kubernetes.DNSRV', ['Cluster.Strategy.Kubernetes.DNS', 'Cluster.Strategy.Kubernetes.DNSSRV'])).toBe('Cluster.Strategy.Kubernetes.DNSSRV');
  });
  it('answers null when nothing is near', () => {
    expect(closestWord('banana', ['polling_interval', 'query'])).toBeNull();
  });
});
