// Run as a child process by close.integration.test.ts (#16: urgent probes leaked sockets). Marks its server down
// (nothing listens yet), says `down`, waits for `up` on stdin (the parent has started memcached on that port),
// sends five concurrent urgent deletes, prints the events, closes the transport, and must then exit on its own:
// a probe socket left open would keep the event loop alive.
import { type MemjsTransportEvent, memjsTransport } from '../../src';

// The server is down on purpose: the transport's warning that none of its servers ever answered is expected, not
// printed (this process's stderr is the test log's). Any other warning prints as Node would print it.
process.removeAllListeners('warning');
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code !== 'LOVELY_MEMCACHED_UNREACHABLE') process.stderr.write(`${warning.stack ?? warning}\n`);
});

const [server] = process.argv.slice(2);
const events: string[] = [];
const transport = memjsTransport({
  timeout: 500,
  probeInterval: 60_000, // no background probe: only the urgent deletes bring the server back
  onEvent: (event: MemjsTransportEvent) => events.push(event.type),
})([server as string]);

await transport.get('k');
process.stdout.write('down\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();

await Promise.all(Array.from({ length: 5 }, (_, i) => transport.delete(`k${i}`, { urgent: true })));
// The server is back once the five deletes it missed are applied again (they were remembered): a round trip on.
for (let i = 0; i < 100 && !events.includes('server-up'); i++) await new Promise((r) => setTimeout(r, 10));
process.stdout.write(`${JSON.stringify(events)}\n`);
await transport.close();
process.stdout.write('closed\n');
