// web-protocol.mjs URL INDEX_HTML [SYMLINK_URL] — 1,000 malformed requests
// over many connections, in batches of 50: bad JSON, unknown or wrong-typed
// commands and replay commands on a live stream (each answered by
// {"type":"error","message":…} on a connection that stays open), binary
// frames, frames over 4096 bytes (closed with 1009 at once, the welcome
// unread), invalid UTF-8, bad
// opcodes, reserved bits, unmasked or truncated frames, bad control
// frames, garbage instead of a handshake, and HTTP paths that try to leave
// the web root. After each batch a fresh connection still gets pong for
// ping and GET / still returns the page. With SYMLINK_URL (a server whose
// web root holds symlinks to /etc/passwd and /etc) those are refused too.
// Before all that: a websocket without the URL's token, or with a wrong
// one, and an h2c upgrade, are answered 403.
import fs from 'node:fs';
import crypto from 'node:crypto';
import net from 'node:net';
import { run, parseUrl, WsClient, encodeFrame, httpGet, rawRequest, pingPong, note } from './lib.mjs';

const [url, indexHtml, symlinkUrl] = process.argv.slice(2);
const { host, port } = parseUrl(url);
const page = fs.readFileSync(indexHtml);
const TOTAL = 1000, BATCH = 50;

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

// --- what is sent ---------------------------------------------------------

// Text messages that must each get an error reply, the connection staying open.
const badText = [
	'{', '}', 'nope', '{"cmd":"ping"', '{"cmd":"ping",}', '', ' ', '[]', '[{"cmd":"ping"}]',
	'"ping"', '42', 'null', 'true', "{'cmd':'ping'}", '{"cmd":ping}', '{"cmd":"ping"]',
	'{"cmd" "ping"}', '{"cmd":"ping","x":}', '{"cmd":"\\x41"}', '{"cmd":"pi\u0000ng"}',
	'['.repeat(3000), '{"a":'.repeat(800), '{"cmd":"' + 'x'.repeat(4000) + '"}',
	'{"cmd":"explode"}', '{"cmd":"PING"}', '{"cmd":""}', '{"cmd":"ping "}', '{"cmd":"pong"}',
	'{"cmd":"\\ud800"}', '{"cmd":"hello"}', '{"cmd":"events"}',
	'{"cmd":1}', '{"cmd":null}', '{"cmd":["ping"]}', '{"cmd":{"x":1}}', '{"cmd":true}', '{}',
	'{"type":"ping"}', '{"cmd":-1e999}',
	// replay commands, and wrong-typed ones, on a live stream
	'{"cmd":"play"}', '{"cmd":"pause"}', '{"cmd":"seek","ts_ns":5}', '{"cmd":"speed","value":2}',
	'{"cmd":"seek","ts_ns":"x"}', '{"cmd":"seek"}', '{"cmd":"seek","ts_ns":1e400}',
	'{"cmd":"speed","value":-1}', '{"cmd":"speed","value":0}', '{"cmd":"speed","value":1e9}',
	'{"cmd":"speed","value":"fast"}', '{"cmd":"speed","value":null}', '{"cmd":"speed"}',
];

// Cases on their own connection, called with a variant number (0, 1, …).
// Each returns a short description of the
// outcome; it throws when the outcome breaks the protocol.
// A connection that has had its welcome (hello, the snapshot's last part),
// for the cases where lws itself drops the connection on a bad frame: a
// reset then discards what the client had not read yet, the close frame
// too; with the welcome read, only the close is left to come.
async function welcomed() {
	const c = await WsClient.connect(host, port);
	while (!(await c.nextOfType('snapshot')).last)
		;
	return c;
}

// The server's own refusal of a message too big: the close frame says
// 1009 and why, even with the welcome (the shell script makes it big)
// still on its way, unread: the server reads and drops the rest of the
// message rather than reset the connection.
async function closedTooLarge(c, what) {
	const code = await c.waitClosed();
	const close = c.messages.find((m) => m.opcode === 8);
	assert(code === 1009 && close && close.reason === 'message too large',
		`${what}: close code ${code} (${close ? `"${close.reason}"` : 'no close frame'}), expected 1009 "message too large"`);
}

