// web-lineage.mjs URL SCRATCH EVENTS — the replay of a `tracefs run` of a
// script running `cp alpha.txt alpha.copy` and `sh ./sub.sh`, itself
// running `cp beta.txt beta.copy` and `sort beta.txt -o beta.sorted`,
// coloured by command: the two commands' files get different hues, and
// the files of sh's children (cp, sort) shades of sh's: its hue, told
// apart from sh's own (/sub.sh, which it reads) and from each other; the
// same colours from a snapshot (by kind, then by command again); hovering
// /alpha.copy shows a tooltip naming the cp command as its writer; a
// click on the cp command in the panel highlights its files (and not
// sub.sh's). A screenshot is kept in SCRATCH.
import { run, launch, openPage, state, find, waitForState, waitFor, note } from './lib.mjs';

const [url, scratch, events] = process.argv.slice(2);
const CP = 'cp alpha.txt alpha.copy', SUB = 'sh ./sub.sh';

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

// Hue in degrees of [r, g, b]; null for a grey (no hue). A glow mixes in white: the hue stays.
function hue([r, g, b]) {
	const max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min;
	if (d < 12)
		return null;
	const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
	return (h * 60 + 360) % 360;
}

const commands = (page, path) => page.evaluate((p) => window.tracefsView.commands(p), path);

const hueApart = (a, b) => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
const distance = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

// The colours of PATHS once no flash is left: the same in two looks 300 ms apart.
async function settledColours(page, paths, what) {
	let last = null;
	return waitFor(async () => {
		const now = {};
		for (const path of paths) {
			const node = await find(page, path);
			assert(node, `${what}: ${path} is not on the page`);
			now[path] = node.color.slice(0, 3);
		}
		const same = last && paths.every((p) => distance(now[p], last[p]) < 1);
		last = now;
		if (!same)
			await new Promise((r) => setTimeout(r, 300)); // the pace of the looks, not a synchronisation
		return same ? now : null;
	}, 10000, `${what}: colours that no longer change`);
}

// cp's file in a hue of its own; sh's (/sub.sh) and its children's files
// (/beta.copy by cp, /beta.sorted by sort) in one other hue, each a shade
// of its own that tells it apart.
async function familyColours(page, what) {
	const family = ['/sub.sh', '/beta.copy', '/beta.sorted'];
	const colours = await settledColours(page, ['/alpha.copy', ...family], what);
	const hues = Object.fromEntries(Object.entries(colours).map(([p, c]) => [p, hue(c)]));
	for (const [path, h] of Object.entries(hues))
		assert(h !== null, `${what}: ${path} is grey (rgb ${colours[path]}): no command coloured it`);
	note(`${what}: ` + Object.entries(colours).map(([p, c]) => `${p} rgb(${c}) ${hues[p].toFixed(0)}°`).join(', '));
	for (const path of family) {
		assert(hueApart(hues[path], hues['/alpha.copy']) >= 20,
			`${what}: ${path} (sh ./sub.sh's family) has nearly cp's hue: ${hues[path].toFixed(0)}° and ${hues['/alpha.copy'].toFixed(0)}°`);
		assert(hueApart(hues[path], hues['/sub.sh']) <= 12,
			`${what}: ${path} is not a shade of sh ./sub.sh's hue: ${hues[path].toFixed(0)}° and ${hues['/sub.sh'].toFixed(0)}°`);
	}
	for (const [a, b] of [['/sub.sh', '/beta.copy'], ['/sub.sh', '/beta.sorted'], ['/beta.copy', '/beta.sorted']])
		assert(distance(colours[a], colours[b]) >= 40,
			`${what}: ${a} and ${b} look alike (rgb ${colours[a]} and ${colours[b]}): a shade each, told apart`);
	return colours;
}

