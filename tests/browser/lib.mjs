// lib.mjs — shared helpers of the browser tests: Debian's chromium driven by
// playwright-core, waiting on the page's test hooks (window.tracefsView),
// pixels of screenshots, and a raw-TCP websocket client for protocol tests.
import { createRequire } from 'node:module';
import net from 'node:net';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function fail(message) {
	console.error(`FAIL: ${message}`);
	process.exit(1);
}

export function note(message) {
	console.log(`  ${message}`);
}

// Runs MAIN, turning an exception into a failure with its message.
export async function run(main) {
	try {
		await main();
	} catch (e) {
		fail(e && e.stack ? e.stack : String(e));
	}
	process.exit(0);
}

export async function launch() {
	return chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--disable-background-timer-throttling', '--disable-renderer-backgrounding',
			'--disable-backgrounding-occluded-windows'],
	});
}

// A page at URL; its console errors and uncaught exceptions are kept in
// page.tracefsErrors (and printed) so that a test can assert there are none.
export async function openPage(browser, url, { width = 1280, height = 720 } = {}) {
	const context = await browser.newContext({ viewport: { width, height } });
	const page = await context.newPage();
	page.tracefsErrors = [];
	page.on('pageerror', (e) => {
		page.tracefsErrors.push(`pageerror: ${e.message}`);
		console.log(`  [page] uncaught: ${e.message}`);
	});
	page.on('console', (m) => {
		if (m.type() === 'error') {
			page.tracefsErrors.push(`console: ${m.text()}`);
			console.log(`  [page] console.error: ${m.text()}`);
		}
	});
	const response = await page.goto(url, { waitUntil: 'load' });
	if (!response || response.status() !== 200)
		throw new Error(`GET ${url}: status ${response && response.status()}`);
	await page.waitForFunction(() => window.tracefsView && typeof window.tracefsView.state === 'function',
		null, { timeout: 15000 });
	return page;
}

/*
 * A tab at URL that no debugger watches the network of, for measuring
 * speed. Playwright's pages have DevTools' Network domain on, and Chromium
 * then copies every websocket message into a DevTools event (escaped on the
 * page's main thread, passed through the browser to node): at 50,000
 * events a second (12 MB/s of JSON) that took more of the main thread than
 * the page's own handling, and the page fell behind where a user's browser
 * keeps up. This tab lives in a browser context Playwright does not know
 * (so it does not attach to it) and is reached over a session of our own
 * with only the Runtime, Input and Emulation domains. It offers what
 * state(), waitForState() and the speed test use: evaluate(FN, ARG),
 * click(SELECTOR), clickAt(X, Y), boundingBox(SELECTOR), selectValue(SELECTOR,
 * VALUE), tracefsErrors and close().
 */
export async function openUntracedPage(browser, url, { width = 1280, height = 720 } = {}) {
	const cdp = await browser.newBrowserCDPSession();
	const { browserContextId } = await cdp.send('Target.createBrowserContext');
	const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank', browserContextId });
	// A session of the old, unflattened kind: Playwright's CDPSession sends no
	// messages to a flattened child session.
	const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
	let lastId = 0;
	const pending = new Map();
	const page = { tracefsErrors: [] };
	cdp.on('Target.receivedMessageFromTarget', (e) => {
		if (e.sessionId !== sessionId)
			return;
		const m = JSON.parse(e.message);
		if (m.id && pending.has(m.id)) {
			pending.get(m.id)(m);
			pending.delete(m.id);
		} else if (m.method === 'Runtime.exceptionThrown') {
			const d = m.params.exceptionDetails;
			const text = (d.exception && d.exception.description) || d.text;
			page.tracefsErrors.push(`pageerror: ${text}`);
			console.log(`  [page] uncaught: ${text}`);
		} else if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error') {
			const text = m.params.args.map((a) => a.value ?? a.description).join(' ');
			page.tracefsErrors.push(`console: ${text}`);
			console.log(`  [page] console.error: ${text}`);
		}
	});
	const send = async (method, params = {}) => {
		const id = ++lastId;
		const answer = new Promise((resolve) => pending.set(id, resolve));
		await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
		const m = await answer;
		if (m.error)
			throw new Error(`${method}: ${m.error.message}`);
		return m.result;
	};
	page.evaluate = async (fn, arg) => {
		const r = await send('Runtime.evaluate', {
			expression: `(${fn})(${arg === undefined ? '' : JSON.stringify(arg)})`,
			returnByValue: true, awaitPromise: true,
		});
		if (r.exceptionDetails)
			throw new Error(`evaluate: ${(r.exceptionDetails.exception || {}).description || r.exceptionDetails.text}`);
		return r.result.value;
	};
	page.boundingBox = (selector) => page.evaluate((s) => {
		const r = document.querySelector(s).getBoundingClientRect();
		return { x: r.x, y: r.y, width: r.width, height: r.height };
	}, selector);
	page.clickAt = async (x, y) => {
		for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased'])
			await send('Input.dispatchMouseEvent', { type, x, y, button: 'left', buttons: type === 'mousePressed' ? 1 : 0, clickCount: 1 });
	};
	page.click = async (selector) => {
		const box = await page.boundingBox(selector);
		await page.clickAt(box.x + box.width / 2, box.y + box.height / 2);
	};
	page.selectValue = (selector, value) => page.evaluate(([s, v]) => {
		const select = document.querySelector(s);
		select.value = v;
		select.dispatchEvent(new Event('change', { bubbles: true }));
	}, [selector, value]);
	page.close = async () => {
		await cdp.send('Target.closeTarget', { targetId });
		await cdp.send('Target.disposeBrowserContext', { browserContextId });
		await cdp.detach();
	};
	await send('Runtime.enable');
	await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
	await send('Page.navigate', { url });
	await waitFor(() => page.evaluate(() => !!(window.tracefsView && typeof window.tracefsView.state === 'function'))
		.catch(() => false), 15000, `the page at ${url}`); /* (an evaluate may meet the navigation) */
	return page;
}

