/**
 * Certificates for TLS tests, made with openssl (Debian's) in a temporary folder: a CA, a server certificate it
 * signed for 127.0.0.1/localhost, an expired one, a second CA that signed nothing the server shows, and a client
 * certificate for mutual TLS. `memcachedTlsArgs` gives memcached's `-Z -o …` options for a server certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** The CA that signed the server and client certificates (PEM). */
  ca: Buffer;
  /** A CA that signed none of them (PEM): a client trusting only it rejects the server. */
  otherCa: Buffer;
  /** The client certificate and key for mutual TLS (PEM). */
  clientCert: Buffer;
  clientKey: Buffer;
  /** `memcached` arguments serving the valid (or the expired) server certificate; `verifyClients` asks for mTLS. */
  memcachedTlsArgs(options?: { expired?: boolean; verifyClients?: boolean }): string[];
  remove(): void;
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: 'ignore' });
  } catch (cause) {
    throw new Error(`openssl ${args[0]} failed: install it with \`apt-get install -y openssl\``, { cause });
  }
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'lovely-memcached-tls-'));
  const path = (name: string) => join(dir, name);
  /** A new RSA key `<name>.key` and a request for `/CN=<cn>`, to which `then` adds what is made of it. */
  const request = (name: string, cn: string, then: string[]) =>
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path(`${name}.key`),
      '-subj',
      `/CN=${cn}`,
      ...then,
    ]);
  const selfSigned = (name: string, cn: string) =>
    request(name, cn, ['-x509', '-out', path(`${name}.pem`), '-days', '2']);
  const signed = (name: string, cn: string, days: string, ext: string) => {
    request(name, cn, ['-out', path(`${name}.csr`)]);
    writeFileSync(path(`${name}.ext`), ext);
    openssl([
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path(`${name}.pem`),
      '-days',
      days,
      '-extfile',
      path(`${name}.ext`),
    ]);
  };
  selfSigned('ca', 'lovely-memcached test CA');
  selfSigned('other-ca', 'another CA');
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\n';
  signed('server', 'localhost', '2', serverExt);
  // Valid for 0 days: its notAfter is the moment it was made, so it has expired a second later.
  signed('expired', 'localhost', '0', serverExt);
  signed('client', 'lovely-memcached test client', '2', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: readFileSync(path('ca.pem')),
    otherCa: readFileSync(path('other-ca.pem')),
    clientCert: readFileSync(path('client.pem')),
    clientKey: readFileSync(path('client.key')),
    memcachedTlsArgs({ expired = false, verifyClients = false } = {}) {
      const name = expired ? 'expired' : 'server';
      const options = [`ssl_chain_cert=${path(`${name}.pem`)}`, `ssl_key=${path(`${name}.key`)}`];
      if (verifyClients) options.push('ssl_verify_mode=2', `ssl_ca_cert=${path('ca.pem')}`);
      return ['-Z', '-o', options.join(',')];
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
