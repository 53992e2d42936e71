// web-lineage.mjs URL SCRATCH EVENTS — the replay of a `tracefs run` of a
// script running `cp alpha.txt alpha.copy` and `sort beta.txt -o
// beta.sorted`, coloured by command: the two commands' files get
// different hues; hovering /alpha.copy shows a tooltip naming the cp
// command as its writer; a click on the cp command in the panel
// highlights its files (and not sort's). A screenshot is kept in SCRATCH.
import { run, launch, openPage, state, find, waitForState, waitFor, note } from './lib.mjs';

const [url, scratch, events] = process.argv.slice(2);
const CP = 'cp alpha.txt alpha.copy', SORT = 'sort beta.txt -o beta.sorted';

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

run(async () => {
	const browser = await launch();
	const page = await openPage(browser, url);
	let s = await waitForState(page, (s) => s.connected && s.mode === 'replay' && s.snapshots >= 1, 15000, 'the replay');
	await page.selectOption('#color-by', 'command');
	await waitForState(page, (x) => x.snapshots > s.snapshots, 10000, 'a snapshot after colour by command');
	await page.click('#play');
	s = await waitForState(page, (x) => x.events >= Number(events), 20000, `all ${events} events played`);

	// Each command's files in its own hue; the two hues apart.
	const hues = {};
	for (const path of ['/alpha.copy', '/beta.sorted']) {
		const node = await find(page, path);
		assert(node, `${path} is not on the page`);
		hues[path] = hue(node.color);
		assert(hues[path] !== null, `${path} is grey (rgb ${node.color.slice(0, 3)}): no command coloured it`);
	}
	const apart = Math.min(Math.abs(hues['/alpha.copy'] - hues['/beta.sorted']),
		360 - Math.abs(hues['/alpha.copy'] - hues['/beta.sorted']));
	note(`hues: /alpha.copy ${hues['/alpha.copy'].toFixed(0)}°, /beta.sorted ${hues['/beta.sorted'].toFixed(0)}°`);
	assert(apart >= 20, `cp's and sort's files have nearly the same hue (${apart.toFixed(0)}° apart)`);

	// The panel lists the commands by command line.
	const stats = await page.evaluate(() => window.tracefsView.stats());
	const names = stats.processes.map((p) => p[0]);
	assert(names.includes(CP) && names.includes(SORT), `the panel's commands: ${JSON.stringify(names)}`);

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
	assert(!tip.includes(SORT), `the tooltip of /alpha.copy names sort: ${tip}`);
	const sorted = await commands(page, '/beta.sorted');
	assert(sorted.wrote.includes(SORT) && !sorted.wrote.includes(CP),
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
	await browser.close();
});