export async function state(page) {
	return page.evaluate(() => window.tracefsView.state());
}

export async function find(page, path) {
	return page.evaluate((p) => window.tracefsView.find(p), path);
}

// Polls tracefsView.state() every 50 ms until PREDICATE(state) is true;
// throws with WHAT and the last state after TIMEOUT_MS.
export async function waitForState(page, predicate, timeoutMs = 10000, what = 'condition') {
	const deadline = Date.now() + timeoutMs;
	let last;
	for (;;) {
		last = await state(page);
		if (predicate(last))
			return last;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state: ${JSON.stringify(last)}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

export async function waitFor(fn, timeoutMs, what) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

// --- pixels -----------------------------------------------------------------

// Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what chromium's
// screenshots are) with zlib alone: {width, height, data (RGBA)}.
export function decodePng(buf) {
	if (buf.readUInt32BE(0) !== 0x89504e47)
		throw new Error('not a PNG');
	let pos = 8, width = 0, height = 0, color = 0;
	const idat = [];
	while (pos < buf.length) {
		const len = buf.readUInt32BE(pos), kind = buf.toString('latin1', pos + 4, pos + 8);
		const body = buf.subarray(pos + 8, pos + 8 + len);
		if (kind === 'IHDR') {
			width = body.readUInt32BE(0);
			height = body.readUInt32BE(4);
			color = body[9];
			if (body[8] !== 8 || (color !== 2 && color !== 6) || body[12] !== 0)
				throw new Error(`unsupported PNG: depth ${body[8]}, colour ${color}, interlace ${body[12]}`);
		} else if (kind === 'IDAT') {
			idat.push(body);
		}
		pos += 12 + len;
	}
	const bpp = color === 2 ? 3 : 4, stride = width * bpp;
	const raw = zlib.inflateSync(Buffer.concat(idat));
	const data = Buffer.alloc(width * height * 4);
	let prev = Buffer.alloc(stride);
	for (let y = 0; y < height; y++) {
		const f = raw[y * (stride + 1)];
		const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
		for (let i = 0; i < stride; i++) {
			const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
			let p;
			switch (f) {
			case 0: p = 0; break;
			case 1: p = a; break;
			case 2: p = b; break;
			case 3: p = (a + b) >> 1; break;
			case 4: {
				const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
				p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
				break;
			}
			default: throw new Error(`bad PNG filter ${f}`);
			}
			line[i] = (line[i] + p) & 255;
		}
		for (let x = 0; x < width; x++) {
			data[(y * width + x) * 4] = line[x * bpp];
			data[(y * width + x) * 4 + 1] = line[x * bpp + 1];
			data[(y * width + x) * 4 + 2] = line[x * bpp + 2];
			data[(y * width + x) * 4 + 3] = bpp === 4 ? line[x * bpp + 3] : 255;
		}
		prev = line;
	}
	return { width, height, data };
}

// The scene model's labels as the page drew them in its last frame (the
// page at its initial zoom): each at the model's plate box, a leader ending
// on its box's side, every one of them drawn, no two meeting. Returns them.
export async function checkLabels(page, where) {
	const t = await page.evaluate(() => window.tracefsView.texts());
	const meets = (a, b) => a.x1 > b.x0 && a.x0 < b.x1 && a.y1 > b.y0 && a.y0 < b.y1;
	const close = (a, b) => ['x0', 'y0', 'x1', 'y1'].every((k) => Math.abs(a[k] - b[k]) < 0.01);
	const fail = (what) => { throw new Error(`${where}: ${what}`); };
	if (t.labels.length !== t.modelLabels)
		fail(`the page drew ${t.labels.length} of the model's ${t.modelLabels} labels: ${JSON.stringify(t.labels)}`);
	for (const l of t.labels) {
		if (!close(l.box, l.model))
			fail(`the label ${l.text} is drawn at ${JSON.stringify(l.box)}, the model's plate is ${JSON.stringify(l.model)}`);
		if (l.leader && l.leader.toX !== l.box.x0 && l.leader.toX !== l.box.x1)
			fail(`the leader of ${l.text} does not end on its box: ${JSON.stringify(l)}`);
	}
	t.labels.forEach((a, i) => t.labels.forEach((b, j) => {
		if (i < j && meets(a.box, b.box))
			fail(`the labels ${a.text} and ${b.text} meet: ${JSON.stringify([a.box, b.box])}`);
	}));
	note(`${where}: ${t.labels.length} labels at the model's plates, ${t.labels.filter((l) => l.leader).length} with a leader, none meeting`);
	return t.labels;
}

// The pixels of the element SELECTOR as the user sees them (a screenshot).
export async function elementPixels(page, selector = '#view') {
	return decodePng(await page.locator(selector).screenshot({ type: 'png' }));
}

// How many pixels are within TOLERANCE (per channel) of the colour HEX.
export function countColour(img, hex, tolerance = 40) {
	const r = (hex >> 16) & 255, g = (hex >> 8) & 255, b = hex & 255;
	let n = 0;
	for (let i = 0; i < img.data.length; i += 4) {
		if (Math.abs(img.data[i] - r) <= tolerance && Math.abs(img.data[i + 1] - g) <= tolerance &&
		    Math.abs(img.data[i + 2] - b) <= tolerance)
			n++;
	}
	return n;
}

// The scene model's colours (viz/names.c).
export const COLOURS = {
	background: 0x0b0f17,
	dir: 0x3fb950,   // green
	file: 0x4c8df6,  // blue
	flash: 0xff3b30, // red: an access
	write: 0xff9f1c, // orange
	delete: 0xf34fc6, // magenta
};

// --- processes --------------------------------------------------------------

// Runs a shell command; resolves to {code, stdout, stderr, seconds}.
export function sh(command, { env = process.env } = {}) {
	return new Promise((resolve, reject) => {
		const start = process.hrtime.bigint();
		const child = spawn('bash', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '', stderr = '';
		child.stdout.on('data', (d) => { stdout += d; });
		child.stderr.on('data', (d) => { stderr += d; });
		child.on('error', reject);
		child.on('close', (code) => resolve({
			code, stdout, stderr, seconds: Number(process.hrtime.bigint() - start) / 1e9,
		}));
	});
}

export async function mustSh(command, what = command) {
	const r = await sh(command);
	if (r.code !== 0)
		throw new Error(`${what}: exit ${r.code}: ${r.stderr.trim()}`);
	return r;
}

export function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// --- raw TCP: HTTP and websocket ----------------------------------------------

// The secret token of each server ("host:port") whose printed URL was parsed:
// websockets to it carry it (eventsPath), as the page does.
const tokens = new Map();

export function parseUrl(url) {
	const m = /^http:\/\/([^/:]+):(\d+)\/(?:\?token=([0-9a-f]+))?$/.exec(url);
	if (!m)
		throw new Error(`not a tracefs URL: ${url}`);
	const r = { host: m[1], port: Number(m[2]), token: m[3] || '' };
	tokens.set(`${r.host}:${r.port}`, r.token);
	return r;
}

// The stream's path on a server whose URL parseUrl saw, with its token.
export function eventsPath(host, port) {
	const token = tokens.get(`${host}:${port}`);
	return token ? `/events?token=${token}` : '/events';
}

// Sends REQUEST (bytes or a string) on a fresh connection and collects the
// whole reply until the server closes or TIMEOUT_MS passes:
// {status (number or null), headers (string), body (Buffer), raw (Buffer)}.
export function rawRequest(host, port, request, timeoutMs = 5000) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		const socket = net.connect(port, host);
		const finish = () => {
			clearTimeout(timer);
			socket.destroy();
			const raw = Buffer.concat(chunks);
			const end = raw.indexOf('\r\n\r\n');
			const head = end >= 0 ? raw.subarray(0, end).toString('latin1') : raw.toString('latin1');
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
			resolve({ status: m ? Number(m[1]) : null, headers: head,
				body: end >= 0 ? raw.subarray(end + 4) : Buffer.alloc(0), raw });
		};
		const timer = setTimeout(finish, timeoutMs);
		socket.on('connect', () => socket.write(request));
		socket.on('data', (d) => {
			chunks.push(d);
			// A complete response with Content-Length: no need to wait for close.
			const raw = Buffer.concat(chunks), end = raw.indexOf('\r\n\r\n');
			if (end >= 0) {
				const len = /\r\ncontent-length:\s*(\d+)/i.exec(raw.subarray(0, end).toString('latin1'));
				if (len && raw.length >= end + 4 + Number(len[1]))
					finish();
			}
		});
		socket.on('end', finish);
		socket.on('close', finish);
		socket.on('error', (e) => (e.code === 'ECONNRESET' ? finish() : reject(e)));
	});
}

