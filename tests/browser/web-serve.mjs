// web-serve.mjs URL TRACE.db TRACEFS SCRATCH — `tracefs serve` of a recorded
// first workload: the page opens in replay mode, paused; #play at a chosen
// speed makes the nodes appear; #pause freezes the picture; a click on
// #timeline in the quiet gap between the mkdirs and the rm shows as many
// live nodes as the cairo renderer's model holds at that time (89); a
// click at the timeline's end shows the root alone. After a seek the
// panel's counters (events by operation, by process, by errno) are those
// `render --at` dumps for the same moment, and colouring by process or by
// operation colours every node as the renderer does; the timeline shows a
// time axis and the run's phases.
import { run, launch, openPage, state, find, waitForState, waitFor, sh, mustSh, note, elementPixels, countColour,
	checkLabels, parseUrl, WsClient } from './lib.mjs';

const [url, db, tracefs, scratch] = process.argv.slice(2);

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

async function sql(query) {
	return (await mustSh(`sqlite3 -batch -noheader '${db}' "${query}"`)).stdout.trim();
}

// The renderer's model at SECONDS after the first event (render --dump-scene).
let dumps = 0;
async function modelDump(seconds, colorBy = 'kind') {
	const out = `${scratch}/scene-${++dumps}`;
	await mustSh(`'${tracefs}' render '${db}' --at ${seconds.toFixed(6)} --color-by ${colorBy} --dump-scene '${out}.json' -o '${out}.png'`,
		'tracefs render --dump-scene');
	return JSON.parse((await import('node:fs')).readFileSync(`${out}.json`, 'utf8'));
}

// Live (not dying) nodes of the renderer's model at SECONDS.
async function modelCount(seconds) {
	return (await modelDump(seconds)).nodes.filter((n) => !n.dying).length;
}

// The model's labels as the page drew them (see checkLabels in lib.mjs),
// and their text is on the canvas: light pixels in their boxes. The boxes
// are read before and after the screenshot: a camera still easing (just
// after a pause or a seek) may move them between the two, and then the
// screenshot is taken again.
async function sameLabels(page, where) {
	const boxes = () => page.evaluate(() => JSON.stringify(window.tracefsView.texts().labels.map((l) => l.box)));
	const { labels, img } = await waitFor(async () => {
		const labels = await checkLabels(page, where);
		const img = await elementPixels(page, '#view');
		return JSON.stringify(labels.map((l) => l.box)) === await boxes() ? { labels, img } : null;
	}, 10000, `${where}: the labels to stay still for a screenshot`);
	const inked = labels.filter((l) => {
		let n = 0;
		for (let y = Math.max(0, Math.ceil(l.box.y0)); y < Math.min(img.height, l.box.y1); y++)
			for (let x = Math.max(0, Math.ceil(l.box.x0)); x < Math.min(img.width, l.box.x1); x++)
				n += Math.max(...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3)) >= 150;
		return n >= 5;
	}).length;
	assert(inked * 2 >= labels.length, `${where}: the text of ${labels.length - inked} of ${labels.length} labels is not on the canvas`);
	note(`${where}: ${inked} of the ${labels.length} labels with their text in light pixels`);
	return labels.length;
}

// The page's counters against the dump's: the same events, operations, errnos and processes.
function sameCounters(pageModel, dumped, where) {
	const a = JSON.stringify({events: pageModel.events, ops: pageModel.ops, errnos: pageModel.errnos,
		processes: pageModel.processes.map((p) => [p.name, p.events, p.errors, p.color])});
	const b = JSON.stringify({events: dumped.events, ops: dumped.ops, errnos: dumped.errnos,
		processes: dumped.processes.map((p) => [p.name, p.events, p.errors, p.color])});
	assert(a === b, `${where}: the page counts ${a}, render --at ${b}`);
}

