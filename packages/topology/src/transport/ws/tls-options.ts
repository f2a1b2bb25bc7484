// TLS for connections: what a node shows, what it trusts, and whether nodes that dial it must show a certificate.

/** TLS settings: a server certificate, and what to trust when dialling. */
export interface TlsOptions {
  /** This node's private key (PEM). */
  key: string | Buffer;
  /** This node's certificate (PEM), shown to nodes that dial it, and with `mutual` to nodes it dials. */
  cert: string | Buffer;
  /** Certificates to trust (a cluster's own CA, or self-signed certificates); default: Node's trusted roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Verify the peer's certificate when dialling (default true). */
  rejectUnauthorized?: boolean;
  /** Mutual TLS: a node that dials this one must present a certificate signed by `ca` (default false). */
  mutual?: boolean;
}
