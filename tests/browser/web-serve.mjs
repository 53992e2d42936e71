// web-serve.mjs URL TRACE.db TRACEFS SCRATCH — `tracefs serve` of a recorded
// first workload: the page opens in replay mode, paused; #play at a chosen
// speed makes the nodes appear; #pause freezes the picture; a click on
// #timeline in the quiet gap between the mkdirs and the rm shows as many
// live nodes as the cairo renderer's model holds at that time (89); a
// click at the timeline's end shows the root alone.
import { run, launch, openPage, state, find, waitForState, sh, mustSh, note } from './lib.mjs';

const [url, db, tracefs, scratch] = process.argv.slice(2);

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

async function sql(query) {
	return (await mustSh(`sqlite3 -batch -noheader '${db}' "${query}"`)).stdout.trim();
}

// Live (not dying) nodes of the renderer's model at SECONDS after the first event.
let dumps = 0;
async function modelCount(seconds) {
	const out = `${scratch}/scene-${++dumps}`;
	await mustSh(`'${tracefs}' render '${db}' --at ${seconds.toFixed(6)} --dump-scene '${out}.json' -o '${out}.png'`,
		'tracefs render --dump-scene');
	const scene = JSON.parse((await import('node:fs')).readFileSync(`${out}.json`, 'utf8'));
	return scene.nodes.filter((n) => !n.dying).length;
}