const frameCases = [
	// a message over 4096 bytes: closed with 1009
	async (i) => {
		const c = await WsClient.connect(host, port);
		c.send(`{"cmd":"ping","pad":"${'p'.repeat(4097 + (i % 3000))}"}`);
		await closedTooLarge(c, `a ${4110 + (i % 3000)}-byte message`);
		return 'oversized: 1009';
	},
	// the same over 4096 bytes in fragments of 1000
	async () => {
		const c = await WsClient.connect(host, port);
		const text = Buffer.from(`{"cmd":"ping","pad":"${'q'.repeat(5000)}"}`);
		for (let off = 0; off < text.length; off += 1000) {
			c.sendFrame(text.subarray(off, off + 1000),
				{ opcode: off === 0 ? 1 : 0, fin: off + 1000 >= text.length });
		}
		await closedTooLarge(c, 'a fragmented 5,000-byte message');
		return 'oversized fragments: 1009';
	},
	// a binary frame: an error reply or a close
	async (i) => {
		const c = await welcomed();
		c.sendFrame(i % 2 ? Buffer.from('{"cmd":"ping"}') : crypto.randomBytes(1 + (i % 200)), { opcode: 2 });
		return replyOrClose(c, 'a binary frame');
	},
	// invalid UTF-8 in a text frame: an error reply or a close (1007)
	async (i) => {
		const c = await welcomed();
		const bad = [Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]),
			Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from([0xe2, 0x82])][i % 5];
		c.sendFrame(Buffer.concat([Buffer.from('{"cmd":"'), bad, Buffer.from('"}')]));
		return replyOrClose(c, 'invalid UTF-8');
	},
	// reserved opcodes 3-7 and 11-15: the connection is closed
	async (i) => {
		const c = await welcomed();
		const opcode = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15][i % 10];
		c.sendFrame('{"cmd":"ping"}', { opcode });
		return mustClose(c, `opcode ${opcode}`);
	},
	// reserved bits without an extension: closed
	async (i) => {
		const c = await welcomed();
		c.sendFrame('{"cmd":"ping"}', { rsv: 1 + (i % 7) });
		return mustClose(c, `reserved bits ${1 + (i % 7)}`);
	},
	// an unmasked client frame: RFC 6455 (5.1) says close; libwebsockets
	// 4.1 takes it as if masked. Either way, no harm: what it gets back is
	// a close or an ordinary reply (pong here), never anything else.
	async () => {
		const c = await welcomed();
		c.sendFrame('{"cmd":"ping"}', { mask: false });
		const m = await c.nextOfType('pong', 5000).then(() => 'answered (RFC 6455 says close)', () => null);
		if (m) {
			c.close();
			return `an unmasked frame: ${m}`;
		}
		return mustClose(c, 'an unmasked frame');
	},
	// a control frame over 125 bytes, or fragmented: closed
	async (i) => {
		const c = await welcomed();
		if (i % 2)
			c.sendFrame(Buffer.alloc(200, 1), { opcode: 9 });
		else
			c.sendFrame('x', { opcode: 9, fin: false });
		return mustClose(c, i % 2 ? 'a 200-byte ping' : 'a fragmented ping');
	},
	// a continuation frame with nothing to continue: closed
	async () => {
		const c = await welcomed();
		c.sendFrame('{"cmd":"ping"}', { opcode: 0 });
		return mustClose(c, 'a lone continuation frame');
	},
	// a 64-bit length of 2^62, then 6,000 bytes of it: closed with 1009;
	// a length with the most significant bit set (invalid): closed
	async (i) => {
		if (i % 2) {
			const c = await WsClient.connect(host, port);
			c.sendRaw(Buffer.from([0x81, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
			c.sendRaw(Buffer.alloc(6000, 0x7a));
			await closedTooLarge(c, 'a 2^62-byte message');
			return 'oversized by its length: 1009';
		}
		const c = await welcomed();
		c.sendRaw(Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 0x7a, 0x7a, 0x7a, 0x7a, 0x7a]));
		return mustClose(c, 'a 64-bit length with its top bit set');
	},
	// a frame cut short, then the client goes away
	async (i) => {
		const c = await welcomed();
		const frame = encodeFrame(`{"cmd":"ping","pad":"${'t'.repeat(100)}"}`);
		c.sendRaw(frame.subarray(0, 1 + (i % (frame.length - 1))));
		await new Promise((r) => setImmediate(r));
		c.close();
		return 'truncated';
	},
	// garbage instead of a handshake
	async (i) => {
		const garbage = i % 3 === 0 ? crypto.randomBytes(64 + (i % 500))
			: i % 3 === 1 ? Buffer.from(`GET /events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
				`Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %%%\r\n\r\n`)
			: Buffer.from(`GET /events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
				`Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 8\r\n\r\n`);
		const r = await rawRequest(host, port, garbage, 3000);
		assert(r.status !== 101, `garbage got a websocket upgrade: ${r.headers}`);
		return `garbage: ${r.status}`;
	},
	// HTTP paths out of the web root
	async (i) => {
		const paths = ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd',
			'/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/./../../../etc/passwd', '/index.html/../../../../etc/passwd',
			'/%252e%252e/%252e%252e/etc/passwd', '/..\\..\\..\\etc\\passwd', '//etc/passwd',
			'/....//....//etc/passwd', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/proc/self/environ',
			'/../../../../../../../../../../proc/self/cmdline', '/' + 'a/'.repeat(3000), '/%00', '/index.html%00.png',
			'/.%2e/.%2e/etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/shadow'];
		const path = paths[i % paths.length];
		const r = await httpGet(host, port, path);
		const body = r.body.toString('latin1');
		assert(!/root:.*:0:0:/.test(body) && !body.includes('PATH=') && !body.includes('tracefs-asan'),
			`GET ${path} leaks a file outside the web root: ${body.slice(0, 120)}`);
		// (a NUL may cut "/%00" down to "/": the page itself is no leak)
		assert(r.status !== 200 || r.body.equals(page), `GET ${path.slice(0, 80)}: status 200 with something else than the page`);
		return `GET ..: ${r.status}`;
	},
];

