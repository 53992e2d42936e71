// web-serve-cache.mjs URL — what a `tracefs serve` client gets from the
// trace's index, printed one message a line for web-serve-cache.sh to
// compare between a fresh build of the index and one loaded from its cache:
// the timeline, the phases, the welcome snapshot, and the snapshot and
// state of seeks to the start, 1/7, 1/3, 1/2, 5/6 of the span and past the end.
import { run, parseUrl, WsClient } from './lib.mjs';

const [url] = process.argv.slice(2);
const LONG = 120000;

// The next message of TYPE (those before it are dropped).
async function next(c, type) {
	const { skipped, ...json } = await c.nextOfType(type, LONG);
	return json;
}

async function snapshot(c) {
	const parts = [];
	for (let m = await next(c, 'snapshot'); ; m = await next(c, 'snapshot')) {
		parts.push(JSON.stringify(m));
		if (m.last)
			break;
	}
	return parts.join('\n');
}

await run(async () => {
	const { host, port } = parseUrl(url);
	const c = await WsClient.connect(host, port, undefined, { timeoutMs: LONG });
	const timeline = await next(c, 'timeline');
	console.log(JSON.stringify(timeline));
	console.log(JSON.stringify(await next(c, 'phases')));
	console.log(await snapshot(c));
	const f = BigInt(timeline.first_ns), l = BigInt(timeline.last_ns);
	for (const [n, d] of [[0n, 1n], [1n, 7n], [1n, 3n], [1n, 2n], [5n, 6n], [2n, 1n]]) {
		c.send(`{"cmd":"seek","ts_ns":${f + (l - f) * n / d}}`);
		console.log(await snapshot(c));
		console.log(JSON.stringify(await next(c, 'state')));
	}
	c.close();
});
