import { describe, expect, it } from 'vitest';
import { ClusterErrorCode, staticHosts } from '../../src/index.ts';
import { components, SELF, strategyCompliance } from '../support/compliance.ts';

strategyCompliance('static', () =>
  Promise.resolve({
    initial: ['ws://127.0.0.1:4001', 'ws://127.0.0.1:4002'],
    create: (c) => staticHosts({ hosts: ['ws://127.0.0.1:4002', 'ws://127.0.0.1:4001', 'ws://127.0.0.1:4001', SELF.addresses[0] as string] })(c),
    close: () => Promise.resolve(),
  }),
);

describe('static hosts', () => {
  it('reads addresses, Erlang-style names with and without a port, and IPv6', async () => {
    const s = staticHosts({ hosts: ['ws://10.0.0.1:4370', 'app@10.0.0.2:4371', ':app@10.0.0.3', 'app@[fd00::4]:4372'], port: 4380 })(components());
    await s.start();
    expect(s.peers()).toEqual([
      { address: 'ws://10.0.0.1:4370' },
      { name: 'app@10.0.0.2', address: 'ws://10.0.0.2:4371' },
      { name: 'app@10.0.0.3', address: 'ws://10.0.0.3:4380' },
      { name: 'app@fd00::4', address: 'ws://[fd00::4]:4372' },
    ]);
    await s.stop();
  });

  it('refuses a malformed host, naming it', () => {
    expect(() => staticHosts({ hosts: ['10.0.0.1'] })).toThrow(expect.objectContaining({ code: ClusterErrorCode.BAD_CONFIG, message: expect.stringContaining("'10.0.0.1'") as unknown }));
    expect(() => staticHosts({ hosts: ['ws://10.0.0.1'] })).toThrow(/has no port/);
    expect(() => staticHosts({ hosts: ['app@10.0.0.1:99999'] })).toThrow(/1–65535/);
  });
});