// Colour by MODE on the page (a new snapshot), then every live node's colour
// against the renderer's at the same moment: none left grey (untouched).
async function sameColours(page, seconds, mode) {
	const before = await state(page);
	await page.selectOption('#color-by', mode);
	await waitForState(page, (s) => s.snapshots > before.snapshots, 10000, `a snapshot after colour by ${mode}`);
	const dumped = await modelDump(seconds, mode);
	const dim = [88, 98, 113]; // the model's colour for a node nothing has touched
	const colours = new Set();
	for (const n of dumped.nodes.filter((n) => !n.dying)) {
		const found = await find(page, n.path);
		assert(found, `colour by ${mode}: ${n.path} is missing on the page`);
		const want = n.color.slice(0, 3).map((c) => Math.round(c * 255));
		// A node still glowing differs by how far its flash has faded, which
		// depends on the video's pace (render) or the replay's speed (page):
		// the page may still show a glow render has let fade (a touch a
		// moment ago in trace time, long ago in the paced video), on its way
		// through grey to the node's colour. Where neither glows, the same,
		// but for what a glow too faint to count still tints (up to its
		// flash's share of a channel) and rounding.
		const tint = 2 + 255 * (Math.min(n.flash, 0.01) + Math.min(found.flash, 0.01));
		const same = found.color.slice(0, 3).every((c, i) => Math.abs(c - want[i]) <= tint);
		assert(n.flash > 0.01 || found.flash > 0.01 || same,
			`colour by ${mode}: ${n.path} is rgb(${found.color.slice(0, 3)}) on the page, rgb(${want}) in render --at`);
		assert(!found.color.slice(0, 3).every((c, i) => Math.abs(c - dim[i]) <= 2),
			`colour by ${mode}: ${n.path} is left grey after the seek`);
		colours.add(found.color.slice(0, 3).join());
	}
	note(`colour by ${mode} after the seek: ${dumped.nodes.length} nodes as render --at colours them, ${colours.size} colours`);
	return dumped;
}

// The events of each command's family (a process right below the root of
// its lineage chain, and its descendants) before the first event at or after
// POSITION_NS, by the command's line: {line: events}, from the trace.
async function commandCounts(positionNs) {
	const rows = JSON.parse(await sql(`
		WITH RECURSIVE up(id, at, steps) AS (
			SELECT id, id, 0 FROM processes
			UNION ALL SELECT up.id, p.parent_id, up.steps + 1 FROM up JOIN processes AS p ON p.id = up.at
			WHERE p.parent_id IS NOT NULL AND p.parent_id != p.root_id AND up.at != p.root_id
				AND p.parent_id IN (SELECT id FROM processes) AND up.steps < 4096),
		top(id, command) AS (SELECT id, at FROM up AS u WHERE steps = (SELECT max(steps) FROM up WHERE id = u.id))
		SELECT coalesce(json_group_array(json_array(argv, n)), '[]') FROM (
			SELECT c.argv AS argv, count(*) AS n FROM trace AS t JOIN top ON top.id = t.process
				JOIN processes AS c ON c.id = top.command
			WHERE c.argv IS NOT NULL AND t.seq < (SELECT coalesce(min(seq), 1e18) FROM trace WHERE ts_ns >= ${positionNs})
			GROUP BY top.command)`));
	const counts = new Map();
	for (const [argv, n] of rows) {
		const line = JSON.parse(argv).join(' ');
		counts.set(line, (counts.get(line) || 0) + n);
	}
	return counts;
}

// Colour by command (process lineage, which every mount records) after the
// seek: the snapshot names each node's process instance, so that none of
// NODES is left grey (untouched), and each command with a colour of its
// own has nodes in it (a hue, where a node of no known command is grey).
async function commandColours(page, dumped) {
	const nodes = dumped.nodes;
	const before = await state(page);
	const positionNs = before.positionNs;
	await page.selectOption('#color-by', 'command');
	await waitForState(page, (s) => s.snapshots > before.snapshots, 10000, 'a snapshot after colour by command');
	const dim = [88, 98, 113];
	const colours = new Set();
	let hued = 0;
	for (const n of nodes.filter((n) => !n.dying)) {
		const found = await find(page, n.path);
		assert(found, `colour by command: ${n.path} is missing on the page`);
		const rgb = found.color.slice(0, 3);
		assert(!rgb.every((c, i) => Math.abs(c - dim[i]) <= 2), `colour by command: ${n.path} is left grey after the seek`);
		colours.add(rgb.join());
		hued += Math.max(...rgb) - Math.min(...rgb) >= 24;
	}
	const stats = await page.evaluate(() => window.tracefsView.stats());
	const legend = stats.model.processes.filter((p) => p.color >= 0);
	// The counters render --at has (it counts by process name) are the
	// page's; and each command counts the events of its family up to the
	// seek, as the trace says (the snapshot's counts per instance).
	const counted = (m) => JSON.stringify({events: m.events, ops: m.ops, errnos: m.errnos});
	assert(counted(stats.model) === counted(dumped.stats),
		`colour by command after the seek: the page counts ${counted(stats.model)}, render --at ${counted(dumped.stats)}`);
	const want = await commandCounts(positionNs);
	const got = new Map(stats.processes.map((p) => [p[0], p[1]]));
	for (const [name, n] of want)
		assert(got.get(name) === n, `colour by command after the seek: ${name} counts ${got.get(name)}, the trace ${n}: ${JSON.stringify(stats.processes)}`);
	const sum = stats.processes.reduce((n, p) => n + p[1], 0);
	assert(got.size === want.size && sum === stats.model.events && stats.commandsCounted === null,
		`colour by command after the seek: the commands count ${sum} of ${stats.model.events} events: ` +
		`${JSON.stringify(stats.processes)}, the trace ${JSON.stringify([...want])}`);
	assert(!(await page.locator('#panel').innerText()).includes('events counted'),
		'the panel says its commands count from the seek on, though they count from the start');
	note(`colour by command after the seek: ${[...want].map(([name, n]) => `${name} ${n}`).join(', ')} (the trace's families)`);
	assert(legend.length >= 2 && hued >= legend.length,
		`colour by command after the seek: ${hued} nodes with a hue, commands with a colour ${JSON.stringify(legend)}`);
	note(`colour by command after the seek: ${hued} of ${nodes.length} nodes in ${legend.length} commands' colours, ${colours.size} colours`);
}