export function httpGet(host, port, path, timeoutMs = 5000) {
	return rawRequest(host, port,
		`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`, timeoutMs);
}

// Encodes one websocket frame. Client frames are masked unless mask is false.
export function encodeFrame(payload, { opcode = 1, fin = true, rsv = 0, mask = true, lengthOverride } = {}) {
	const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
	const len = lengthOverride ?? body.length;
	const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 15))];
	const m = mask ? 0x80 : 0;
	if (len < 126) {
		head.push(m | len);
	} else if (len < 65536) {
		head.push(m | 126, len >> 8, len & 255);
	} else {
		head.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 255, (len >> 16) & 255, (len >> 8) & 255, len & 255);
	}
	if (!mask)
		return Buffer.concat([Buffer.from(head), body]);
	const key = crypto.randomBytes(4);
	const masked = Buffer.alloc(body.length);
	for (let i = 0; i < body.length; i++)
		masked[i] = body[i] ^ key[i & 3];
	return Buffer.concat([Buffer.from(head), key, masked]);
}

// A websocket client on a raw TCP socket. Messages (complete, unmasked
// server frames; fragments reassembled) queue up in order; next() takes one.
export class WsClient {
	static async connect(host, port, path = eventsPath(host, port), { timeoutMs = 5000, extraHeaders = '' } = {}) {
		const c = new WsClient();
		await c.open(host, port, path, timeoutMs, extraHeaders);
		return c;
	}