run(async () => {
	const first = BigInt(await sql('SELECT min(ts_ns) FROM trace'));
	const last = BigInt(await sql('SELECT max(ts_ns) FROM trace'));
	const lastMkdir = BigInt(await sql("SELECT max(ts_ns + dur_ns) FROM trace WHERE op = 'mkdir'"));
	const firstRm = BigInt(await sql("SELECT min(ts_ns) FROM trace WHERE op = 'rmdir'"));
	const span = Number(last - first);
	// The quiet gap, less a margin of 0.3 s after the last mkdir (the flash
	// and growth of the newest nodes) and 0.1 s before the rm.
	const gapFrom = Number(lastMkdir - first) + 3e8, gapTo = Number(firstRm - first) - 1e8;
	note(`trace: ${(span / 1e9).toFixed(3)} s; quiet gap ${(gapFrom / 1e9).toFixed(3)} s to ${(gapTo / 1e9).toFixed(3)} s`);
	assert(gapTo - gapFrom > 1e9, 'the recorded trace has no quiet gap of two seconds');

	const browser = await launch();
	const page = await openPage(browser, url);
	let s = await waitForState(page, (s) => s.connected && s.mode === 'replay', 15000, 'a replay connection');
	assert(!s.playing, `replay starts playing: ${JSON.stringify(s)}`);
	assert(s.alive.total <= 1, `replay starts with ${s.alive.total} live nodes (expected the first event's tree)`);

	// The speed: one that makes the 2-second gap last at least half a
	// second of wall time, so that the test can pause inside it.
	const options = await page.$$eval('#speed option', (os) => os.map((o) => o.value));
	const values = options.map(Number).filter((v) => v > 0);
	assert(values.length > 0, `#speed has no numeric options: ${JSON.stringify(options)}`);
	const fast = values.filter((v) => v > 1 && v <= 4);
	const speed = fast.length ? Math.max(...fast) : Math.min(...values.filter((v) => v >= 1));
	await page.selectOption('#speed', options[values.indexOf(speed)] ?? String(speed));
	await waitForState(page, (s) => s.speed === speed, 5000, `state.speed = ${speed} after choosing it in #speed`);
	note(`#speed options ${options.join(', ')}; playing at ${speed}`);

	await page.click('#play');
	s = await waitForState(page, (s) => s.playing, 5000, 'playing after a click on #play');
	s = await waitForState(page, (s) => s.alive.dir === 89, 15000, 'the 89 directories to appear while playing');
	await page.click('#pause');
	const paused = await waitForState(page, (s) => !s.playing, 5000, 'paused after a click on #pause');
	note(`paused at ${((paused.positionNs - Number(first)) / 1e9).toFixed(3)} s: ${JSON.stringify(paused.alive)}`);
	// Paused means still: a second later, the same position, events and tree.
	await new Promise((r) => setTimeout(r, 1000)); // observing that nothing changes, not synchronising
	const still = await state(page);
	assert(still.positionNs === paused.positionNs && still.events === paused.events &&
		still.lastSeq === paused.lastSeq && JSON.stringify(still.alive) === JSON.stringify(paused.alive),
		`the picture moved while paused: ${JSON.stringify(paused)} then ${JSON.stringify(still)}`);

	// Seek by clicking the timeline, aiming at the middle of the gap; if
	// the timeline has margins the first click may land beside it, so aim
	// again from where it landed.
	const box = await page.locator('#timeline').boundingBox();
	assert(box && box.width > 50, `#timeline is not visible: ${JSON.stringify(box)}`);
	const target = (gapFrom + gapTo) / 2;
	let fraction = target / span, landed = null;
	for (let attempt = 0; attempt < 4; attempt++) {
		const before = await state(page);
		await page.mouse.click(box.x + fraction * box.width, box.y + box.height / 2);
		s = await waitForState(page, (s) => s.snapshots > before.snapshots && !s.playing, 10000,
			'a snapshot after a click on #timeline');
		landed = s.positionNs - Number(first);
		if (landed >= gapFrom && landed <= gapTo)
			break;
		fraction += (target - landed) / span;
	}
	assert(landed >= gapFrom && landed <= gapTo,
		`clicks on #timeline did not seek into the quiet gap: at ${landed / 1e9} s`);
	const inGap = await waitForState(page, (s) => s.dying === 0, 5000, 'no dying nodes in the gap');
	const model = await modelCount(landed / 1e9);
	note(`seek to ${(landed / 1e9).toFixed(3)} s: page ${JSON.stringify(inGap.alive)}, model ${model} live nodes`);
	assert(model === 89, `the model holds ${model} live nodes in the gap, expected 89`);
	assert(inGap.alive.total === model && inGap.alive.dir === 89,
		`the page shows ${JSON.stringify(inGap.alive)} in the gap, the model ${model}`);
	const g = await find(page, '/0/1/2/3/4/5/6/7/8/9/10/g');
	assert(g && g.kind === 'dir' && !g.dying, `find of the deepest directory after the seek: ${JSON.stringify(g)}`);

	// A click at the timeline's right end: the end of the trace.
	let before = await state(page);
	await page.mouse.click(box.x + box.width - 1, box.y + box.height / 2);
	s = await waitForState(page, (s) => s.snapshots > before.snapshots, 10000, 'a snapshot after a click at the end');
	s = await waitForState(page, (s) => s.alive.total === 1, 10000, 'the root alone at the end');
	const endModel = await modelCount(span / 1e9);
	note(`seek to the end (${((s.positionNs - Number(first)) / 1e9).toFixed(3)} s): page ${JSON.stringify(s.alive)}, model ${endModel}`);
	assert(s.positionNs >= Number(last) - span * 0.02, `a click at the end seeks to ${s.positionNs}, the trace ends at ${last}`);
	assert(endModel === 1 && s.alive.dir === 1, `at the end: page ${JSON.stringify(s.alive)}, model ${endModel}`);

	// And back into the gap: seeking backwards rebuilds the tree.
	before = await state(page);
	await page.mouse.click(box.x + fraction * box.width, box.y + box.height / 2);
	s = await waitForState(page, (s) => s.snapshots > before.snapshots && s.alive.dir === 89, 10000,
		'89 directories after seeking back into the gap');
	assert(page.tracefsErrors.length === 0, `errors on the page: ${page.tracefsErrors.join('; ')}`);
	await browser.close();
});
