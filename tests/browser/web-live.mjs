// web-live.mjs URL MOUNTPOINT — the live page during the first workload
// (driven from here in two halves): connected in live mode; while the 88
// directories are made, green nodes and a red flash on the canvas; then
// 89 live directories (root included); a page opened late gets the same
// tree from the snapshot, with the same counters (events by operation and
// by process); the caption names the busiest command (mkdir); after
// `rm -rf 0` only the root, on both pages.
import { run, launch, openPage, state, find, waitForState, waitFor, elementPixels, countColour,
	COLOURS, sh, note } from './lib.mjs';

const [url, mnt] = process.argv.slice(2);
const LIB = new URL('../lib/first-workload.sh', import.meta.url).pathname;
const half = (fn) => sh(`fail() { echo "FAIL: $*" >&2; exit 1; }; source '${LIB}'; ${fn} '${mnt}'`);
const DEEPEST = '/0/1/2/3/4/5/6/7/8/9/10/g';

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

function colours(img) {
	return { green: countColour(img, COLOURS.dir, 40), red: countColour(img, COLOURS.flash, 40) };
}

run(async () => {
	const browser = await launch();
	const page = await openPage(browser, url);
	let s = await waitForState(page, (s) => s.connected && s.mode === 'live', 15000, 'a live connection');
	s = await waitForState(page, (s) => s.alive.total === 1, 5000, 'the root alone before the workload');
	assert(s.alive.dir === 1, `before the workload: ${JSON.stringify(s.alive)} (expected the root directory)`);
	assert(s.error == null, `state.error before the workload: ${s.error}`);
	// The picture with the root alone (it may fill the view) and the
	// legend: its red (the legend's swatch) is the baseline for the flash.
	const before = colours(await elementPixels(page, '#view'));
	note(`before: ${before.green} green and ${before.red} red pixels`);

	// The mkdirs, with screenshots as they happen and just after (the
	// newest directories still flash then).
	let done = false, created;
	const making = half('first_workload_create').then((r) => { done = true; created = r; });
	const seen = { green: 0, red: 0, shots: 0 };
	// Screenshots until the mkdirs are over, then for up to 3 s more until
	// a flash has been seen.
	let doneAt = null;
	for (;;) {
		const c = colours(await elementPixels(page, '#view'));
		seen.green = Math.max(seen.green, c.green);
		seen.red = Math.max(seen.red, c.red);
		seen.shots++;
		if (done && doneAt === null)
			doneAt = Date.now();
		if (doneAt !== null && (seen.red - before.red >= 100 || Date.now() - doneAt > 3000))
			break;
	}
	await making;
	assert(created.code === 0, `mkdir half of the workload failed: ${created.stderr}`);
	note(`during the mkdirs (${seen.shots} screenshots): up to ${seen.green} green and ${seen.red} red pixels`);
	assert(seen.red - before.red >= 100, `no red flash on the canvas during the mkdirs: ${seen.red} red pixels, ${before.red} before`);

	s = await waitForState(page, (s) => s.alive.dir === 89 && s.alive.total === 89 && s.dying === 0, 15000,
		'89 live directories after the mkdirs');
	const deepest = await find(page, DEEPEST);
	assert(deepest && deepest.kind === 'dir' && !deepest.dying, `find(${DEEPEST}): ${JSON.stringify(deepest)}`);
	assert(await find(page, '/0/1/2/3/4/5/6/7/8/9/10/h') === null, 'find() of a path never made is not null');
	// Once the flashes fade the directories are green: more green than
	// the legend's swatch (about 60 pixels) alone. The camera may have
	// moved meanwhile, so no comparison with the root's picture.
	let tree;
	const fade = Date.now() + 5000;
	do
		tree = colours(await elementPixels(page, '#view'));
	while (tree.green < 300 && Date.now() < fade);
	note(`after the mkdirs: ${tree.green} green and ${tree.red} red pixels; state ${JSON.stringify(s)}`);
	const caption = await page.evaluate(() => window.tracefsView.caption());
	note(`caption after the mkdirs: ${caption}`);
	assert(caption && caption.startsWith('mkdir'), `the live caption does not name the busiest command: ${caption}`);
	if (process.env.TRACEFS_SCREENSHOTS) // for a person to look at
		await page.screenshot({ path: `${process.env.TRACEFS_SCREENSHOTS}/live-tree.png` });
	assert(tree.green >= 300, `the 89 directories are not green on the canvas: ${tree.green} green pixels`);

	// A page opened now gets the tree from the snapshot.
	const late = await openPage(browser, url);
	const ls = await waitForState(late, (s) => s.connected && s.alive.dir === 89 && s.alive.total === 89, 15000,
		'the late page to show 89 directories');
	note(`late page: ${JSON.stringify(ls.alive)}, ${ls.snapshots} snapshot(s)`);
	assert(ls.snapshots >= 1, `late page: state.snapshots = ${ls.snapshots}`);
	const d2 = await find(late, DEEPEST);
	assert(d2 && d2.kind === 'dir', `late page: find(${DEEPEST}): ${JSON.stringify(d2)}`);
	// The late page's counters came in the snapshot; the first page counted every event.
	const counted = async (p) => {
		const m = (await p.evaluate(() => window.tracefsView.stats())).model;
		return JSON.stringify({events: m.events, ops: m.ops, errnos: m.errnos,
			processes: m.processes.map((q) => [q.name, q.events, q.errors])});
	};
	// Both pages at the same event first (the mount is quiet now).
	const seqs = async () => [(await state(page)).lastSeq, (await state(late)).lastSeq];
	await waitFor(async () => { const [x, y] = await seqs(); return x === y; }, 5000, 'both pages at the same event');
	const [a, b] = [await counted(page), await counted(late)];
	note(`counters: ${a}`);
	assert(a === b, `the late page counts ${b}, the first page ${a}`);
	assert(JSON.parse(a).ops.mkdir === 88, `the counters miss mkdirs: ${a}`);

	const removed = await half('first_workload_remove');
	assert(removed.code === 0, `rm half of the workload failed: ${removed.stderr}`);
	for (const [name, p] of [['first page', page], ['late page', late]]) {
		const e = await waitForState(p, (s) => s.alive.total === 1 && s.alive.dir === 1, 15000,
			`${name}: only the root after rm -rf 0`);
		await waitForState(p, (s) => s.dying === 0, 15000, `${name}: the removed nodes to fade out`);
		assert((await find(p, '/0')) === null, `${name}: /0 still found after it faded out`);
		assert((await find(p, '/')) !== null, `${name}: the root is not found`);
		assert(e.connected && e.missed === 0, `${name}: connected ${e.connected}, missed ${e.missed}`);
		assert(e.events >= 176, `${name}: only ${e.events} events applied`);
		assert(p.tracefsErrors.length === 0, `${name}: errors on the page: ${p.tracefsErrors.join('; ')}`);
		note(`${name}: ${JSON.stringify(e)}`);
	}
	const first = await state(page);
	assert(first.lastSeq > s.lastSeq, `lastSeq did not advance over rm -rf: ${s.lastSeq} -> ${first.lastSeq}`);
	await browser.close();
});