	constructor() {
		this.buffer = Buffer.alloc(0);
		this.messages = [];
		this.waiters = [];
		this.closed = false;
		this.closeCode = null;
		this.fragments = null;
		this.bytesReceived = 0;
	}

	open(host, port, path, timeoutMs, extraHeaders) {
		return new Promise((resolve, reject) => {
			const key = crypto.randomBytes(16).toString('base64');
			const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
			this.socket = net.connect(port, host);
			let handshaken = false;
			const timer = setTimeout(() => { this.socket.destroy(); reject(new Error('websocket handshake timed out')); }, timeoutMs);
			this.socket.on('connect', () => {
				this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
					`Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`);
			});
			this.socket.on('data', (d) => {
				this.bytesReceived += d.length;
				this.buffer = Buffer.concat([this.buffer, d]);
				if (!handshaken) {
					const end = this.buffer.indexOf('\r\n\r\n');
					if (end < 0)
						return;
					const head = this.buffer.subarray(0, end).toString('latin1');
					this.buffer = this.buffer.subarray(end + 4);
					clearTimeout(timer);
					if (!/^HTTP\/1\.1 101/.test(head)) {
						this.socket.destroy();
						return reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
					}
					const got = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head);
					if (!got || got[1] !== accept) {
						this.socket.destroy();
						return reject(new Error(`bad Sec-WebSocket-Accept in: ${head}`));
					}
					handshaken = true;
					resolve();
				}
				this.parse();
			});
			const closed = () => {
				this.closed = true;
				clearTimeout(timer);
				if (!handshaken)
					reject(new Error('connection closed during the handshake'));
				this.wake();
			};
			this.socket.on('close', closed);
			this.socket.on('error', () => {});
		});
	}

	parse() {
		for (;;) {
			const b = this.buffer;
			if (b.length < 2)
				return;
			const fin = (b[0] & 0x80) !== 0, opcode = b[0] & 15, masked = (b[1] & 0x80) !== 0;
			let len = b[1] & 127, pos = 2;
			if (len === 126) {
				if (b.length < 4) return;
				len = b.readUInt16BE(2);
				pos = 4;
			} else if (len === 127) {
				if (b.length < 10) return;
				len = Number(b.readBigUInt64BE(2));
				pos = 10;
			}
			if (masked)
				pos += 4; // a server must not mask; noted as a protocol error below
			if (b.length < pos + len)
				return;
			const payload = Buffer.from(b.subarray(pos, pos + len));
			this.buffer = b.subarray(pos + len);
			if (masked)
				this.push({ opcode: -1, error: 'server sent a masked frame' });
			if (opcode === 8) {
				// the closing handshake: answer with a close frame
				if (this.closeCode === null)
					this.sendFrame(payload.subarray(0, 2), { opcode: 8 });
				this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
				this.push({ opcode, code: this.closeCode, reason: payload.subarray(2).toString() });
				continue;
			}
			if (opcode === 9) { // ping: answer
				this.sendFrame(payload, { opcode: 10 });
				continue;
			}
			if (opcode === 10)
				continue;
			if (opcode === 0 && this.fragments) {
				this.fragments.parts.push(payload);
			} else if (!fin) {
				this.fragments = { opcode, parts: [payload] };
				continue;
			} else {
				this.deliver(opcode, payload);
				continue;
			}
			if (fin) {
				const f = this.fragments;
				this.fragments = null;
				this.deliver(f.opcode, Buffer.concat(f.parts));
			}
		}
	}

	deliver(opcode, payload) {
		const m = { opcode, payload, text: opcode === 1 ? payload.toString('utf8') : null };
		if (opcode === 1) {
			try {
				m.json = JSON.parse(m.text);
			} catch (e) {
				m.error = `server sent invalid JSON: ${m.text.slice(0, 200)}`;
			}
		}
		this.push(m);
	}

	push(m) {
		this.messages.push(m);
		this.wake();
	}

	wake() {
		const w = this.waiters;
		this.waiters = [];
		w.forEach((f) => f());
	}

	// The next message, or null if the connection closed first; throws on
	// timeout.
	async next(timeoutMs = 5000) {
		const deadline = Date.now() + timeoutMs;
		while (this.messages.length === 0) {
			if (this.closed)
				return null;
			const left = deadline - Date.now();
			if (left <= 0)
				throw new Error(`no message within ${timeoutMs} ms`);
			await new Promise((resolve) => {
				const t = setTimeout(resolve, left);
				this.waiters.push(() => { clearTimeout(t); resolve(); });
			});
		}
		return this.messages.shift();
	}

	// The next JSON message whose type is TYPE (others are skipped and
	// returned in .skipped).
	async nextOfType(type, timeoutMs = 5000) {
		const deadline = Date.now() + timeoutMs, skipped = [];
		for (;;) {
			const m = await this.next(Math.max(1, deadline - Date.now()));
			if (!m)
				throw new Error(`connection closed while waiting for a '${type}' message (close code ${this.closeCode})`);
			if (m.json && m.json.type === type)
				return Object.assign(m.json, { skipped });
			skipped.push(m);
		}
	}

	// Waits until the server closes the connection (a close frame, or the
	// socket dropped); resolves to the close code (null if it just dropped
	// the socket).
	async waitClosed(timeoutMs = 5000) {
		const deadline = Date.now() + timeoutMs;
		while (!this.closed && this.closeCode === null) {
			const left = deadline - Date.now();
			if (left <= 0)
				throw new Error(`connection still open after ${timeoutMs} ms`);
			this.messages = this.messages.filter((m) => m.opcode === 8);
			await new Promise((resolve) => {
				const t = setTimeout(resolve, left);
				this.waiters.push(() => { clearTimeout(t); resolve(); });
			});
		}
		return this.closeCode;
	}

	send(obj) {
		this.sendFrame(typeof obj === 'string' ? obj : JSON.stringify(obj));
	}

	sendFrame(payload, options) {
		if (!this.socket.destroyed)
			this.socket.write(encodeFrame(payload, options));
	}

	sendRaw(bytes) {
		if (!this.socket.destroyed)
			this.socket.write(bytes);
	}

	// Stops reading: the kernel's buffers fill and the server sees a client
	// that does not keep up.
	stall() {
		this.socket.pause();
	}

	resume() {
		this.socket.resume();
	}

	close() {
		this.socket.destroy();
	}
}

// A fresh connection answers ping with pong.
export async function pingPong(host, port, timeoutMs = 5000) {
	const c = await WsClient.connect(host, port, eventsPath(host, port), { timeoutMs });
	try {
		c.send({ cmd: 'ping' });
		await c.nextOfType('pong', timeoutMs);
	} finally {
		c.close();
	}
}