// Protocol violations found, with how often each was seen; the test goes
// on and lists them all at the end. (A server that stops answering fails
// at once.)
const problems = new Map();
function problem(message) {
	problems.set(message, (problems.get(message) || 0) + 1);
}

async function replyOrClose(c, what) {
	const m = await c.next(5000).catch(() => undefined);
	if (m === undefined) {
		c.close();
		throw new Error(`${what}: neither a reply nor a close within 5 s`);
	}
	// hello and the snapshot come first
	let reply = m;
	while (reply && reply.json && ['hello', 'snapshot', 'events'].includes(reply.json.type))
		reply = await c.next(5000);
	c.close();
	if (reply === null || reply.opcode === 8)
		return `${what}: closed ${c.closeCode}`;
	assert(reply.json && reply.json.type === 'error' && typeof reply.json.message === 'string',
		`${what}: reply ${reply.text ?? reply.opcode}`);
	return `${what}: error`;
}

async function mustClose(c, what) {
	let code;
	try {
		code = await c.waitClosed(5000);
	} catch (e) {
		c.close();
		throw new Error(`${what}: the connection was not closed`);
	}
	return `${what}: closed ${code}`;
}

// Sends the bad text messages on one connection: one error reply each, in
// order; then ping on the same connection still gets pong.
async function textBatch(messages) {
	const c = await WsClient.connect(host, port);
	const hello = await c.nextOfType('hello');
	assert(hello.mode === 'live', `hello: ${JSON.stringify(hello)}`);
	for (const text of messages)
		c.send(text);
	for (let k = 0; k < messages.length; k++) {
		const text = messages[k], what = JSON.stringify(text.slice(0, 60));
		const m = await c.next(5000).catch((err) => {
			throw new Error(`no reply to ${what}: ${err.message}`);
		});
		if (!m || m.opcode === 8)
			throw new Error(`the connection closed after ${what}`);
		if (m.json && ['snapshot', 'events', 'hello'].includes(m.json.type)) {
			k--; // not a reply: wait again for this one
			continue;
		}
		if (!(m.json && m.json.type === 'error' && typeof m.json.message === 'string' && m.json.message))
			problem(`${what} is answered ${m.text ? m.text.slice(0, 80) : `with opcode ${m.opcode}`}, not an error`);
	}
	c.send({ cmd: 'ping' });
	await c.nextOfType('pong');
	c.close();
}