run(async () => {
	const browser = await launch();
	const page = await openPage(browser, `${url}&fade=0.3`); // flashes fade fast: the colours at rest
	let s = await waitForState(page, (s) => s.connected && s.mode === 'replay' && s.snapshots >= 1, 15000, 'the replay');
	await page.selectOption('#color-by', 'command');
	await waitForState(page, (x) => x.snapshots > s.snapshots, 10000, 'a snapshot after colour by command');
	await page.click('#play');
	s = await waitForState(page, (x) => x.events >= Number(events), 20000, `all ${events} events played`);

	// Each command's files in its own hue; its children's in shades of it.
	const played = await familyColours(page, 'played');

	// The panel lists the commands by command line.
	const stats = await page.evaluate(() => window.tracefsView.stats());
	const names = stats.processes.map((p) => p[0]);
	assert(names.includes(CP) && names.includes(SUB) && names.length === new Set(names).size &&
		!names.some((n) => n.startsWith(`${SUB} ›`)), `the panel's commands (one row a command): ${JSON.stringify(names)}`);

	// Hover /alpha.copy: the tooltip names cp as its writer, not sort.
	const view = await page.$('#view');
	const box = await view.boundingBox();
	// The layout may still be settling: point at where the node is now, until the tooltip is its.
	const tip = await waitFor(async () => {
		const at = await page.evaluate(() => window.tracefsView.screenOf('/alpha.copy'));
		if (at)
			await page.mouse.move(box.x + at.x, box.y + at.y);
		const t = await page.$eval('#tooltip', (el) => (el.hidden ? '' : el.innerText));
		return t.includes('/alpha.copy') && t.includes('written by') ? t : null;
	}, 5000, 'the tooltip of /alpha.copy');
	note(`tooltip: ${tip.replace(/\n/g, ' | ')}`);
	assert(tip.includes(CP), `the tooltip of /alpha.copy does not name ${CP}: ${tip}`);
	assert(!tip.includes(SUB), `the tooltip of /alpha.copy names ${SUB}: ${tip}`);
	const sorted = await commands(page, '/beta.sorted');
	assert(sorted.wrote.includes(SUB) && !sorted.wrote.includes(CP),
		`/beta.sorted's writers: ${JSON.stringify(sorted)}`);

	// Click cp in the panel: its files highlighted, sort's not.
	await page.mouse.move(box.x + 5, box.y + 5);
	await page.click(`#panel tr.process[data-name="${CP}"]`);
	const lit = await waitFor(async () => {
		const c = await commands(page, '/alpha.copy');
		return c.highlight && c.highlight.shown >= 2 ? c.highlight : null;
	}, 5000, 'the highlight of cp');
	note(`highlighted for ${lit.name}: ${lit.paths.join(' ')} (${lit.shown} nodes drawn)`);
	assert(lit.paths.includes('/alpha.copy') && lit.paths.includes('/alpha.txt'),
		`cp's highlight misses its files: ${lit.paths}`);
	assert(!lit.paths.includes('/beta.sorted') && !lit.paths.includes('/beta.txt'),
		`cp's highlight has sort's files: ${lit.paths}`);
	await page.waitForSelector('#panel tr.process.chosen');
	await page.screenshot({ path: `${scratch}/lineage.png` });
	note(`screenshot: ${scratch}/lineage.png`);

	// The scene again from a snapshot (by kind, then by command: what a seek
	// or a late join gets): the same colours, families, shades and all.
	for (const mode of ['kind', 'command']) {
		const before = await state(page);
		await page.selectOption('#color-by', mode);
		await waitForState(page, (x) => x.snapshots > before.snapshots, 10000, `a snapshot after colour by ${mode}`);
	}
	// The commands count what they did up to the snapshot (the last event
	// aside: the snapshot is of the moment it starts), as played, but for
	// the kernel's own requests (played, those of the path's last toucher),
	// which the panel says it counts from the snapshot on.
	const counts = (list) => JSON.stringify(list.map((p) => [p[0], p[1]]).sort());
	const snapped = await page.evaluate(() => window.tracefsView.stats());
	const kernel = snapped.model.events - snapped.processes.reduce((n, p) => n + p[1], 0);
	const before = new Map(stats.processes.map((p) => [p[0], p[1]]));
	assert(snapped.processes.length === stats.processes.length && snapped.processes.every((p) => p[1] > 0 && p[1] <= before.get(p[0])) &&
		(kernel === 0 ? snapped.commandsCounted === null
			: snapped.commandsCounted === `from the seek on for the kernel's own requests (${kernel} before)`),
		`from a snapshot, the commands count ${counts(snapped.processes)} (${snapped.commandsCounted}), played ${counts(stats.processes)}`);
	note(`from a snapshot, the commands count ${counts(snapped.processes)}, played ${counts(stats.processes)}: ` +
		`events counted ${snapped.commandsCounted}`);
	const again = await familyColours(page, 'from a snapshot');
	for (const [path, c] of Object.entries(again))
		assert(distance(c, played[path]) < 3, `from a snapshot, ${path} is rgb(${c}), played it was rgb(${played[path]})`);
	await page.screenshot({ path: `${scratch}/lineage-snapshot.png` });
	await browser.close();
});
