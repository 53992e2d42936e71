// serve-scale.mjs URL PID EVENTS — the figures of serve-scale.sh.
import fs from 'node:fs';
import os from 'node:os';
import { parseUrl, WsClient } from '../browser/lib.mjs';

const [url, pid, events] = process.argv.slice(2);
const { host, port } = parseUrl(url);
const LONG = 3600 * 1000;
const since = (t) => Number(process.hrtime.bigint() - t) / 1e9;
// The server's CPU seconds so far (user + system): on a shared machine the
// wall times above vary with the load, these much less.
const cpu = () => {
	const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
	return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in ticks (USER_HZ 100)
};
const hwm = () => Number(/VmHWM:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))[1]) / 1024;

async function connect() {
	const t = process.hrtime.bigint();
	const c = await WsClient.connect(host, port, undefined, { timeoutMs: LONG });
	const timeline = await c.nextOfType('timeline', LONG);
	await c.nextOfType('state', LONG);
	return { c, timeline, seconds: since(t) };
}

// Seeks C to TS: seconds until the whole snapshot and the state are in.
async function seek(c, ts) {
	const t = process.hrtime.bigint(), c0 = cpu();
	c.send(`{"cmd":"seek","ts_ns":${ts}}`);
	for (let m = await c.nextOfType('snapshot', LONG); !m.last;)
		m = await c.nextOfType('snapshot', LONG);
	await c.nextOfType('state', LONG);
	seekCpu.push(cpu() - c0);
	return since(t);
}

const seekCpu = [];
const first = await connect();
const indexCpu = cpu();
const second = await connect();
const f = BigInt(first.timeline.first_ns), l = BigInt(first.timeline.last_ns);
const at = (x) => f + BigInt(Math.round(Number(l - f) * x));
const named = [];
for (const [name, x] of [['1/4', 0.25], ['1/2', 0.5], ['3/4', 0.75], ['end', 1]])
	named.push(`${name} ${(await seek(second.c, x === 1 ? l + 1n : at(x))).toFixed(2)} s`);
let seed = 7, worst = 0;
for (let i = 0; i < 10; i++) {
	seed = (seed * 1103515245 + 12345) % 2147483648;
	worst = Math.max(worst, await seek(second.c, at(seed / 2147483648)));
}
const t = process.hrtime.bigint();
const pending = seek(second.c, l + 1n);
first.c.send({ cmd: 'ping' });
await first.c.nextOfType('pong', LONG);
const ping = since(t);
await pending;
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const load = fs.readFileSync('/proc/loadavg', 'latin1').split(' ')[0];
console.log(`serve-scale: ${Number(events).toLocaleString('en-US')} events: index ${first.seconds.toFixed(1)} s ` +
	`(${indexCpu.toFixed(1)} s CPU with the phases' analysis) ` +
	`(the first connection waits for it), a new connection ${(second.seconds * 1000).toFixed(0)} ms, ` +
	`seek to ${named.join(', ')}, 10 random points at most ${worst.toFixed(2)} s; ` +
	`server CPU per seek median ${median(seekCpu).toFixed(2)} s, at most ${Math.max(...seekCpu).toFixed(2)} s; ` +
	`a ping during another client's seek ${(ping * 1000).toFixed(0)} ms; peak RSS ${hwm().toFixed(0)} MB; load average ${load} on ${os.cpus().length} CPUs`);
first.c.close();
second.c.close();
process.exit(0);