async function stillServing(what) {
	await pingPong(host, port).catch((e) => { throw new Error(`${what}: ping: ${e.message}`); });
	const r = await httpGet(host, port, '/');
	assert(r.status === 200 && r.body.equals(page), `${what}: GET / returned ${r.status} and ${r.body.length} bytes, ` +
		`not the ${page.length} of index.html`);
}

// An upgrade request to PATH: the status it is answered with (null: none).
async function upgradeStatus(path, upgrade = 'websocket') {
	const r = await rawRequest(host, port, `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
		`Upgrade: ${upgrade}\r\nConnection: Upgrade${upgrade === 'h2c' ? ', HTTP2-Settings' : ''}\r\n` +
		(upgrade === 'h2c' ? 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n'
			: `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`) +
		'\r\n', 3000);
	return r.status;
}

async function onlyWithToken() {
	const { token } = parseUrl(url);
	assert(/^[0-9a-f]{32}$/.test(token), `the printed URL has no token: ${url}`);
	const wrong = token.replace(/^./, (c) => (c === '0' ? '1' : '0'));
	for (const path of ['/events', `/events?token=${wrong}`, `/events?token=${token.slice(0, 31)}`,
		`/events?token=${token}0`, '/events?token=', `/events?x=${token}`]) {
		const status = await upgradeStatus(path);
		assert(status === 403, `a websocket to ${path.replace(token, 'TOKEN')}: status ${status}, expected 403`);
	}
	assert(await upgradeStatus(`/events?token=${token}`) === 101, 'the right token: no upgrade');
	const h2c = await upgradeStatus('/', 'h2c');
	assert(h2c === 403, `an h2c upgrade: status ${h2c}, expected 403`);
	note('no token, a wrong one and h2c: 403; the right token: 101');
}

run(async () => {
	await onlyWithToken();
	await stillServing('before');
	const outcomes = new Map();
	let sent = 0, text = 0;
	for (let batch = 0; sent < TOTAL; batch++) {
		const messages = [];
		for (let k = 0; k < BATCH && sent < TOTAL; k++, sent++) {
			const i = sent;
			// half of them text messages, the others frame-level cases
			if (i % 2 === 0) {
				messages.push(badText[(i / 2) % badText.length]);
				continue;
			}
			const kind = ((i - 1) / 2) % frameCases.length, variant = Math.floor((i - 1) / 2 / frameCases.length);
			const out = await frameCases[kind](variant).catch((e) => { problem(e.message); return 'a problem'; });
			outcomes.set(out, (outcomes.get(out) || 0) + 1);
		}
		await textBatch(messages);
		text += messages.length;
		await stillServing(`after batch ${batch + 1}`);
	}
	note(`${sent} malformed requests, ${text} of them text messages answered with errors`);
	for (const [k, v] of [...outcomes].sort())
		note(`${String(v).padStart(4)} × ${k}`);

	if (symlinkUrl) {
		const s = parseUrl(symlinkUrl);
		for (const path of ['/leak.txt', '/etc/passwd', '/etc/hostname']) {
			const r = await httpGet(s.host, s.port, path);
			const body = r.body.toString('latin1');
			assert(!/root:.*:0:0:/.test(body) && r.status !== 200,
				`GET ${path} through a symlink in the web root: ${r.status} ${body.slice(0, 80)}`);
			note(`symlink ${path}: ${r.status}`);
		}
		const r = await httpGet(s.host, s.port, '/');
		assert(r.status === 200, `the copy's GET /: ${r.status}`);
	}
	if (problems.size) {
		for (const [k, v] of problems)
			console.log(`  PROBLEM (${v}×): ${k}`);
		throw new Error(`${[...problems.values()].reduce((a, b) => a + b)} malformed requests got a wrong answer`);
	}
});
