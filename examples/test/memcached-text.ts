/**
 * memcached's text protocol, for tests that look at a server from outside the library: what it holds (`lru_crawler
 * metadump all` lists every live key), its counters (`stats`), and plain get/set as any other client would do.
 */
import { once } from 'node:events';
import { createConnection } from 'node:net';

/** Sends one command and collects the reply up to its closing line (`END`, `STORED`, ...). */
async function command(address: string, text: string, done: RegExp): Promise<string> {
  const [host, port] = address.split(':');
  const socket = createConnection({ host, port: Number(port) });
  await once(socket, 'connect');
  socket.write(text);
  let reply = '';
  for await (const chunk of socket) {
    reply += String(chunk);
    if (done.test(reply)) break;
  }
  socket.destroy();
  return reply;
}

/** Every live key on the server, sorted (a crawl, not a snapshot: for messages, not for assertions). */
export async function liveKeys(address: string): Promise<string[]> {
  const reply = await command(address, 'lru_crawler metadump all\r\n', /(^|\r?\n)END\r\n$/);
  return reply
    .split(/\r?\n/)
    .filter((line) => line.startsWith('key='))
    .map((line) => decodeURIComponent(line.slice(4).split(' ')[0] ?? ''))
    .sort();
}

export async function currItems(address: string): Promise<number> {
  const reply = await command(address, 'stats\r\n', /END\r\n$/);
  const match = /STAT curr_items (\d+)/.exec(reply);
  if (!match) throw new Error(`no curr_items in ${reply}`);
  return Number(match[1]);
}

/** A plain text-protocol set with no expiry, as another application would write. */
export async function setForeign(address: string, key: string, value: string): Promise<void> {
  const reply = await command(address, `set ${key} 0 0 ${Buffer.byteLength(value)}\r\n${value}\r\n`, /\r\n$/);
  if (reply !== 'STORED\r\n') throw new Error(`set ${key}: ${reply}`);
}

/** The value of a key, or undefined when the server does not have it. */
export async function getForeign(address: string, key: string): Promise<string | undefined> {
  const reply = await command(address, `get ${key}\r\n`, /END\r\n$/);
  const match = /^VALUE \S+ \d+ \d+\r\n([\s\S]*)\r\nEND\r\n$/.exec(reply);
  return match?.[1];
}
