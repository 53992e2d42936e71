/*
 * app.js — the browser view of tracefs. The scene model is viz/ compiled to
 * WebAssembly (viz.wasm, glue in viz_wasm.c): this file feeds it the
 * websocket stream (the README's "The live stream"), asks it for a frame on every
 * animation frame, and paints that frame on a canvas the way viz/draw.c
 * paints it with cairo, so that the page and the rendered video agree.
 * Around it: pan and zoom, tooltips and pinned labels, live counters,
 * replay controls and the timeline, reconnection.
 *
 * Events are applied to the model as soon as their message arrives (it
 * takes microseconds each), so nothing queues between the socket and the
 * picture; when frames get slow, fewer are drawn (see animate()) so that
 * the stream keeps the main thread it needs.
 *
 * Trace times (ns since the epoch, ~1.7e18) do not fit a double exactly.
 * Event times are used as doubles (~256 ns off: they only drive the clock
 * and the lag); the one time the page sends, a seek, is computed exactly
 * with BigInt from the timeline's first_ns and last_ns read from the raw
 * message text.
 */
'use strict';

(() => {
  const params = new URLSearchParams(location.search);
  /* The server's secret token comes in the page's address and goes on to /events. */
  const TOKEN = params.get('token');
  const WS_URL = params.get('ws') ||
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/events` +
    (TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : '');
  const FADE = Number(params.get('fade')) > 0 ? Number(params.get('fade')) : 2;
  const COLOR_BY = ['kind', 'op', 'process']; /* enum viz_color_by */
  /* 'command': the model's process colouring, each event's process named by its command (below). */
  const COLOR_MODES = [...COLOR_BY, 'command'];
  const KIND_TEXT = {file: 'file', dir: 'directory', symlink: 'symlink', other: 'other'};
  const RECONNECT_MIN_MS = 250, RECONNECT_MAX_MS = 5000;
  const MAX_PATH_STATS = 200000; /* paths whose counts the tooltip shows, oldest forgotten */
  const ERRNO = {
    1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 9: 'EBADF', 11: 'EAGAIN',
    12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV',
    19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE',
    26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE', 30: 'EROFS', 31: 'EMLINK',
    34: 'ERANGE', 36: 'ENAMETOOLONG', 37: 'ENOLCK', 38: 'ENOSYS', 39: 'ENOTEMPTY',
    40: 'ELOOP', 61: 'ENODATA', 95: 'EOPNOTSUPP', 116: 'ESTALE', 122: 'EDQUOT',
  };

  const $ = (id) => document.getElementById(id);
  const view = $('view'), ctx = view.getContext('2d', {alpha: false});
  const timelineCanvas = $('timeline'), tctx = timelineCanvas.getContext('2d');
  const statusEl = $('status'), panel = $('panel'), tooltip = $('tooltip');

  /* ---- the model in WebAssembly ---- */

  const decoder = new TextDecoder(), encoder = new TextEncoder();
  let wasm = null, memBuffer = null, u8 = null, u32 = null, f32 = null, f64 = null;
  let scratchPtr = 0, scratchSize = 0;
  /* The trace's names and the model's numbers for them, from the model
   * itself at load (one list: trace/names.h). */
  const opIndex = new Map(); /* "mkdir" -> enum viz_op */
  let opNames = [], unknownOp = 0;
  const KINDS = {}; /* "dir" -> enum viz_kind */
  let KIND_NAMES = []; /* enum viz_kind -> "dir", null for none */

  /* Views of the wasm memory: a memory.grow detaches the old ones. */
  function views() {
    if (wasm.memory.buffer !== memBuffer) {
      memBuffer = wasm.memory.buffer;
      u8 = new Uint8Array(memBuffer);
      u32 = new Uint32Array(memBuffer);
      f32 = new Float32Array(memBuffer);
      f64 = new Float64Array(memBuffer);
    }
  }

  function cString(ptr) {
    if (!ptr) return null;
    views();
    let end = ptr;
    while (u8[end]) end++;
    return decoder.decode(u8.subarray(ptr, end));
  }

  /* Writes S at AT in the wasm memory as UTF-8; its length in bytes. Paths are ASCII mostly:
   * copying those by hand is faster than calling the encoder for each. */
  function put(s, at) {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) return encoder.encodeInto(s, u8.subarray(at, at + n * 3)).written;
      u8[at + i] = c;
    }
    return n;
  }

  function reserveScratch(need) {
    if (need > scratchSize) {
      scratchSize = Math.max(need, 2 * scratchSize, 4096);
      scratchPtr = wasm.tv_scratch(scratchSize);
      if (!scratchPtr) throw new Error('out of memory');
    }
    views();
  }

  /* Writes S NUL-terminated into the scratch buffer; its pointer, valid until the next write. */
  function writeString(s) {
    reserveScratch(s.length * 3 + 1);
    u8[scratchPtr + put(s, scratchPtr)] = 0;
    return scratchPtr;
  }

  /* An event's strings (each a string or null) one after the other in the scratch buffer;
   * their pointers (0 for null) go to eventPtrs. */
  const eventPtrs = {path: 0, path2: 0, comm: 0};
  function writeEventStrings(path, path2, comm) {
    reserveScratch(3 * ((path ? path.length : 0) + (path2 ? path2.length : 0) + (comm ? comm.length : 0)) + 3);
    let at = scratchPtr;
    eventPtrs.path = path ? at : 0;
    if (path) { at += put(path, at); u8[at++] = 0; }
    eventPtrs.path2 = path2 ? at : 0;
    if (path2) { at += put(path2, at); u8[at++] = 0; }
    eventPtrs.comm = comm ? at : 0;
    if (comm) { at += put(comm, at); u8[at] = 0; }
  }

  function newScene() {
    /* The root is named after the mount point, as in a render. */
    const dir = session.mountpoint || session.source;
    rootLabel = dir ? dir.replace(/\/+$/, '').split('/').pop() : '';
    const label = rootLabel ? writeString(rootLabel) : 0;
    const mode = colorBy === 'command' ? 'process' : colorBy;
    const scene = wasm.tv_scene_new(COLOR_BY.indexOf(mode), FADE, session.startNs || 0, label);
    if (!scene) throw new Error('out of memory');
    wasm.tv_set_viewport(scene, viewSize.w, viewSize.h);
    return scene;
  }

  /* ---- session state ---- */

  let colorBy = 'kind', rootLabel = '';
  let ws = null, reconnectMs = RECONNECT_MIN_MS, reconnectTimer = 0;
  const session = {
    connected: false, mode: null, source: '', mountpoint: '', startNs: 0,
    playing: false, speed: 1, ended: false, error: null,
    progress: null, /* {done, total}: events serve has read before the replay can start */
    timeline: null, /* {firstNs, lastNs (BigInt), first, last (Number), buckets} */
    phases: [], /* [{name, start, end}] in trace ns (Numbers), replay only */
  };
  let scene = 0;
  let pending = null; /* snapshot being received: {scene, seq} */
  const counters = {events: 0, lastSeq: 0, missed: 0, snapshots: 0, lastEventNs: null, lagMs: null};

  /* Page time in seconds: the model's video time; never decreases. */
  const t0 = performance.now();
  let lastT = 0;
  function pageTime() {
    lastT = Math.max(lastT, (performance.now() - t0) / 1000);
    return lastT;
  }

  /* The trace time the clock shows: extrapolated from the last known instant. */
  const clock = {anchorNs: 0, anchorT: 0, shownNs: 0};
  function setClock(ns, t) {
    clock.anchorNs = ns;
    clock.anchorT = t;
  }
  function traceNs(t) {
    const rate = session.mode === 'replay' ? (session.playing && !session.ended ? session.speed : 0) : 1;
    const ns = clock.anchorNs + (t - clock.anchorT) * rate * 1e9;
    /* Within a scene the clock never goes back (batches arrive late). */
    clock.shownNs = Math.max(clock.shownNs, ns);
    return clock.shownNs;
  }

  /*
   * ---- counters for the side panel and tooltips ----
   * The totals (events by operation, by process, by errno) are the scene
   * model's, which a snapshot carries: after a seek they are those of the
   * sought moment, the numbers `tracefs render --at` dumps. The page only
   * adds the arrival rate and, for tooltips, what it saw of each path.
   */

  const WINDOW_SLOTS = 10; /* the last second, in tenths */
  const slots = Array.from({length: WINDOW_SLOTS}, () => ({stamp: -1, events: 0}));
  const pathStats = new Map();

  function slotNow() {
    const tenth = Math.floor(performance.now() / 100);
    const slot = slots[tenth % WINDOW_SLOTS];
    if (slot.stamp !== tenth) {
      slot.stamp = tenth;
      slot.events = 0;
    }
    return slot;
  }

  /* Per path: accesses + errors * ERRORS_UNIT, one number (no object per path). */
  const ERRORS_UNIT = 2 ** 32;
  function countPath(path, error) {
    const n = pathStats.get(path);
    if (n === undefined && pathStats.size >= MAX_PATH_STATS) pathStats.delete(pathStats.keys().next().value);
    pathStats.set(path, (n || 0) + 1 + (error ? ERRORS_UNIT : 0));
  }

  function countEvent(ev, owner, slot) {
    slot.events++;
    const error = ev.result < 0;
    if (ev.path) countPath(ev.path, error);
    if (ev.path2) countPath(ev.path2, error);
    if (!error) noteCommand(ev, owner);
  }

  /*
   * ---- commands: process lineage (the `lineage` of snapshots and of
   * events) ----
   * A command is the process instance right below the root of its chain
   * (each `make`, `cc` a script runs), or the root itself, named by its
   * command line, shortened as `report` does. The processes below it are
   * its family: in the picture each program among them (by name: `cc1`,
   * `sh`, `as`) is a shade of the command's colour, a process of the model
   * called "COMMAND › PROGRAM" (viz_scene_join_family()). The programs of
   * a command take the shades in the order they first started (by process
   * id), so that a family looks the same however the page came to see it:
   * from the start, joining late, after a seek.
   */
  const lineage = new Map(); /* process id -> {parent, root, line} */
  const commandIds = new Map(); /* process id -> its command's id (cached walks) */
  const owners = new Map(); /* process id -> {command, name, shade}: see ownerOf() */
  const shades = new Map(); /* command line -> Map(program -> its shade, from 1) */
  const MAX_OWNERS = 65536;

  /* Rows come in id order, parents first. */
  function addLineage(rows) {
    if (!Array.isArray(rows)) return;
    for (const r of rows) {
      if (!r || !Number.isInteger(r.id) || r.id <= 0) continue;
      const line = typeof r.line === 'string' ? r.line : null;
      lineage.set(r.id, {parent: Number.isInteger(r.parent) ? r.parent : 0,
        root: Number.isInteger(r.root) ? r.root : 0, line});
      const top = commandId(r.id);
      if (top !== r.id && line && lineage.get(top).line) shadeOf(lineage.get(top).line, programOf(line));
    }
  }

  function shadeOf(command, program) {
    let programs = shades.get(command);
    if (!programs) {
      if (shades.size >= MAX_OWNERS) shades.clear();
      programs = new Map();
      shades.set(command, programs);
    }
    let shade = programs.get(program);
    if (shade === undefined) {
      shade = programs.size + 1;
      programs.set(program, shade);
    }
    return shade;
  }

  function commandId(id) {
    if (commandIds.has(id)) return commandIds.get(id);
    let at = id;
    /* up the chain to the child of the root; bounded, should a trace hold a loop */
    for (let steps = 0; steps < 4096; steps++) {
      const p = lineage.get(at);
      if (!p || !p.parent || p.parent === p.root || at === p.root || !lineage.has(p.parent)) break;
      at = p.parent;
    }
    commandIds.set(id, at);
    return at;
  }

  /* The program a command line runs: its first word's last component ("cc1"), or null. */
  function programOf(line) {
    const word = line ? line.trim().split(/\s+/)[0] : '';
    return word ? word.slice(word.lastIndexOf('/') + 1) || word : null;
  }

  /*
   * Who process instance ID is: {command, name, shade}, the command line
   * of its command, its name in the model (the command's, or "COMMAND ›
   * PROGRAM" below it, PROGRAM from its own line, else COMM) and its
   * shade (0: the command's own colour); null when its command's line is
   * unknown.
   */
  function ownerOf(id, comm) {
    let owner = owners.get(id);
    if (owner !== undefined) return owner;
    const top = commandId(id), command = lineage.has(top) ? lineage.get(top).line : null;
    owner = null;
    if (command) {
      const self = lineage.get(id), program = id === top ? null : programOf(self && self.line) || comm || null;
      owner = program ? {command, name: `${command} › ${program}`, shade: shadeOf(command, program)}
        : {command, name: command, shade: 0};
    }
    if (owners.size >= MAX_OWNERS) owners.clear();
    owners.set(id, owner);
    return owner;
  }

  /*
   * An event's command and model name, its comm without lineage. A request
   * the kernel makes itself (pid 0: write-back, release) is on behalf of
   * the process that touched the path last.
   */
  function ownerOfEvent(ev) {
    const owner = Number.isInteger(ev.process) ? ownerOf(ev.process, typeof ev.comm === 'string' ? ev.comm : null) : null;
    if (owner) return owner;
    if (ev.pid === 0 && typeof ev.path === 'string') {
      const entry = pathCommands.get(ev.path);
      if (entry && entry.last) return entry.last;
    }
    const name = typeof ev.comm === 'string' ? ev.comm : (ev.pid === 0 ? 'kernel' : `pid ${ev.pid}`);
    return {command: name, name, shade: 0};
  }

  /*
   * Families joined in a scene (the model's and the panel's): a member
   * joins its command's family before its first event there.
   */
  const familyOf = new Map(); /* a member's name -> its command */
  function joinFamily(target, joined, owner) {
    if (owner.name === owner.command || joined.has(owner.name)) return;
    writeEventStrings(owner.name, owner.command, null);
    if (wasm.tv_join_family(target, eventPtrs.path, eventPtrs.path2, owner.shade) !== 0)
      throw new Error('out of memory');
    joined.add(owner.name);
    if (familyOf.size >= MAX_OWNERS) familyOf.clear();
    familyOf.set(owner.name, owner.command);
  }
  let joined = new Set(); /* of the current scene */

  /* Which commands read and wrote each path (the tooltip, the highlight): bounded lists. */
  const COMMANDS_KEPT = 8;
  const WRITES = new Set(['create', 'write', 'mkdir', 'mknod', 'symlink', 'link', 'rename', 'unlink',
    'rmdir', 'setattr', 'fallocate']);
  const READS = new Set(['read', 'readdir', 'readlink']);
  const pathCommands = new Map(); /* path -> {read: [commands], wrote: [commands], more: n, last: owner} */

  function noteCommand(ev, owner) {
    const name = owner.command;
    /* copy_file_range reads its path and writes its path2 */
    const copy = ev.op === 'copy_file_range';
    for (const [path, wrote, read] of [[ev.path, WRITES.has(ev.op), copy || READS.has(ev.op)],
      [ev.path2, copy || WRITES.has(ev.op), false]]) {
      if (typeof path !== 'string') continue;
      let entry = pathCommands.get(path);
      if (!entry) {
        if (pathCommands.size >= MAX_PATH_STATS) pathCommands.delete(pathCommands.keys().next().value);
        entry = {read: [], wrote: [], more: 0, last: null};
        pathCommands.set(path, entry);
      }
      if (Number.isInteger(ev.process)) entry.last = owner;
      if (!wrote && !read) continue;
      const list = wrote ? entry.wrote : entry.read;
      if (list.includes(name)) continue;
      if (list.length < COMMANDS_KEPT) list.push(name);
      else entry.more++;
      if (highlight && highlight.name === name) highlight.paths.add(path);
    }
  }

  /* The process (by the panel's name) whose files are highlighted, the others dimmed; or null. */
  let highlight = null; /* {name, paths: Set} */
  function setHighlight(name) {
    if (name === null || (highlight && highlight.name === name)) {
      highlight = null;
      return;
    }
    const paths = new Set();
    for (const [path, entry] of pathCommands)
      if (entry.read.includes(name) || entry.wrote.includes(name)) paths.add(path);
    highlight = {name, paths};
  }

  /* The model's totals: {events, ops: {name: n}, errnos: {errno: n}, processes: [{name, events,
   * errors, color (a slot, -1 for none), rgba}] in the model's order}. */
  function modelStats() {
    const stats = {events: 0, ops: {}, errnos: {}, processes: []};
    if (!scene) return stats;
    stats.events = wasm.tv_events(scene);
    opNames.forEach((name, op) => {
      const n = wasm.tv_op_events(scene, op);
      if (n) stats.ops[name] = n;
    });
    for (let e = 0, slots = wasm.tv_errno_slots(); e < slots; e++) {
      const n = wasm.tv_errno_events(scene, e);
      if (n) stats.errnos[e] = n;
    }
    for (let i = 0, n = wasm.tv_process_count(scene); i < n; i++) {
      const ptr = wasm.tv_process(scene, i);
      views();
      const w = ptr >>> 2;
      stats.processes.push({name: cString(u32[w]), events: f64[(ptr >>> 3) + 1],
        errors: f64[(ptr >>> 3) + 2], color: u32[w + 6] | 0, rgba: u32[w + 7]});
    }
    return stats;
  }

  /* The model's process NAME in TARGET, with its counts and colour SLOT (-1: none given). */
  function restoreProcess(target, name, events, errors, slot) {
    if (wasm.tv_restore_process(target, writeString(name), events, errors, slot) !== 0)
      throw new Error('out of memory');
  }

  /* A snapshot's counters into the scene being built from it. */
  function restoreStats(target, stats, withoutProcesses) {
    if (!stats || typeof stats !== 'object') return;
    for (const p of Array.isArray(stats.processes) && !withoutProcesses ? stats.processes : []) {
      if (!p || typeof p.name !== 'string') continue;
      restoreProcess(target, p.name, Number(p.events) || 0, Number(p.errors) || 0,
        Number.isInteger(p.color) ? p.color : -1);
    }
    wasm.tv_restore_events(target, Number(stats.events) || 0);
    for (const [name, n] of Object.entries(stats.ops || {})) {
      const op = opIndex.get(name);
      if (op !== undefined) wasm.tv_restore_op_events(target, op, Number(n) || 0);
    }
    for (const [e, n] of Object.entries(stats.errnos || {})) wasm.tv_restore_errno_events(target, e | 0, Number(n) || 0);
  }

  /* ---- the protocol ---- */

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  function resetScene() {
    if (pending) wasm.tv_scene_free(pending.scene);
    pending = null;
    if (scene) wasm.tv_scene_free(scene);
    scene = newScene();
    joined = new Set();
    clock.shownNs = 0;
  }

  function onHello(msg) {
    reconnectMs = RECONNECT_MIN_MS;
    session.mode = msg.mode === 'replay' ? 'replay' : 'live';
    session.progress = null;
    session.source = msg.source || '';
    session.mountpoint = msg.mountpoint || '';
    session.startNs = Number(msg.start_ns) || 0;
    session.playing = false;
    session.ended = false;
    session.timeline = null;
    session.phases = [];
    counters.lastSeq = 0;
    counters.lastEventNs = null;
    counters.lagMs = null;
    resetScene();
    setClock(session.startNs, pageTime());
    $('replay').hidden = session.mode !== 'replay';
    $('timeline-bar').hidden = session.mode !== 'replay';
    updatePlayButtons();
    showStatus();
  }

  /* first_ns and last_ns exactly, from the raw text: JSON.parse would round them. */
  function onTimeline(msg, raw) {
    const exact = (name) => {
      const m = raw.match(new RegExp(`"${name}"\\s*:\\s*(-?\\d+)`));
      return m ? BigInt(m[1]) : BigInt(Math.round(Number(msg[name]) || 0));
    };
    const firstNs = exact('first_ns'), lastNs = exact('last_ns');
    session.timeline = {
      firstNs, lastNs, first: Number(firstNs), last: Number(lastNs),
      buckets: Array.isArray(msg.buckets) ? msg.buckets.map(Number) : [],
    };
  }

  function onPhases(msg) {
    session.phases = (Array.isArray(msg.phases) ? msg.phases : [])
      .filter((p) => p && typeof p.name === 'string')
      .map((p) => ({name: p.name, start: Number(p.start_ns) || 0, end: Number(p.end_ns) || 0}));
    timelineDrawn = '';
  }

  /*
   * The caption: in a replay the phase the clock is in (the report's
   * phases); live, where phases are not known ahead, the command with the
   * most events of the last seconds and its share.
   */
  function currentPhase() {
    if (session.mode === 'replay') {
      const ns = clock.shownNs, phases = session.phases;
      for (let i = 0; i < phases.length; i++) {
        if (ns >= phases[i].start && ns <= phases[i].end)
          return phases.length > 1 ? `${phases[i].name} (${i + 1} of ${phases.length})` : phases[i].name;
      }
      return null;
    }
    const since = Math.floor(performance.now() / 1000) - BUSY_SECONDS;
    const counts = new Map();
    let total = 0;
    for (const slot of busySlots) {
      if (slot.second <= since) continue;
      for (const [name, n] of slot.comms) counts.set(name, (counts.get(name) || 0) + n);
      total += slot.events;
    }
    let best = null, most = 0;
    for (const [name, n] of counts) if (n > most) [best, most] = [name, n];
    return best === null ? null : `${best} · ${Math.round(100 * most / total)}% of the last ${BUSY_SECONDS} s`;
  }

  /* Live: who made the events of each of the last seconds, for the caption. */
  const BUSY_SECONDS = 5;
  const busySlots = Array.from({length: BUSY_SECONDS}, () => ({second: -1, events: 0, comms: new Map()}));
  function countBusy(ev) {
    const second = Math.floor(performance.now() / 1000), slot = busySlots[second % BUSY_SECONDS];
    if (slot.second !== second) {
      slot.second = second;
      slot.events = 0;
      slot.comms.clear();
    }
    const name = ev.comm || (ev.pid === 0 ? 'kernel' : `pid ${ev.pid}`);
    slot.events++;
    if (slot.comms.size < 512 || slot.comms.has(name)) slot.comms.set(name, (slot.comms.get(name) || 0) + 1);
  }

  /* The caption goes into the model, which lays it out under the clock (as in a video). */
  let captionShown = null, captionScene = 0;
  function showCaption() {
    const text = currentPhase();
    if (!scene || (text === captionShown && captionScene === scene)) return;
    captionShown = text;
    captionScene = scene;
    wasm.tv_set_caption(scene, text ? writeString(text) : 0);
  }

  /* The model's process for OWNER, of process instance ID, in the snapshot's scene (its family
   * joined); its index. */
  function snapshotProcess(into, owner, id) {
    const seen = into.nodes.get(owner.command);
    into.nodes.set(owner.command, seen ? {nodes: seen.nodes + 1, first: Math.min(seen.first, id)} : {nodes: 1, first: id});
    let index = into.processes.get(owner.name);
    if (index !== undefined) return index;
    if (owner.name !== owner.command) joinFamily(into.scene, into.joined, owner);
    else restoreProcess(into.scene, owner.name, 0, 0, -1);
    index = wasm.tv_process_named(into.scene, writeString(owner.name));
    into.processes.set(owner.name, index);
    return index;
  }

  /*
   * The snapshot's commands with the most nodes get the colours (events
   * earn them from then on), in the order they started, as a page that saw
   * them start would have given them out.
   */
  function colourCommands(into) {
    const ranked = [...into.nodes].sort((a, b) => b[1].nodes - a[1].nodes).slice(0, wasm.tv_process_colors())
      .sort((a, b) => a[1].first - b[1].first);
    ranked.forEach(([command], slot) => restoreProcess(into.scene, command, 0, 0, slot));
  }

  /* A snapshot's node was last touched by OWNER: the kernel's requests on it are then its. */
  function notePathOwner(path, owner) {
    let entry = pathCommands.get(path);
    if (!entry) {
      if (pathCommands.size >= MAX_PATH_STATS) return;
      entry = {read: [], wrote: [], more: 0, last: null};
      pathCommands.set(path, entry);
    }
    entry.last = owner;
  }

  /*
   * The snapshot's events and errors per process instance (its
   * "instances"), summed by the model's name of each (its command, or a
   * member of its family): the panel's counts by command at the snapshot's
   * moment. An instance whose command is unknown counts nowhere, as its
   * events would (they go by comm name). The events counted so.
   */
  function restoreCommandCounts(into) {
    const sums = new Map();
    for (const row of into.instances) {
      if (!Array.isArray(row) || !Number.isInteger(row[0])) continue;
      const owner = ownerOf(row[0], null);
      if (!owner) continue;
      const sum = sums.get(owner.name) || {owner, events: 0, errors: 0};
      sum.events += Number(row[1]) || 0;
      sum.errors += Number(row[2]) || 0;
      sums.set(owner.name, sum);
    }
    let counted = 0;
    for (const {owner, events, errors} of sums.values()) {
      joinFamily(into.scene, into.joined, owner);
      restoreProcess(into.scene, owner.name, events, errors, -1);
      counted += events;
    }
    return counted;
  }

  let commandsCounted = null; /* colouring by command after a snapshot without "instances": since when the panel counts */
  function onSnapshot(msg) {
    const seq = Number(msg.seq) || 0;
    if (!pending || pending.seq !== seq) {
      if (pending) wasm.tv_scene_free(pending.scene);
      /* by command: the model's index of each name, and the nodes of each command */
      pending = {scene: newScene(), seq, joined: new Set(), processes: new Map(), nodes: new Map(), instances: null};
      pathStats.clear(); /* what the page saw before the snapshot is not what led to it */
      pathCommands.clear();
      highlight = null;
    }
    /* Colouring by command, the snapshot's processes (comm names) are not commands: left out;
     * its nodes' process instances say whose they are. */
    const byCommand = colorBy === 'command';
    if (msg.stats) restoreStats(pending.scene, msg.stats, byCommand);
    if (Array.isArray(msg.instances)) pending.instances = msg.instances;
    if (msg.lineage) {
      addLineage(msg.lineage);
      commandIds.clear();
      owners.clear();
    }
    /* A touch AGE trace seconds before the snapshot glows as it would have in the page's time. */
    const now = pageTime(), rate = session.mode === 'replay' ? session.speed : 1;
    for (const node of msg.nodes || []) {
      if (typeof node.path !== 'string') continue;
      const op = opIndex.has(node.op) ? opIndex.get(node.op) : -1;
      const owner = byCommand && Number.isInteger(node.instance) ? ownerOf(node.instance, null) : null;
      const process = byCommand ? (owner ? snapshotProcess(pending, owner, node.instance) : -1)
        : Number.isInteger(node.process) ? node.process : -1;
      if (owner) notePathOwner(node.path, owner);
      const touched = Number(node.age) >= 0 ? now - Number(node.age) / rate : -1e30;
      if (wasm.tv_prescan(pending.scene, KINDS[node.kind] || 0, writeString(node.path), op, process, touched) !== 0)
        throw new Error('out of memory');
    }
    if (!msg.last) return;
    if (byCommand) colourCommands(pending);
    /* Without counts per instance (an older server), commands count from here on; with them,
     * only the kernel's own requests do (the server does not know whose they were). */
    const uncounted = wasm.tv_events(pending.scene) - (byCommand && pending.instances ? restoreCommandCounts(pending) : 0);
    commandsCounted = byCommand && uncounted > 0
      ? (session.mode === 'replay' ? 'from the seek on' : 'from joining on') +
        (pending.instances ? ` for the kernel's own requests (${uncounted.toLocaleString('en-US')} before)` : '')
      : null;
    wasm.tv_prescan_done(pending.scene);
    if (scene) wasm.tv_scene_free(scene);
    scene = pending.scene;
    joined = pending.joined;
    pending = null;
    counters.lastSeq = seq;
    counters.snapshots++;
    const ns = Number(msg.ts_ns) || 0;
    clock.shownNs = 0;
    if (ns) setClock(ns, pageTime());
    hover.id = -1;
  }

  function onEvents(msg) {
    if (!scene) return; /* before any hello: nothing to apply them to */
    const list = msg.events || [];
    const slot = slotNow();
    let t = pageTime(), last = null;
    for (const ev of list) {
      const seq = Number(ev.seq) || 0;
      if (seq && seq <= counters.lastSeq) continue; /* already in the snapshot */
      let op = opIndex.get(ev.op);
      if (op === undefined) op = unknownOp;
      if (ev.lineage) addLineage(ev.lineage);
      const owner = ownerOfEvent(ev);
      if (colorBy === 'command') joinFamily(scene, joined, owner);
      writeEventStrings(typeof ev.path === 'string' ? ev.path : null,
        typeof ev.path2 === 'string' ? ev.path2 : null,
        colorBy === 'command' ? owner.name : typeof ev.comm === 'string' ? ev.comm : null);
      const ts = Number(ev.ts_ns) || 0;
      if (wasm.tv_apply(scene, op, KINDS[ev.kind] || 0, ev.result | 0, ev.pid | 0, ts, t,
                        eventPtrs.path, eventPtrs.path2, eventPtrs.comm) !== 0)
        throw new Error('out of memory');
      if (seq) counters.lastSeq = seq;
      counters.events++;
      countEvent(ev, owner, slot);
      if (session.mode === 'live') countBusy(ev);
      last = ev;
    }
    if (last) {
      counters.lastEventNs = Number(last.ts_ns) || null;
      /* How late the newest event arrived: measured on arrival, so that a
       * quiet mount does not look like a lagging page. */
      if (counters.lastEventNs) counters.lagMs = Date.now() - counters.lastEventNs / 1e6;
      if (counters.lastEventNs) setClock(counters.lastEventNs, t);
    }
  }

  function onState(msg) {
    if (session.playing !== !!msg.playing) aliveCache = null; /* counted under the other clock */
    session.playing = !!msg.playing;
    session.ended = !!msg.ended;
    if (Number(msg.speed) > 0) session.speed = Number(msg.speed);
    const ns = Number(msg.position_ns);
    if (ns) {
      clock.shownNs = 0; /* a seek may move it back */
      setClock(ns, pageTime());
    }
    const select = $('speed');
    if (![...select.options].some((o) => Number(o.value) === session.speed)) {
      select.add(new Option(`${session.speed}×`, String(session.speed)));
    }
    select.value = [...select.options].find((o) => Number(o.value) === session.speed).value;
    updatePlayButtons();
  }

  function onMessage(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch (e) {
      session.error = `bad message from the server: ${e.message}`;
      return;
    }
    switch (msg.type) {
    case 'hello': onHello(msg); break;
    case 'timeline': onTimeline(msg, raw); break;
    case 'phases': onPhases(msg); break;
    case 'snapshot': onSnapshot(msg); break;
    case 'events': onEvents(msg); break;
    case 'missed': /* a snapshot follows */
      counters.missed += Number(msg.count) || 0;
      showStatus();
      break;
    case 'state': onState(msg); break;
    case 'progress': /* serve reading the trace before its first replay */
      session.progress = {done: Number(msg.done) || 0, total: Number(msg.total) || 0};
      showStatus();
      break;
    case 'error': session.error = String(msg.message); session.progress = null; showStatus(); break;
    default: break; /* pong, and whatever a newer server adds */
    }
  }

  function connect() {
    reconnectTimer = 0;
    session.error = null;
    let socket;
    try {
      socket = new WebSocket(WS_URL);
    } catch (e) {
      session.error = e.message;
      scheduleReconnect();
      return;
    }
    ws = socket;
    socket.onopen = () => {
      session.connected = true;
      showStatus();
    };
    socket.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      const t0 = performance.now();
      try {
        onMessage(e.data);
        busy.messageMs += performance.now() - t0;
        busy.messages++;
      } catch (err) {
        session.error = err.message;
        showStatus();
      }
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      /* Never in, and no token: the server wants the one in the address it printed. */
      session.refused = !TOKEN && !session.mode && !session.progress;
      session.connected = false;
      session.playing = false;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    showStatus();
    if (reconnectTimer) return;
    reconnectTimer = setTimeout(connect, reconnectMs);
    reconnectMs = Math.min(reconnectMs * 2, RECONNECT_MAX_MS);
  }

  function showStatus() {
    let text, cls;
    if (!session.connected && session.mode) {
      text = 'connection lost — reconnecting…';
      cls = 'lost';
    } else if (!session.connected && session.refused) {
      text = 'not let in: open the address tracefs printed, with its ?token=…';
      cls = 'lost';
    } else if (!session.connected) {
      text = `connecting to ${WS_URL.split('?')[0]}…`;
      cls = 'connecting';
    } else if (session.progress) { /* cleared by hello: waiting (also for a restarted serve) */
      const {done, total} = session.progress;
      text = 'reading the trace once, for seeking: ' + (total > 0
        ? `${Math.min(100, Math.floor(done * 100 / total))}% of ${total.toLocaleString('en-US')} events`
        : 'starting') + '…';
      cls = 'connecting';
    } else if (!session.mode) {
      text = 'connected';
      cls = 'connecting';
    } else {
      const where = session.mode === 'live' && session.mountpoint
        ? `${session.source} → ${session.mountpoint}` : session.source;
      text = `${session.mode}${where ? ' · ' + where : ''}`;
      cls = session.mode;
    }
    if (counters.missed) text += ` · ${counters.missed.toLocaleString('en-US')} events missed`;
    if (session.error && session.connected) text += ` · error: ${session.error}`;
    statusEl.textContent = text;
    statusEl.className = cls;
  }

  /* ---- replay controls ---- */

  function updatePlayButtons() {
    $('play').disabled = session.playing && !session.ended;
    $('pause').disabled = !session.playing || session.ended;
  }

  $('play').onclick = () => send({cmd: 'play'});
  $('pause').onclick = () => send({cmd: 'pause'});
  $('speed').onchange = (e) => send({cmd: 'speed', value: Number(e.target.value)});
  $('color-by').onchange = (e) => {
    colorBy = COLOR_MODES.includes(e.target.value) ? e.target.value : 'kind';
    /* The scene is rebuilt with the new colouring from a fresh snapshot. */
    resetScene();
    send({cmd: 'snapshot'});
  };

  /* The exact ts_ns of fraction F of the timeline, as JSON digits. */
  function seekTo(f) {
    const tl = session.timeline;
    if (!tl) return;
    f = Math.min(1, Math.max(0, f));
    const span = tl.lastNs - tl.firstNs;
    const ns = tl.firstNs + BigInt(Math.round(f * Number(span)));
    if (ns === lastSeekNs) return; /* the release of a click: no second snapshot */
    lastSeekNs = ns;
    send(`{"cmd":"seek","ts_ns":${ns}}`);
    clock.shownNs = 0;
    setClock(Number(ns), pageTime());
  }

  let seeking = false, lastSeekMs = 0, lastSeekNs = null;
  function timelineFraction(e) {
    /* From the first pixel to the last, so that a click on the last one seeks to the very end. */
    const r = timelineCanvas.getBoundingClientRect();
    return (e.clientX - r.left) / Math.max(1, r.width - 1);
  }
  timelineCanvas.addEventListener('pointerdown', (e) => {
    seeking = true;
    timelineCanvas.setPointerCapture(e.pointerId);
    lastSeekNs = null;
    seekTo(timelineFraction(e));
    lastSeekMs = performance.now();
  });
  timelineCanvas.addEventListener('pointermove', (e) => {
    if (!seeking || performance.now() - lastSeekMs < 100) return; /* a seek costs a snapshot */
    seekTo(timelineFraction(e));
    lastSeekMs = performance.now();
  });
  timelineCanvas.addEventListener('pointerup', (e) => {
    if (!seeking) return;
    seeking = false;
    seekTo(timelineFraction(e));
  });

  /*
   * The timeline: activity (events per slice, square root so that a quiet
   * stretch still shows beside a burst) over a time axis, with the run's
   * phases as bands on top, and the position. Redrawn only when what it
   * shows changes. What was drawn last is kept for the tests (timelineShown).
   */
  const AXIS_STEPS_S = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
    1800, 3600, 7200, 14400, 43200, 86400];
  const PHASE_COLORS = ['#1d4f91', '#5b3a94', '#7d5a00', '#1f6b34', '#8c1d24', '#155e63'];
  let timelineDrawn = '', timelineShown = {ticks: [], phases: []};

  /* "+1:05", "+12.5 s", "+0.25 s": trace time from the first event, at the tick's precision. */
  function axisLabel(seconds, step) {
    if (step >= 60 || seconds >= 60) {
      const m = Math.floor(seconds / 60), sec = seconds - 60 * m;
      const h = Math.floor(m / 60);
      const ss = String(Math.round(sec)).padStart(2, '0');
      return h ? `${h}:${String(m % 60).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
    }
    const digits = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
    return `${seconds.toFixed(digits)} s`;
  }

  function drawTimeline() {
    const tl = session.timeline;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(timelineCanvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(timelineCanvas.clientHeight * dpr));
    const span = tl ? tl.last - tl.first : 0;
    const f = span > 0 ? Math.min(1, Math.max(0, (clock.shownNs - tl.first) / span)) : 0;
    const x = Math.round(f * (w - 2)) + 1;
    const key = `${w} ${h} ${x} ${tl && tl.first} ${tl && tl.last} ${tl && tl.buckets.length} ${session.phases.length}`;
    if (key === timelineDrawn) return;
    timelineDrawn = key;
    if (timelineCanvas.width !== w || timelineCanvas.height !== h) {
      timelineCanvas.width = w;
      timelineCanvas.height = h;
    }
    tctx.fillStyle = '#0b0f17';
    tctx.fillRect(0, 0, w, h);
    const shown = {ticks: [], phases: []};
    timelineShown = shown;
    if (!tl) return;
    const font = 10 * dpr, band = Math.round(14 * dpr), axis = Math.round(14 * dpr);
    const xOf = (ns) => span > 0 ? (ns - tl.first) / span * (w - 1) : 0;

    /* phases: a band each, named when there is room */
    tctx.font = `${font}px "DejaVu Sans", sans-serif`;
    tctx.textBaseline = 'middle';
    session.phases.forEach((p, i) => {
      const x0 = Math.max(0, Math.floor(xOf(p.start))), x1 = Math.min(w, Math.max(x0 + 2, Math.ceil(xOf(p.end))));
      tctx.fillStyle = PHASE_COLORS[i % PHASE_COLORS.length];
      tctx.fillRect(x0, 0, x1 - x0, band);
      tctx.globalAlpha = 0.5;
      tctx.fillRect(x0, band, 1, h - band - axis); /* where it starts, across the activity */
      tctx.globalAlpha = 1;
      let name = p.name;
      const room = x1 - x0 - 6 * dpr;
      while (name.length > 1 && tctx.measureText(name).width > room) name = name.slice(0, -2) + '…';
      if (tctx.measureText(name).width <= room) {
        tctx.fillStyle = '#e6edf3';
        tctx.fillText(name, x0 + 3 * dpr, band / 2);
      } else {
        name = '';
      }
      shown.phases.push({name: p.name, label: name, x0: x0 / dpr, x1: x1 / dpr});
    });

    /* activity */
    const buckets = tl.buckets, n = buckets.length, top = band + 2 * dpr, bottom = h - axis;
    const max = buckets.reduce((a, b) => Math.max(a, b), 0);
    tctx.fillStyle = '#3fb950';
    for (let i = 0; i < n && max > 0; i++) {
      if (!buckets[i]) continue;
      const bh = Math.max(1, Math.sqrt(buckets[i] / max) * (bottom - top));
      const x0 = Math.floor(i * w / n), x1 = Math.max(x0 + 1, Math.floor((i + 1) * w / n));
      tctx.fillRect(x0, bottom - bh, x1 - x0, bh);
    }

    /* the axis: ticks at least 70 px apart, labelled with the time since the first event */
    tctx.fillStyle = '#30363d';
    tctx.fillRect(0, bottom, w, 1);
    const seconds = span / 1e9;
    const step = AXIS_STEPS_S.find((st) => seconds / st * 70 * dpr <= w) || AXIS_STEPS_S[AXIS_STEPS_S.length - 1];
    tctx.textBaseline = 'top';
    for (let k = 0; seconds > 0 && k * step <= seconds + 1e-9; k++) {
      const tx = Math.round(k * step / seconds * (w - 1));
      const label = axisLabel(k * step, step);
      tctx.fillStyle = '#6e7681';
      tctx.fillRect(tx, bottom, 1, axis);
      /* the label right of its tick, or left of it at the right end */
      const lw = tctx.measureText(label).width;
      const lx = tx + 3 * dpr + lw <= w ? tx + 3 * dpr : tx - 3 * dpr - lw;
      tctx.fillStyle = '#8b949e';
      tctx.fillText(label, lx, bottom + 2 * dpr);
      shown.ticks.push({x: tx / dpr, label});
    }

    tctx.fillStyle = '#f85149';
    tctx.fillRect(x - 1, 0, 2 * dpr, h);
  }

  /* ---- pan, zoom, hover, pins ---- */

  const viewSize = {w: 1280, h: 720, dpr: 1};
  const pan = {x: 0, y: 0, zoom: 1};
  const hover = {id: -1, path: null, x: -1e9, y: -1e9}; /* pointer in canvas pixels */
  const pinned = new Set(); /* paths whose label stays */
  let drag = null;

  function toFrame(cx, cy) {
    return {x: (cx - pan.x) / pan.zoom, y: (cy - pan.y) / pan.zoom};
  }

  view.addEventListener('pointerdown', (e) => {
    drag = {x: e.offsetX, y: e.offsetY, panX: pan.x, panY: pan.y, moved: false};
    view.setPointerCapture(e.pointerId);
  });
  view.addEventListener('pointermove', (e) => {
    hover.x = e.offsetX;
    hover.y = e.offsetY;
    if (!drag) return;
    const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      view.classList.add('dragging');
      pan.x = drag.panX + dx;
      pan.y = drag.panY + dy;
    }
  });
  view.addEventListener('pointerup', (e) => {
    /* the node under the click itself: a quick click may come before any frame updated hover */
    const id = drag && !drag.moved && scene ? nodeAt(e.offsetX, e.offsetY) : -1;
    const path = id >= 0 ? cString(wasm.tv_path_of(scene, id)) : null;
    if (path) {
      if (pinned.has(path)) pinned.delete(path);
      else pinned.add(path);
    }
    drag = null;
    view.classList.remove('dragging');
  });
  view.addEventListener('pointerleave', () => {
    hover.x = hover.y = -1e9;
  });
  view.addEventListener('wheel', (e) => {
    e.preventDefault();
    const zoom = Math.min(64, Math.max(0.25, pan.zoom * Math.exp(-e.deltaY * 0.0015)));
    /* the point under the cursor stays put */
    const p = toFrame(e.offsetX, e.offsetY);
    pan.x = e.offsetX - p.x * zoom;
    pan.y = e.offsetY - p.y * zoom;
    pan.zoom = zoom;
  }, {passive: false});
  view.addEventListener('dblclick', () => {
    pan.x = pan.y = 0;
    pan.zoom = 1;
  });

  /* ---- drawing a frame (mirrors viz/draw.c) ---- */

  /* The frame buffer's layout: see tv_frame() in viz_wasm.c. */
  const H = {WIDTH: 0, HEIGHT: 1, BACKGROUND: 2, FONT_SIZE: 3, EDGES: 4, NODES: 5, GLOWS: 6,
    LABELS: 7, PROCESSES: 8, LEGEND: 9, CLOCK: 10, ELAPSED: 11, STATUS: 12, LAST_EVENT: 13,
    LEGEND_TITLE: 14, CAPTION: 15, LAYER: 16, LAYER_X0: 17, LAYER_Y0: 18, LAYER_X1: 19, LAYER_Y1: 20,
    WORDS: 21};
  const EDGE_WORDS = 6, NODE_WORDS = 6, GLOW_WORDS = 4, LABEL_WORDS = 16, PROCESS_WORDS = 3,
    LEGEND_WORDS = 2;
  const GLOW_STEPS = 8, TAU = 2 * Math.PI;
  const STAMPED = 0x200; /* in a node's kind word: the model stamped it into the layer */
  const GLOW_REACH = [3.2, 2.3, 1.6], GLOW_ALPHA = [0.07, 0.11, 0.16], GLOW_CAP = [16, 10, 5];
  const SANS = '"DejaVu Sans", sans-serif', MONO = '"DejaVu Sans Mono", monospace';

  /*
   * What the canvas was asked to draw in the last frame, for the tests: the
   * shapes in the tree's paths (edges, and the dots and halos not stamped)
   * and the fills and strokes of those paths (and of the stamped layer).
   */
  const drawn = {edges: 0, dots: 0, halos: 0, fills: 0};

  /* Sections of the last frame, as word indices into the wasm memory. */
  const frame = {ok: false, nodes: 0, nodeCount: 0, labels: 0, labelCount: 0, background: 0, caption: null};

  const styles = new Map(); /* 0xRRGGBBAA -> CSS colour */
  function rgbaStyle(key) {
    let s = styles.get(key);
    if (s === undefined) {
      if (styles.size > 4096) styles.clear();
      s = `rgba(${key >>> 24},${(key >>> 16) & 255},${(key >>> 8) & 255},${(key & 255) / 255})`;
      styles.set(key, s);
    }
    return s;
  }
  function rgbAlpha(key, alpha) {
    return `rgba(${key >>> 24},${(key >>> 16) & 255},${(key >>> 8) & 255},${alpha})`;
  }

  const fontMetrics = new Map(); /* font -> (ascent - descent) / 2, cairo's centring */
  function setFont(font) {
    ctx.font = font;
    let m = fontMetrics.get(font);
    if (m === undefined) {
      const tm = ctx.measureText('Hg');
      m = (tm.fontBoundingBoxAscent - tm.fontBoundingBoxDescent) / 2;
      fontMetrics.set(font, m);
    }
    return m;
  }

  /* Text centred on Y, with the dark halo of draw.c's halo_text(). */
  const HALO = [[-0.7, -0.7], [0.7, -0.7], [-0.7, 0.7], [0.7, 0.7]];
  /* MAX_WIDTH: squeeze the text into that many pixels (canvas draws nothing given Infinity). */
  function haloText(x, y, text, style, alpha, size, face, bold, maxWidth) {
    const baseline = y + setFont(`${bold ? 'bold ' : ''}${size}px ${face}`);
    const spread = 0.12 * size;
    const fill = maxWidth > 0 ? (tx, ty) => ctx.fillText(text, tx, ty, maxWidth) : (tx, ty) => ctx.fillText(text, tx, ty);
    ctx.fillStyle = rgbAlpha(frame.background, 0.6 * alpha);
    for (const [dx, dy] of HALO) fill(x + dx * spread, baseline + dy * spread);
    ctx.fillStyle = style;
    fill(x, baseline);
  }

  function textWidth(text, size, face) {
    setFont(`${size}px ${face}`);
    return ctx.measureText(text).width;
  }

  function drawEdges(start, count) {
    ctx.lineCap = 'butt';
    for (let i = 0; i < count;) {
      const first = start + i * EDGE_WORDS, key = u32[first + 5], width = f32[first + 4];
      ctx.beginPath();
      for (; i < count; i++) {
        const w = start + i * EDGE_WORDS;
        if (u32[w + 5] !== key || f32[w + 4] !== width) break;
        ctx.moveTo(f32[w], f32[w + 1]);
        ctx.lineTo(f32[w + 2], f32[w + 3]);
        drawn.edges++;
      }
      ctx.lineWidth = width / pan.zoom; /* lines stay thin when zoomed in */
      ctx.strokeStyle = rgbaStyle(key);
      ctx.stroke();
      drawn.fills++;
    }
  }

  function drawGlows(start, count, ui) {
    for (let ring = 0; ring < 3; ring++) {
      for (let i = 0; i < count;) {
        const key = u32[start + i * GLOW_WORDS + 3];
        ctx.beginPath();
        for (; i < count && u32[start + i * GLOW_WORDS + 3] === key; i++) {
          const w = start + i * GLOW_WORDS, x = f32[w], y = f32[w + 1], r = f32[w + 2];
          /* a big node's halo stays a rim, not a blot */
          const extra = Math.min(r * (GLOW_REACH[ring] - 1), GLOW_CAP[ring] * ui);
          const radius = r + extra + (3 - ring) * 1.5 * ui;
          ctx.moveTo(x + radius, y);
          ctx.arc(x, y, radius, 0, TAU);
          drawn.halos++;
        }
        ctx.fillStyle = rgbAlpha(key >>> 8 << 8, GLOW_ALPHA[ring] * (key & 255) / GLOW_STEPS);
        ctx.fill();
        drawn.fills++;
      }
    }
  }

  /*
   * The layer the model stamped the small nodes and their halos into (see
   * tv_frame()), in canvas pixels: its changed part goes through a canvas
   * of its own so that it is laid over the edges rather than replacing them.
   */
  const layerCanvas = document.createElement('canvas'), layerCtx = layerCanvas.getContext('2d');
  let layerImage = null;
  function drawLayer(f) {
    const x0 = u32[f + H.LAYER_X0], y0 = u32[f + H.LAYER_Y0];
    const w = u32[f + H.LAYER_X1] - x0, h = u32[f + H.LAYER_Y1] - y0;
    if (w <= 0 || h <= 0) return;
    const ptr = u32[f + H.LAYER], width = view.width, height = view.height;
    if (!layerImage || layerImage.data.buffer !== memBuffer || layerImage.data.byteOffset !== ptr ||
        layerImage.width !== width || layerImage.height !== height) {
      layerImage = new ImageData(new Uint8ClampedArray(memBuffer, ptr, width * height * 4), width, height);
      layerCanvas.width = width;
      layerCanvas.height = height;
    }
    layerCtx.putImageData(layerImage, 0, 0, x0, y0, w, h);
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(layerCanvas, x0, y0, w, h, x0, y0, w, h);
    ctx.restore();
    drawn.fills++;
  }

  function drawNodes(start, count, ui) {
    for (let i = 0; i < count;) {
      const key = u32[start + i * NODE_WORDS + 3];
      ctx.beginPath();
      let any = false;
      for (; i < count && u32[start + i * NODE_WORDS + 3] === key; i++) {
        const w = start + i * NODE_WORDS;
        if (u32[w + 5] & STAMPED) continue;
        const x = f32[w], y = f32[w + 1], r = f32[w + 2];
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, TAU);
        any = true;
        drawn.dots++;
      }
      if (!any) continue;
      ctx.fillStyle = rgbaStyle(key);
      ctx.fill();
      drawn.fills++;
    }
    /* A collapsed subtree gets a faint ring, the size of what it hides. */
    ctx.beginPath();
    let any = false;
    for (let i = 0; i < count; i++) {
      const w = start + i * NODE_WORDS, r = f32[w + 2];
      if ((u32[w + 5] & 0x100) && r >= 1.5) {
        ctx.moveTo(f32[w] + r + 1, f32[w + 1]);
        ctx.arc(f32[w], f32[w + 1], r + 1, 0, TAU);
        any = true;
      }
    }
    if (any) {
      ctx.strokeStyle = 'rgba(204,219,242,0.35)';
      ctx.lineWidth = 0.8 * ui / pan.zoom;
      ctx.stroke();
    }
  }

  /* With a process chosen in the panel: the rest dimmed, its nodes drawn again on top, ringed. */
  const HIGHLIGHT_MAX = 5000; /* nodes looked up per frame */
  function drawHighlight(start, count, width, height, ui) {
    if (!highlight) return;
    const ids = new Set();
    for (const path of highlight.paths) {
      if (ids.size >= HIGHLIGHT_MAX) break;
      const found = findNode(path);
      if (found) ids.add(found.id);
    }
    ctx.save();
    ctx.setTransform(viewSize.dpr, 0, 0, viewSize.dpr, 0, 0);
    ctx.fillStyle = rgbAlpha(frame.background, 0.75);
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
    views();
    ctx.lineWidth = 1.5 * ui / pan.zoom;
    ctx.strokeStyle = 'rgb(255,247,242)';
    for (let i = 0; i < count; i++) {
      const w = start + i * NODE_WORDS;
      if (!ids.has(u32[w + 4])) continue;
      const x = f32[w], y = f32[w + 1], r = Math.max(f32[w + 2], 2 * ui / pan.zoom);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, TAU);
      ctx.fillStyle = rgbaStyle(u32[w + 3]);
      ctx.fill();
      ctx.beginPath();
      ctx.arc(x, y, r + 2 * ui / pan.zoom, 0, TAU);
      ctx.stroke();
    }
    highlightShown = ids.size;
  }
  let highlightShown = 0; /* nodes the last frame highlighted, for the tests */

  /*
   * Labels keep their size when zoomed: each is placed at the zoomed right
   * edge of its node (x - 0.35 size in the frame) and drawn unscaled.
   */
  function labelX(x, size) {
    return (x - 0.35 * size) * pan.zoom + pan.x + 0.35 * size;
  }

  /*
   * Boxes of what is drawn over the picture (clock, process list, legend,
   * footer, labels), in canvas pixels: a label that would meet one is not
   * drawn, so that no text sits on other text.
   */
  const taken = [];
  function textBox(x, y, width, size) {
    return {x0: x, y0: y - 0.6 * size, x1: x + width, y1: y + 0.6 * size};
  }
  function isFree(box) {
    for (const t of taken) {
      if (box.x1 > t.x0 && box.x0 < t.x1 && box.y1 > t.y0 && box.y0 < t.y1) return false;
    }
    return true;
  }

  /*
   * The model's labels as render/draw.c paints them: its plate box, the
   * leader to the node where it has one, the text inside the box, at the
   * model's size (larger, they would meet). Zoomed or panned, each moves
   * with its node's edge and keeps its size.
   */
  function drawLabels(start, count, ui) {
    for (let i = 0; i < count; i++) {
      const w = start + i * LABEL_WORDS, size = f32[w + 2], key = u32[w + 3];
      const text = decoder.decode(u8.subarray(u32[w + 4], u32[w + 4] + u32[w + 5])) +
        (u32[w + 6] ? '…' : '');
      const mx = f32[w], my = f32[w + 1];
      const x = labelX(mx, size), y = my * pan.zoom + pan.y;
      const model = {x0: f32[w + 8], y0: f32[w + 9], x1: f32[w + 10], y1: f32[w + 11]};
      const box = {x0: x + model.x0 - mx, y0: y + model.y0 - my, x1: x + model.x1 - mx, y1: y + model.y1 - my};
      if (!isFree(box)) continue;
      taken.push(box);
      const alpha = (key & 255) / 255;
      let leader = null;
      if (u32[w + 13]) { /* whose label it is, in a dense tree */
        const lx = f32[w + 14], ly = f32[w + 15];
        leader = {x: lx * pan.zoom + pan.x, y: ly * pan.zoom + pan.y, toX: lx < mx ? box.x0 : box.x1, toY: y};
        ctx.beginPath();
        ctx.moveTo(leader.x, leader.y);
        ctx.lineTo(leader.toX, leader.toY);
        ctx.strokeStyle = rgbAlpha(key, 0.8 * alpha);
        ctx.lineWidth = ui;
        ctx.stroke();
      }
      const plate = f32[w + 7];
      if (plate > 0) { /* a quiet directory's name over its files' dots */
        ctx.fillStyle = rgbAlpha(frame.background, plate);
        ctx.fillRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
      }
      /* the model measured DejaVu Sans; another font is squeezed into the box */
      haloText(x, y, text, rgbaStyle(key), alpha, size, SANS, false, box.x1 - box.x0 - 0.4 * size);
      labelsShown.push({id: labelNode(start, i), text, box, model, leader});
    }
  }
  let labelsShown = []; /* the model's labels the last frame drew, and where, for the tests */

  /* The node the model's label I (of those at LABELS) names. */
  function labelNode(labels, i) {
    return u32[labels + i * LABEL_WORDS + 12];
  }

  /* Whether the model labelled node ID. */
  function labelled(id, labels, count) {
    for (let i = 0; i < count; i++) {
      if (labelNode(labels, i) === id) return true;
    }
    return false;
  }

  /* Pinned nodes keep a label (a flashing one's look) while they are in view. */
  function drawPins(ui, labels, labelCount) {
    if (!pinned.size) return;
    const ids = new Map();
    for (const path of pinned) {
      const found = findNode(path);
      if (found && !found.dying) ids.set(found.id, path);
    }
    const size = Math.max(14 * ui, MIN_TEXT_PX);
    for (let i = 0; i < frame.nodeCount && ids.size; i++) {
      const w = frame.nodes + i * NODE_WORDS, path = ids.get(u32[w + 4]);
      if (path === undefined) continue;
      ids.delete(u32[w + 4]);
      const x = f32[w], y = f32[w + 1], r = f32[w + 2];
      if (labelled(u32[w + 4], labels, labelCount)) continue;
      const name = path === '/' ? rootLabel || '/' : path.slice(path.lastIndexOf('/') + 1);
      /* right of the node, else left, above or below: wherever no other text is */
      const cx = x * pan.zoom + pan.x, cy = y * pan.zoom + pan.y, cr = r * pan.zoom;
      const tw = textWidth(name, size, SANS), gap = 0.35 * size;
      for (const [lx, ly] of [[cx + cr + gap, cy], [cx - cr - gap - tw, cy],
        [cx - tw / 2, cy - cr - 0.8 * size], [cx - tw / 2, cy + cr + 0.8 * size]]) {
        const box = textBox(lx, ly, tw, size);
        if (!isFree(box)) continue;
        taken.push(box);
        haloText(lx, ly, name, 'rgb(255,247,242)', 1, size, SANS, false);
        pinsShown.push({path, ...box});
        break;
      }
    }
  }
  let pinsShown = []; /* where pinned labels went in the last frame, for the tests */

  const BRIGHT = 'rgb(237,242,250)', DIM = 'rgb(153,168,189)';
  const MIN_TEXT_PX = 11;

  function drawClock(f, size) {
    const x = size * 1.2;
    let y = size * 1.6;
    const elapsed = cString(u32[f + H.ELAPSED]), clockText = cString(u32[f + H.CLOCK]);
    haloText(x, y, elapsed, BRIGHT, 1, size * 1.6, MONO, true);
    taken.push(textBox(x, y, textWidth(elapsed, size * 1.6, MONO) * 1.1, size * 1.6));
    y += size * 1.7;
    haloText(x, y, clockText, DIM, 1, size * 0.9, MONO, false);
    taken.push(textBox(x, y, textWidth(clockText, size * 0.9, MONO), size * 0.9));
    /* the caption (the phase, or the busiest command), as viz/draw.c draws it */
    const caption = cString(u32[f + H.CAPTION]);
    frame.caption = caption;
    if (caption) {
      y += size * 1.8;
      haloText(x, y, caption, 'rgb(255,214,115)', 1, size * 1.25, SANS, true);
      taken.push(textBox(x, y, textWidth(caption, size * 1.25, SANS) * 1.1, size * 1.25));
    }
  }

  function drawProcesses(start, count, width, size) {
    const right = width - size * 1.2;
    let y = size * 1.6;
    for (let i = 0; i < count; i++) {
      const w = start + i * PROCESS_WORDS, name = cString(u32[w]);
      const alpha = 0.35 + 0.65 * f32[w + 2];
      const tw = textWidth(name, size, SANS);
      haloText(right - tw, y, name, `rgba(237,242,250,${alpha})`, alpha, size, SANS, false);
      if (u32[w + 1] & 255) { /* the process's colour, when the nodes have it */
        ctx.beginPath();
        ctx.arc(right - tw - size * 0.7, y, size * 0.32, 0, TAU);
        ctx.fillStyle = rgbAlpha(u32[w + 1], alpha);
        ctx.fill();
      }
      taken.push(textBox(right - tw - size * 1.1, y, tw + size * 1.1, size));
      y += size * 1.45;
    }
  }

  function drawFooter(f, start, count, width, height, fontSize) {
    const size = fontSize * 0.9, text = 'rgb(204,214,230)', dim = 'rgb(140,153,173)';
    let x = size * 1.3, y = height - size * 1.6;
    const x0 = x, title = cString(u32[f + H.LEGEND_TITLE]);
    if (title) {
      haloText(x, y, title, dim, 1, size, SANS, false);
      x += textWidth(title, size, SANS) + size;
    }
    for (let i = 0; i < count; i++) {
      const w = start + i * LEGEND_WORDS, label = cString(u32[w]);
      ctx.beginPath();
      ctx.arc(x + size * 0.4, y, size * 0.4, 0, TAU);
      ctx.fillStyle = rgbaStyle(u32[w + 1]);
      ctx.fill();
      x += size * 1.2;
      haloText(x, y, label, text, 1, size, SANS, false);
      x += textWidth(label, size, SANS) + size * 1.1;
    }
    taken.push(textBox(x0, y, x - x0, size));
    const right = width - size * 1.3, status = cString(u32[f + H.STATUS]);
    const sw = textWidth(status, size, SANS);
    if (x + size > right - sw) y -= size * 1.5; /* a narrow picture: above the legend */
    haloText(right - sw, y, status, dim, 1, size, SANS, false);
    taken.push(textBox(right - sw, y, sw, size));
    const last = cString(u32[f + H.LAST_EVENT]);
    y -= size * 1.5;
    /* a long path keeps its end, which says the most */
    const lw = Math.min(textWidth(last, size, MONO), width - 2 * size * 1.3);
    ctx.save();
    ctx.beginPath();
    ctx.rect(right - lw, y - size, lw, 2 * size);
    ctx.clip();
    haloText(right - textWidth(last, size, MONO), y, last, text, 1, size, MONO, false);
    ctx.restore();
    taken.push(textBox(right - lw, y, lw, size));
  }

  function drawFrame(ptr) {
    views();
    const f = ptr >>> 2;
    const width = u32[f + H.WIDTH], height = u32[f + H.HEIGHT], ui = height / 720;
    /* The model scales text with the picture's height; in a small window it stays readable. */
    const fontSize = Math.max(f32[f + H.FONT_SIZE], MIN_TEXT_PX);
    const edgeCount = u32[f + H.EDGES], nodeCount = u32[f + H.NODES], glowCount = u32[f + H.GLOWS];
    const labelCount = u32[f + H.LABELS], processCount = u32[f + H.PROCESSES];
    const legendCount = u32[f + H.LEGEND];
    const edges = f + H.WORDS, nodes = edges + edgeCount * EDGE_WORDS;
    const glows = nodes + nodeCount * NODE_WORDS, labels = glows + glowCount * GLOW_WORDS;
    const processes = labels + labelCount * LABEL_WORDS;
    const legend = processes + processCount * PROCESS_WORDS;
    Object.assign(frame, {ok: true, nodes, nodeCount, labels, labelCount, background: u32[f + H.BACKGROUND]});

    const dpr = viewSize.dpr;
    drawn.edges = drawn.dots = drawn.halos = drawn.fills = 0;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = rgbaStyle((frame.background | 255) >>> 0);
    ctx.fillRect(0, 0, width, height);
    ctx.setTransform(dpr * pan.zoom, 0, 0, dpr * pan.zoom, dpr * pan.x, dpr * pan.y);
    drawEdges(edges, edgeCount);
    drawLayer(f);
    drawGlows(glows, glowCount, ui);
    drawNodes(nodes, nodeCount, ui);
    drawHighlight(nodes, nodeCount, width, height, ui);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    taken.length = 0;
    pinsShown = [];
    labelsShown = [];
    drawClock(f, fontSize);
    drawProcesses(processes, processCount, width, fontSize);
    drawFooter(f, legend, legendCount, width, height, fontSize);
    drawLabels(labels, labelCount, ui);
    drawPins(ui, labels, labelCount);
  }

  /* The node under the pointer in the last frame: its id, or -1. */
  function nodeAt(cx, cy) {
    if (!frame.ok) return -1;
    views();
    const p = toFrame(cx, cy), slack = 4 / pan.zoom;
    let best = -1, bestD = Infinity;
    for (let i = 0; i < frame.nodeCount; i++) {
      const w = frame.nodes + i * NODE_WORDS;
      const dx = f32[w] - p.x, dy = f32[w + 1] - p.y, r = f32[w + 2];
      const d = Math.sqrt(dx * dx + dy * dy);
      if (d <= r + slack && d - r < bestD) {
        bestD = d - r;
        best = u32[w + 4];
      }
    }
    return best;
  }

  function findNode(path) {
    if (!scene) return null;
    const found = wasm.tv_find(scene, writeString(path));
    if (!found) return null;
    views();
    const w = found >>> 2;
    const c = u32[w + 3];
    return {id: u32[w], kind: KIND_NAMES[u32[w + 1]] || null, dying: !!u32[w + 2],
      color: [c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255, c & 255], flash: f32[w + 4]};
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'})[c]);
  }

  function commandsHtml(entry) {
    if (!entry) return '';
    const list = (what, names) => names.length ?
      `<div class="commands"><span class="what">${what}</span> ${names.map((n) => `<div class="command">${escapeHtml(n)}</div>`).join('')}</div>` : '';
    return list('written by', entry.wrote) + list('read by', entry.read) +
      (entry.more ? `<div class="commands">and ${entry.more} more</div>` : '');
  }

  function updateHover() {
    const id = (drag && drag.moved) || hover.x < -1e8 ? -1 : nodeAt(hover.x, hover.y);
    if (id !== hover.id) {
      hover.id = id;
      hover.path = id >= 0 ? cString(wasm.tv_path_of(scene, id)) : null;
    }
    if (!hover.path) {
      tooltip.hidden = true;
      return;
    }
    const node = findNode(hover.path), stats = pathStats.get(hover.path) || 0;
    const html = `<div class="path">${escapeHtml(hover.path)}</div>` +
      `${node ? KIND_TEXT[node.kind] || 'unknown kind' : 'gone'}${node && node.dying ? ' (removed)' : ''}` +
      ` · ${stats % ERRORS_UNIT} accesses · ${Math.floor(stats / ERRORS_UNIT)} errors` +
      `${pinned.has(hover.path) ? ' · pinned' : ''}` + commandsHtml(pathCommands.get(hover.path));
    if (html !== tooltip.innerHTML) tooltip.innerHTML = html;
    tooltip.hidden = false;
    const stage = view.parentElement;
    tooltip.style.left = `${Math.min(hover.x + 14, stage.clientWidth - tooltip.offsetWidth - 4)}px`;
    tooltip.style.top = `${Math.min(hover.y + 14, stage.clientHeight - tooltip.offsetHeight - 4)}px`;
  }

  /* ---- the side panel ---- */

  /* Counting walks the whole tree: state() polled every few ms reuses a count 100 ms long. */
  let aliveCache = null, aliveAt = 0, aliveScene = 0;
  function alive() {
    const now = performance.now();
    if (aliveCache && aliveScene === scene && now - aliveAt < 100) return aliveCache;
    const counts = {total: 0, dir: 0, file: 0, symlink: 0, other: 0, dying: 0, flashing: 0};
    if (!scene) return counts;
    const ptr = wasm.tv_count(scene);
    if (!ptr) return counts;
    views();
    const w = ptr >>> 2;
    ['total', 'dir', 'file', 'symlink', 'other', 'dying', 'flashing'].forEach((k, i) => { counts[k] = u32[w + i]; });
    [aliveCache, aliveAt, aliveScene] = [counts, now, scene];
    return counts;
  }

  /* Table rows of [name, count, dot colour (CSS) or undefined], the first LIMIT. */
  function rows(entries, limit, clickable) {
    if (!entries.length) return '<tr><td class="none">none</td></tr>';
    return entries.slice(0, limit).map(([name, n, dot]) =>
      `<tr${clickable ? ` class="process${highlight && highlight.name === name ? ' chosen' : ''}" data-name="${escapeHtml(name)}"` : ''}><td>${dot ? `<span class="dot" style="background:${dot}"></span>` : ''}${escapeHtml(name)}</td>` +
      `<td class="n">${n.toLocaleString('en-US')}</td></tr>`).join('');
  }

  /* What the panel shows, for it and for the tests: the model's totals, named. */
  function panelData() {
    const stats = modelStats();
    const byCount = (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
    const ops = Object.entries(stats.ops).sort(byCount);
    const errors = Object.entries(stats.errnos).map(([e, n]) =>
      [e === '0' ? 'other errno' : ERRNO[e] || `errno ${e}`, n]).sort(byCount);
    /* A dot in the process's colour only where the picture uses it. */
    let processes = stats.processes.map((p) => [p.name, p.events,
      colorBy === 'process' || colorBy === 'command' ? rgbaStyle(p.rgba) : undefined]);
    if (colorBy === 'command') { /* a command with its family, in its colour */
      const commands = new Map();
      for (const [name, events, dot] of processes) {
        const command = familyOf.get(name) || name, row = commands.get(command);
        if (!row) commands.set(command, [command, events, command === name ? dot : undefined]);
        else {
          row[1] += events;
          if (command === name) row[2] = dot;
        }
      }
      processes = [...commands.values()];
    }
    processes.sort(byCount);
    return {events: stats.events, ops, errors, processes};
  }

  /* A click on a process in the panel highlights what it touched; again, or elsewhere, clears it.
   * On mousedown: the panel is redrawn often, a click's mouseup may land on a new row. */
  panel.addEventListener('mousedown', (e) => {
    const row = e.target.closest('tr.process');
    setHighlight(row ? row.dataset.name : null);
  });

  function updatePanel() {
    const tenth = Math.floor(performance.now() / 100);
    let rate = 0;
    for (const slot of slots) if (slot.stamp > tenth - WINDOW_SLOTS) rate += slot.events;
    const data = panelData();
    const a = alive(), lag = lagMs();
    const phase = currentPhase();
    panel.innerHTML =
      (phase ? `<h3>${session.mode === 'replay' ? 'phase' : 'busiest now'}</h3><div class="phase">${escapeHtml(phase)}</div>` : '') +
      `<h3>events</h3><table><tr><td>${session.mode === 'replay' ? 'up to now' : 'since the mount'}</td>` +
      `<td class="n">${data.events.toLocaleString('en-US')}</td></tr>` +
      `<tr><td>arriving per second</td><td class="n">${rate.toLocaleString('en-US')}</td></tr></table>` +
      '<h3>by operation</h3><table>' + rows(data.ops, 10) + '</table>' +
      `<h3>top ${colorBy === 'command' ? 'commands' : 'processes'}</h3>` +
      (colorBy === 'command' && commandsCounted ? `<div class="none">events counted ${commandsCounted}</div>` : '') +
      '<table>' + rows(data.processes, 8, true) + '</table>' +
      '<h3>errors</h3><table>' + rows(data.errors, 8) + '</table>' +
      '<h3>stream</h3><table>' +
      `<tr><td>events applied</td><td class="n">${counters.events.toLocaleString('en-US')}</td></tr>` +
      `<tr><td${counters.missed ? ' class="warn"' : ''}>missed</td><td class="n">${counters.missed.toLocaleString('en-US')}</td></tr>` +
      `<tr><td>snapshots</td><td class="n">${counters.snapshots}</td></tr>` +
      (lag === null ? '' : `<tr><td>lag</td><td class="n">${Math.round(lag)} ms</td></tr>`) +
      `<tr><td>frames/s</td><td class="n">${fps()}</td></tr></table>` +
      '<h3>nodes</h3><table>' +
      `<tr><td>alive</td><td class="n">${a.total}</td></tr>` +
      `<tr><td>directories</td><td class="n">${a.dir}</td></tr>` +
      `<tr><td>files</td><td class="n">${a.file}</td></tr>` +
      `<tr><td>symlinks</td><td class="n">${a.symlink}</td></tr>` +
      `<tr><td>other</td><td class="n">${a.other}</td></tr>` +
      `<tr><td>fading out</td><td class="n">${a.dying}</td></tr></table>` +
      (session.error ? `<h3>last error</h3><div class="warn">${escapeHtml(session.error)}</div>` : '') +
      '<h3>view</h3><div class="none">drag to pan · wheel to zoom · double-click to reset · click a node to pin its label</div>';
  }

  /* ---- the animation loop ---- */

  const frameTimes = [];
  function fps() {
    const now = performance.now();
    while (frameTimes.length && frameTimes[0] <= now - 1000) frameTimes.shift();
    return frameTimes.length;
  }

  function lagMs() {
    if (session.mode !== 'live' || counters.lagMs === null) return null;
    return counters.lagMs;
  }

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, view.clientWidth), h = Math.max(1, view.clientHeight);
    if (w === viewSize.w && h === viewSize.h && dpr === viewSize.dpr &&
        view.width === Math.round(w * dpr)) return;
    Object.assign(viewSize, {w, h, dpr});
    view.width = Math.round(w * dpr);
    view.height = Math.round(h * dpr);
    fontMetrics.clear();
    for (const s of [scene, pending && pending.scene]) if (s) wasm.tv_set_viewport(s, w, h);
  }

  /*
   * Frames give way to the stream, whose messages wait while a frame is
   * drawn. A frame that took long (thousands of flashing nodes in a
   * software canvas) is followed by as long without drawing; while events
   * pour in (over 10,000 a second) by twice as long, so that drawing takes
   * at most a third of the page's time and the rest goes to the events:
   * the picture then updates less often, but never falls behind.
   */
  const BUSY_EVENTS_PER_S = 10000;
  const BUSY_FRAME_MS = 1000 / 10;
  const busy = {messageMs: 0, messages: 0, drawMs: 0, modelMs: 0}; /* modelMs: of drawMs, in the model */
  let lastPanelMs = 0, lastCaptionMs = 0, nextFrameAt = 0;
  let rateAt = 0, rateEvents = 0, eventRate = 0;

  function measureEventRate(now) {
    if (now - rateAt < 250) return;
    eventRate = (counters.events - rateEvents) * 1000 / Math.max(1, now - rateAt);
    rateAt = now;
    rateEvents = counters.events;
  }

  function animate() {
    requestAnimationFrame(animate);
    const started = performance.now();
    if (started < nextFrameAt) return;
    measureEventRate(started);
    try {
      resize();
      if (scene) {
        const t = pageTime();
        /* Paused, the picture stays as it was (flashes, labels), the camera still eases. */
        if (session.mode === 'replay' && !session.playing && !session.ended) wasm.tv_hold(scene, t);
        else wasm.tv_advance(scene, t, traceNs(t));
        const dpr = viewSize.dpr;
        const ptr = wasm.tv_frame(scene, view.width, view.height, dpr * pan.zoom, dpr * pan.x, dpr * pan.y);
        busy.modelMs += performance.now() - started;
        if (!ptr) throw new Error('out of memory');
        drawFrame(ptr);
        updateHover();
      }
      if (session.mode === 'replay') drawTimeline();
      if (started - lastCaptionMs > 200) {
        lastCaptionMs = started;
        showCaption();
      }
      const ended = performance.now(), cost = ended - started;
      busy.drawMs += cost;
      frameTimes.push(ended);
      if (eventRate > BUSY_EVENTS_PER_S) nextFrameAt = ended + Math.max(2 * cost, BUSY_FRAME_MS);
      else if (cost > 50) nextFrameAt = ended + cost;
      if (ended - lastPanelMs > 500) {
        lastPanelMs = ended;
        updatePanel();
      }
    } catch (err) {
      session.error = err.message;
      showStatus();
    }
  }

  /* ---- the hooks the browser tests use ---- */

  window.tracefsView = {
    state() {
      const a = alive();
      return {
        connected: session.connected,
        mode: session.mode,
        alive: {total: a.total, dir: a.dir, file: a.file, symlink: a.symlink, other: a.other},
        dying: a.dying,
        flashing: a.flashing,
        events: counters.events,
        lastSeq: counters.lastSeq,
        missed: counters.missed,
        snapshots: counters.snapshots,
        playing: session.playing,
        speed: session.speed,
        positionNs: scene ? traceNs(pageTime()) : 0,
        fps: fps(),
        lagMs: lagMs(),
        error: session.error,
        busy: {...busy},
        drawn: {...drawn, nodes: frame.nodeCount},
      };
    },
    find(path) {
      const node = findNode(path);
      return node && {id: node.id, kind: node.kind, dying: node.dying, color: node.color, flash: node.flash};
    },
    /* The panel's numbers, the model's totals they come from, and (colouring by command
     * after a snapshot) since when the commands' counts run. */
    stats() {
      const data = panelData();
      return {...data, model: modelStats(), commandsCounted: colorBy === 'command' ? commandsCounted : null};
    },
    /* What the timeline drew last: {ticks: [{x, label}], phases: [{name, label, x0, x1}]}, and the phases. */
    timeline() {
      return {...timelineShown, phases: timelineShown.phases, known: session.phases};
    },
    /* Where the node at PATH was in the last frame, in canvas pixels: {x, y, r}, or null. */
    screenOf(path) {
      const node = findNode(path);
      if (!node || !frame.ok) return null;
      views();
      for (let i = 0; i < frame.nodeCount; i++) {
        const w = frame.nodes + i * NODE_WORDS;
        if (u32[w + 4] === node.id)
          return {x: f32[w] * pan.zoom + pan.x, y: f32[w + 1] * pan.zoom + pan.y, r: f32[w + 2] * pan.zoom};
      }
      return null;
    },
    /*
     * The boxes of the text the last frame drew (overlay, labels, pins), the
     * pinned labels', and the model's labels: {id, text, box drawn, model's
     * box, leader {x, y, toX, toY} or null}, with how many the model gave
     * and the ids of the nodes it labelled (drawn or not).
     */
    texts() {
      views();
      const labelled = frame.ok ? Array.from({length: frame.labelCount}, (_, i) => labelNode(frame.labels, i)) : [];
      return {boxes: taken.map((b) => ({...b})), pins: pinsShown.map((p) => ({...p})),
        labels: labelsShown.map((l) => ({...l})), modelLabels: frame.labelCount, labelled};
    },
    /* Lineage as the page sees it: which commands read and wrote PATH, and the highlight. */
    commands(path) {
      const entry = pathCommands.get(path);
      return {read: entry ? [...entry.read] : [], wrote: entry ? [...entry.wrote] : [],
        highlight: highlight ? {name: highlight.name, paths: [...highlight.paths], shown: highlightShown} : null};
    },
    /* The caption the last frame drew under the clock, or null. */
    caption() {
      return frame.caption || null;
    },
  };

  async function start() {
    try {
      const response = await fetch('viz.wasm');
      if (!response.ok) throw new Error(`viz.wasm: ${response.status} ${response.statusText}`);
      const {instance} = await WebAssembly.instantiate(await response.arrayBuffer(), {});
      wasm = instance.exports;
    } catch (err) {
      statusEl.textContent = `cannot load the scene model: ${err.message}`;
      statusEl.className = 'failed';
      return;
    }
    const count = wasm.tv_op_count();
    opNames = Array.from({length: count}, (_, i) => cString(wasm.tv_op_name(i)));
    opNames.forEach((name, i) => opIndex.set(name, i));
    unknownOp = wasm.tv_op_unknown();
    KIND_NAMES = Array.from({length: wasm.tv_kind_count()}, (_, i) => cString(wasm.tv_kind_name(i)));
    KIND_NAMES.forEach((name, i) => { if (name) KINDS[name] = i; });
    resize();
    connect();
    requestAnimationFrame(animate);
  }
  start();
})();
