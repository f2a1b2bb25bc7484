// A real DNS server on 127.0.0.1 (UDP, an ephemeral port) for the DNS strategies' tests: it
// answers A, AAAA and SRV questions from records the test changes while it runs, or SERVFAIL
// when told to fail. Built on dns-packet, the wire codec most npm DNS servers use.

import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface SrvRecord {
  target: string;
  port: number;
}

export class TestDnsServer {
  readonly a = new Map<string, string[]>();
  readonly aaaa = new Map<string, string[]>();
  readonly srv = new Map<string, SrvRecord[]>();
  /** Answer every question with SERVFAIL. */
  failing = false;
  questions = 0;
  #socket: Socket | null = null;
  port = 0;

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => {
      let query: dnsPacket.Packet;
      try {
        query = dnsPacket.decode(msg);
      } catch {
        return;
      }
      this.questions++;
      const question = query.questions?.[0];
      const answers: dnsPacket.Answer[] = [];
      let rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' = 'NOERROR';
      if (this.failing) rcode = 'SERVFAIL';
      else if (question !== undefined) {
        const name = question.name.toLowerCase();
        if (question.type === 'A') for (const ip of this.a.get(name) ?? []) answers.push({ type: 'A', name: question.name, ttl: 1, data: ip });
        if (question.type === 'AAAA') for (const ip of this.aaaa.get(name) ?? []) answers.push({ type: 'AAAA', name: question.name, ttl: 1, data: ip });
        if (question.type === 'SRV') for (const r of this.srv.get(name) ?? []) answers.push({ type: 'SRV', name: question.name, ttl: 1, data: { priority: 0, weight: 10, port: r.port, target: r.target } });
        const known = this.a.has(name) || this.aaaa.has(name) || this.srv.has(name);
        if (!known) rcode = 'NXDOMAIN';
      }
      const flags = dnsPacket.AUTHORITATIVE_ANSWER | (rcode === 'SERVFAIL' ? 2 : rcode === 'NXDOMAIN' ? 3 : 0);
      const response = dnsPacket.encode({ type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [], answers });
      socket.send(response, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    this.port = socket.address().port;
  }

  get address(): string {
    return `127.0.0.1:${String(this.port)}`;
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) await new Promise<void>((resolve) => socket.close(() => { resolve(); }));
  }
}
