// web-memory.mjs live URL PID NODES — what clients can make the live server
// (process PID, whose tree has about NODES nodes) hold:
//  1. 40 clients that never read ask 30 snapshots each (old servers queued
//     them all: 40 × 30 × ~0.5 MB): the RSS grows by less than 200 MB, as
//     each client may have 8 MiB queued and all of them 128 MiB; the asks
//     beyond are refused or the client is cut off.
//  2. Once they have all gone, the RSS comes back to within 64 MB of
//     where it started.
//  3. Clients beyond the cap of 64 are answered 503.
// web-memory.mjs serve URL PID — `tracefs serve` (process PID): 20 tabs
// that each seek to 1/3, 1/2 and the end of the trace grow the server by
// less than 150 MB (it was 20 SQLite caches of up to 64 MiB each), and it
// comes back within 32 MB of the first tab's once they have gone. The
// first tab, connected while serve reads the trace for its index, hears
// how far it is (`progress`, done rising to the trace's 2,000,000 events).
import fs from 'node:fs';
import { run, parseUrl, eventsPath, WsClient, rawRequest, waitFor, note } from './lib.mjs';

const [mode, url, pidArg, nodesArg] = process.argv.slice(2);
const pid = Number(pidArg), NODES = Number(nodesArg);
const { host, port } = parseUrl(url);
const MB = 1 << 20;

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

function rss() {
	const m = /VmRSS:\s*(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
	return Number(m[1]) * 1024;
}

// A client that takes its snapshot (so that the tree is complete), then stops reading.
async function stalledClient() {
	const c = await WsClient.connect(host, port);
	const last = await c.nextOfType('snapshot', 10000);
	let nodes = last.nodes.length;
	for (let m = last; !m.last; nodes += m.nodes.length)
		m = await c.nextOfType('snapshot', 10000);
	c.socket.pause();
	return { c, nodes };
}

async function upgradeStatus() {
	const r = await rawRequest(host, port, `GET ${eventsPath(host, port)} HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
		`Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
		'Sec-WebSocket-Version: 13\r\n\r\n', 3000);
	return r.status;
}

async function serveTabs() {
	const connect = async () => {
		const c = await WsClient.connect(host, port, undefined, { timeoutMs: 120000 });
		const timeline = await c.nextOfType('timeline', 120000);
		await c.nextOfType('state', 120000);
		return { c, timeline };
	};
	const tabs = [await connect()];
	// The first tab came while serve was reading the trace: it heard how far.
	const progress = tabs[0].timeline.skipped.filter((m) => m.json && m.json.type === 'progress').map((m) => m.json);
	note(`serve: the first tab heard ${progress.length} progress messages before its replay: ` +
		progress.map((p) => `${p.done}/${p.total}`).join(' '));
	assert(progress.length >= 2, `the first tab heard no progress while the index was built: ${JSON.stringify(progress)}`);
	assert(progress.every((p, i) => p.task === 'index' && p.done >= 0 && p.done <= p.total &&
		(p.total === 0 || p.total === 2000000) && (i === 0 || p.done >= progress[i - 1].done)),
		`progress messages: ${JSON.stringify(progress)}`);
	assert(progress.at(-1).done > progress[0].done, `the progress did not move: ${JSON.stringify(progress)}`);
	const before = rss();
	while (tabs.length < 20)
		tabs.push(await connect());
	for (const { c, timeline } of tabs) {
		const f = BigInt(timeline.first_ns), l = BigInt(timeline.last_ns);
		for (const ts of [f + (l - f) / 3n, f + (l - f) / 2n, l + 1n]) {
			c.send(`{"cmd":"seek","ts_ns":${ts}}`);
			await c.nextOfType('state', 120000);
		}
	}
	const busy = rss();
	note(`serve: RSS with one tab ${(before / MB).toFixed(0)} MB, with 20 that sought all over: ${(busy / MB).toFixed(0)} MB`);
	assert(busy - before < 150 * MB, `20 tabs grew the server by ${((busy - before) / MB).toFixed(0)} MB`);
	for (const { c } of tabs)
		c.close();
	await waitFor(async () => rss() - before < 32 * MB, 20000,
		`the RSS to come back near ${(before / MB).toFixed(0)} MB (it is ${(rss() / MB).toFixed(0)} MB)`);
	note(`serve: after they closed: ${(rss() / MB).toFixed(0)} MB`);
}

run(async () => {
	if (mode === 'serve')
		return serveTabs();
	const before = rss();
	const clients = [];
	for (let i = 0; i < 40; i++)
		clients.push(await stalledClient());
	assert(clients[0].nodes >= NODES, `the snapshot holds ${clients[0].nodes} nodes, not ${NODES}`);
	for (let round = 0; round < 30; round++)
		for (const { c } of clients)
			c.send({ cmd: 'snapshot' });
	// Every ask has been handled once a fresh client gets its pong.
	const probe = await WsClient.connect(host, port);
	probe.send({ cmd: 'ping' });
	await probe.nextOfType('pong', 30000);
	const flooded = rss();
	note(`RSS ${(before / MB).toFixed(0)} MB, with 40 clients asking 30 snapshots each and not reading: ` +
		`${(flooded / MB).toFixed(0)} MB`);
	assert(flooded - before < 200 * MB, `the server grew by ${((flooded - before) / MB).toFixed(0)} MB`);

	for (const { c } of clients)
		c.close();
	probe.close();
	await waitFor(async () => rss() - before < 64 * MB, 20000,
		`the RSS to come back near ${(before / MB).toFixed(0)} MB (it is ${(rss() / MB).toFixed(0)} MB)`);
	note(`after they closed: ${(rss() / MB).toFixed(0)} MB`);

	// The cap: 64 clients, then 503; once one goes, another may come.
	const many = [];
	for (let i = 0; i < 64; i++)
		many.push(await WsClient.connect(host, port));
	const status = await upgradeStatus();
	assert(status === 503, `client 65: status ${status}, expected 503`);
	note(`client 65: ${status}`);
	many.pop().close();
	await waitFor(async () => (await upgradeStatus()) === 101, 10000, 'a client in the freed place');
	for (const c of many)
		c.close();
});