// Played to the end, a replay's snapshot (what a tab asks for when it comes
// back) is the final tree: it holds the last event too, whose start is the
// trace's end (a snapshot at that instant would leave it out).
async function snapshotAfterEnd() {
	const lastSeq = await sql('SELECT max(seq) FROM trace');
	const { host, port } = parseUrl(url);
	const c = await WsClient.connect(host, port);
	try {
		while (!(await c.nextOfType('snapshot', 15000)).last)
			;
		c.send({ cmd: 'speed', value: 1000 });
		c.send({ cmd: 'play' });
		for (let deadline = Date.now() + 60000; !(await c.nextOfType('state', Math.max(1, deadline - Date.now()))).ended;)
			;
		c.send({ cmd: 'snapshot' });
		const snapshot = await c.nextOfType('snapshot', 15000);
		assert(String(snapshot.seq) === lastSeq,
			`a snapshot after the end holds events up to seq ${snapshot.seq}, the trace's last is ${lastSeq}`);
		note(`a snapshot after playing to the end holds the last event (seq ${lastSeq})`);
	} finally {
		c.close();
	}
}

run(async () => {
	await snapshotAfterEnd();
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
	let labelsSeen = await sameLabels(page, 'paused with 89 directories');
	if (process.env.TRACEFS_SCREENSHOTS) // for a person to look at the labels
		await page.screenshot({ path: `${process.env.TRACEFS_SCREENSHOTS}/replay-labels.png` });
	note(`paused at ${((paused.positionNs - Number(first)) / 1e9).toFixed(3)} s: ${JSON.stringify(paused.alive)}`);
	// Paused means still: longer than a flash lasts (2 s) later, the same
	// position, events and tree, and the same nodes still flash.
	assert(paused.flashing > 0, `nothing flashes just after the pause: ${JSON.stringify(paused)}`);
	await new Promise((r) => setTimeout(r, 2500)); // observing that nothing changes, not synchronising
	const still = await state(page);
	assert(still.positionNs === paused.positionNs && still.events === paused.events &&
		still.lastSeq === paused.lastSeq && JSON.stringify(still.alive) === JSON.stringify(paused.alive) &&
		still.flashing === paused.flashing,
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

	// The panel after the seek: the counters of render --at, and the panel shows them.
	const dumped = await modelDump(landed / 1e9);
	const stats = await page.evaluate(() => window.tracefsView.stats());
	sameCounters(stats.model, dumped.stats, 'after a seek into the gap');
	assert(stats.model.ops.mkdir === 88 && stats.model.events === Object.values(stats.model.ops).reduce((a, b) => a + b, 0),
		`the counters after the seek are not those of the workload so far: ${JSON.stringify(stats.model)}`);
	const panelText = await page.locator('#panel').innerText();
	const top = [...dumped.stats.processes].sort((a, b) => b.events - a.events)[0];
	assert(panelText.includes(top.name) && panelText.includes(top.events.toLocaleString('en-US')) &&
		panelText.includes(dumped.stats.events.toLocaleString('en-US')),
		`the panel does not show the busiest process ${top.name} (${top.events}) and ${dumped.stats.events} events: ${panelText}`);
	note(`after the seek: ${stats.model.events} events, processes ${stats.processes.map((p) => `${p[0]} ${p[1]}`).join(', ')}; ` +
		`errors ${JSON.stringify(stats.errors)}`);

	// Colour by process, then by operation: every node as the renderer colours it.
	const byProcess = await sameColours(page, landed / 1e9, 'process');
	if (process.env.TRACEFS_SCREENSHOTS) // for a person to look at (the README's figures)
		await page.screenshot({ path: `${process.env.TRACEFS_SCREENSHOTS}/replay-process.png` });
	const legend = byProcess.stats.processes.filter((p) => p.color >= 0).length;
	assert(legend >= 1, `no process has a colour of its own: ${JSON.stringify(byProcess.stats.processes)}`);
	await sameColours(page, landed / 1e9, 'op');
	await commandColours(page, byProcess);
	await page.selectOption('#color-by', 'kind');

	// A click on a node pins its label, on a side where no other text is:
	// on one the model does not label (paused, the model's labels stay).
	// After colour by kind, whose snapshot rebuilds the scene.
	const chain = Array.from({ length: 11 }, (_, level) => '/' + Array.from({ length: level + 1 }, (_, i) => i).join('/'));
	const candidates = chain.reverse().flatMap((dir) => [...'abcdefg'].map((l) => `${dir}/${l}`));
	const { leaf, at } = await waitFor(() => page.evaluate((paths) => {
		const view = window.tracefsView, labelled = new Set(view.texts().labelled);
		for (const path of paths) {
			const node = view.find(path), at = view.screenOf(path);
			if (node && at && !labelled.has(node.id)) return { leaf: path, at };
		}
		return null;
	}, candidates), 5000, 'an unlabelled directory in the frame after the seek');
	const viewBox = await page.locator('#view').boundingBox();
	await page.mouse.click(viewBox.x + at.x, viewBox.y + at.y);
	const texts = await waitFor(async () => {
		const t = await page.evaluate(() => window.tracefsView.texts());
		return t.pins.some((p) => p.path === leaf) && t;
	}, 8000, `the pinned label of ${leaf}`);
	const pin = texts.pins.find((p) => p.path === leaf);
	const meets = (a, b) => a.x1 > b.x0 && a.x0 < b.x1 && a.y1 > b.y0 && a.y0 < b.y1;
	const others = texts.boxes.filter((b) => !(b.x0 === pin.x0 && b.y0 === pin.y0 && b.x1 === pin.x1));
	assert(others.length === texts.boxes.length - 1, `the pin's box is not among the drawn texts: ${JSON.stringify(texts)}`);
	assert(!others.some((b) => meets(pin, b)), `the pinned label meets other text: ${JSON.stringify(texts)}`);
	assert(others.every((a, i) => others.every((b, j) => i >= j || !meets(a, b))),
		`texts overlap on the canvas: ${JSON.stringify(others)}`);
	labelsSeen += await sameLabels(page, 'with a pinned label');
	assert(labelsSeen > 0, 'the model labelled nothing the page could be checked against');
	note(`pinned ${leaf}: its label at ${pin.x0.toFixed(0)},${pin.y0.toFixed(0)}, clear of ${others.length} other texts`);


	// The timeline: a time axis, and the run's phases as marks.
	const drawn = await page.evaluate(() => window.tracefsView.timeline());
	note(`timeline: ticks ${drawn.ticks.map((t) => t.label).join(' ')}; phases ${drawn.known.map((p) => p.name).join(', ')}`);
	assert(drawn.ticks.length >= 3 && drawn.ticks[0].label.startsWith('0'),
		`the timeline has no time axis: ${JSON.stringify(drawn.ticks)}`);
	assert(drawn.ticks.every((t, i) => i === 0 || t.x > drawn.ticks[i - 1].x + 40),
		`the axis ticks crowd: ${JSON.stringify(drawn.ticks)}`);
	assert(drawn.known.length >= 1 && drawn.phases.length === drawn.known.length &&
		drawn.phases.every((p) => p.x1 > p.x0 && p.x0 >= 0 && p.x1 <= box.width + 1),
		`the timeline shows no phase marks: ${JSON.stringify(drawn)}`);
	const timelinePixels = await elementPixels(page, '#timeline');
	const markPixels = countColour(timelinePixels, 0x1d4f91, 8) + countColour(timelinePixels, 0x5b3a94, 8);
	assert(markPixels > 100, `the phase marks are not on the timeline's pixels (${markPixels})`);

	// A seek into the first phase: its name is the caption under the clock.
	const phase = drawn.phases[0];
	let before0 = await state(page);
	await page.mouse.click(box.x + (phase.x0 + phase.x1) / 2, box.y + box.height / 2);
	await waitForState(page, (s) => s.snapshots > before0.snapshots, 10000, 'a snapshot after a click on the first phase');
	const caption = await waitFor(() => page.evaluate(() => window.tracefsView.caption()), 5000,
		'a caption after seeking into the first phase');
	note(`caption in the first phase: ${caption}`);
	assert(caption.startsWith(phase.name), `the caption in phase ${phase.name} is ${caption}`);

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
	if (process.env.TRACEFS_SCREENSHOTS)
		await page.screenshot({ path: `${process.env.TRACEFS_SCREENSHOTS}/replay-gap.png` });
	assert(page.tracefsErrors.length === 0, `errors on the page: ${page.tracefsErrors.join('; ')}`);
	await browser.close();
});
