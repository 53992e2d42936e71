/*
 * internal.h — what the files of web/ share (private to web/): JSON text
 * buffers shaped for lws_write(), per-client outboxes, snapshots of a scene,
 * client commands, static files, the live feed and replay.
 */
#ifndef TRACEFS_WEB_INTERNAL_H
#define TRACEFS_WEB_INTERNAL_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "play/play.h"
#include "recorder/recorder.h"
#include "viz/viz.h"
#include "web/web.h"

/* ---- text.c: JSON being built, with LWS_PRE bytes of room in front ---- */

struct web_text {
	unsigned char *data; /* LWS_PRE + cap bytes; the text starts at LWS_PRE */
	size_t len, cap;
	bool failed; /* out of memory: the text is incomplete, do not send it */
};

void text_free(struct web_text *text);
void text_add(struct web_text *text, const char *bytes, size_t len);
void text_adds(struct web_text *text, const char *string);
void text_printf(struct web_text *text, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void text_json_string(struct web_text *text, const char *string); /* NULL: null */
void text_event(struct web_text *text, const struct trace_event *event, int64_t seq);
/* Drops the last byte if it is C (a trailing comma). */
void text_unput(struct web_text *text, char c);

/* A message waiting to be sent to one client. */
struct web_msg {
	struct web_msg *next;
	size_t len;
	unsigned char data[]; /* LWS_PRE + len */
};

struct web_outbox {
	struct web_msg *head, *tail;
	size_t count;
	size_t bytes;  /* the memory the messages take */
	size_t *total; /* NULL, or a sum over several outboxes that bytes is also added to */
};

/* Moves TEXT's content into a new message at the end of BOX; TEXT is emptied. -1: no memory. */
int outbox_take(struct web_outbox *box, struct web_text *text);
/* Queues a copy of the NUL-terminated JSON. -1: no memory. */
int outbox_push(struct web_outbox *box, const char *json);
/* Queues {"type":"error","message":MESSAGE}. -1: no memory. */
int outbox_error(struct web_outbox *box, const char *message);
struct web_msg *outbox_pop(struct web_outbox *box);
/* Moves every message of FROM to the end of TO. */
void outbox_move(struct web_outbox *to, struct web_outbox *from);
void outbox_clear(struct web_outbox *box);

/* ---- lineage.c: the process instances the stream names ---- */

struct web_lineage_row {
	int64_t id, parent, root; /* processes ids, 0: none */
	char *line;		  /* the shortened command line, NULL if not recorded */
};

struct web_lineage {
	struct web_lineage_row *rows; /* by id */
	size_t count, cap;
	int64_t last_id; /* every row up to it is read */
	int table;	 /* the processes table: 0 not looked for yet, 1 there, -1 none (format 1) */
};

/* Reads the rows after last_id up to UPTO (INT64_MAX: all). 0, or -1 with a message. */
int lineage_read(struct web_lineage *lineage, struct trace_reader *reader, int64_t upto,
		 char *err, size_t err_size);
/* [{"id","parent","root","line"},...] of the rows from index FROM on. */
void lineage_json(struct web_text *text, const struct web_lineage *lineage, size_t from);
void lineage_free(struct web_lineage *lineage);

/*
 * Events and errors per process instance (the page's counts by command,
 * exact after a seek or a late join), by id. Ids from WEB_MAX_INSTANCES on
 * are not counted: the array stays bounded (16 bytes an id).
 */
#define WEB_MAX_INSTANCES (1 << 20)

struct web_instance_counts {
	struct web_instance_tally {
		uint64_t events, errors;
	} *by_id;
	size_t size; /* ids below it have a tally */
};

/* Adds EVENTS and ERRORS to instance ID's tally (0 or out of range: none). 0, or -1 out of memory. */
int instance_counts_add(struct web_instance_counts *counts, int64_t id, uint64_t events,
			uint64_t errors);
/* [[id,events,errors],...] of the instances with events. */
void instance_counts_json(struct web_text *text, const struct web_instance_counts *counts);
void instance_counts_free(struct web_instance_counts *counts);

/* ---- snapshot.c ---- */

/*
 * Queues `snapshot` messages of every live node of SCENE (parts of about
 * 64 KiB, the last with "last":true; the first with the counters and
 * LINEAGE's rows and INSTANCES' counts, unless NULL). 0, or -1 when out of
 * memory.
 */
int snapshot_queue(struct web_outbox *box, struct viz_scene *scene,
		   const struct web_lineage *lineage, const struct web_instance_counts *instances,
		   int64_t seq, int64_t ts_ns, double now);

/* ---- command.c: what a client may send ---- */

enum web_cmd { CMD_PING, CMD_SNAPSHOT, CMD_PLAY, CMD_PAUSE, CMD_SEEK, CMD_SPEED };

#define WEB_MAX_MESSAGE 4096 /* bytes of one client message */
#define WEB_MIN_SPEED 0.1 /* trace seconds per second */
#define WEB_MAX_SPEED 1000.0

struct web_command {
	enum web_cmd cmd;
	int64_t ts_ns; /* seek */
	double value;  /* speed */
};

/* Parses one client message. 0, or -1 with the reason in ERR. */
int command_parse(const char *json, size_t len, struct web_command *command, char *err,
		  size_t err_size);

/* ---- files.c: the web root ---- */

/* A directory descriptor for ROOT; -1 with a message. */
int files_open_root(const char *root, char *err, size_t err_size);

/*
 * Reads the file a URL path names under the root into a malloc'd buffer.
 * Only plain names ([A-Za-z0-9._-], not starting with a dot) in plain
 * directories are served, opened so that no symlink and no ".." can lead
 * out of the root. Returns an HTTP status: 200 (BODY, LEN, MIME set), 403,
 * 404 or 500.
 */
int files_load(int root_fd, const char *url_path, char **body, size_t *len, const char **mime);

/* ---- live.c: the stream of a recording daemon ---- */

struct live;

/*
 * TRACE: the trace file the recorder writes, which the feeder thread reads
 * as the tap says it is committed; NULL: no feeder (events come only from
 * live_add). WAKE(CTX) is called from the feeder when new events are ready.
 */
struct live *live_new(const char *trace, void (*wake)(void *ctx), void *ctx);
void live_free(struct live *live);
const struct recorder_tap *live_tap(struct live *live);

/* The feeder's steps: one committed event, in seq order; the end of a run of them. */
void live_add(struct live *live, const struct trace_event *event, int64_t seq);
void live_flush(struct live *live);

/* A client's place in the stream. */
struct live_cursor {
	uint64_t batch;	   /* the next batch to send */
	int64_t next_seq;  /* the first event it has not had */
};

/* A client comes (+1) or goes (-1): events are turned into JSON only while there are any. */
void live_attach(struct live *live, int delta);

/* Queues a snapshot of the tree now and puts CURSOR just after it. 0 or -1. */
int live_join(struct live *live, struct web_outbox *box, struct live_cursor *cursor);

enum live_send { LIVE_IDLE, LIVE_SENT, LIVE_MISSED, LIVE_ERROR };

/*
 * Sends the client's next batch with lws_write(). LIVE_MISSED: it fell
 * behind, *MISSED events are gone (queue a `missed` and live_join again).
 * *MORE says whether another batch is waiting.
 */
enum live_send live_send_next(struct live *live, struct lws *wsi, struct live_cursor *cursor,
			      int64_t *missed, bool *more);

/* ---- index.c: what all replays of a trace share, built once ---- */

#define TIMELINE_BUCKETS 400

struct trace_index;

/*
 * Starts building the index of TRACE on its own thread; READY(CTX) is called
 * from it when done (or failed). With KEEP, the index is loaded from the
 * cache file a former build of the same unchanged trace wrote (beside the
 * trace, TRACE.index, or in $XDG_CACHE_HOME/tracefs), or else built and
 * written there; what happened is told on stderr. NULL when out of memory.
 */
struct trace_index *index_start(const char *trace, bool keep, void (*ready)(void *ctx), void *ctx);
void index_free(struct trace_index *index);
/* Once ready: whether it was loaded from its cache file. */
bool index_loaded(const struct trace_index *index);
/* A ready index from CONTENT, what follows a cache file's header, checked byte by byte as
 * serve checks the file it loads (the index's fuzz target goes in here); NULL with why in WHY. */
struct trace_index *index_load(const void *content, size_t len, char *why, size_t why_size);
/* The checksum of a cache file's content (after its 112-byte header, which holds it at byte 104). */
uint64_t index_cache_checksum(const void *content, size_t len);
/* "" while it is being built, NULL once ready, else why it failed. */
const char *index_state(const struct trace_index *index);
/* While it is being built: the events read so far (in steps), of TOTAL (0: not yet known). */
void index_progress(const struct trace_index *index, int64_t *read, int64_t *total);
/* Once ready: the first and last event times and the number of events. */
void index_span(const struct trace_index *index, int64_t *first_ns, int64_t *last_ns,
		int64_t *count);
/* Once ready: events per TIMELINE_BUCKETS equal slices of first_ns .. last_ns. */
const int64_t *index_buckets(const struct trace_index *index);
/* Once ready: the phases of the run (analyze_phases_read); NULL, or why there are none. */
const char *index_phases(const struct trace_index *index, const struct analyze_phase_span **phases,
			 size_t *count);
/*
 * Once ready: puts into the fresh SCENE the tree of the latest checkpoint
 * before which no event starts at or after TS_NS; *SEQ is its last event
 * (read on from *SEQ + 1), *T the scene time there; adds to the empty
 * INSTANCES the counts of each process instance there. 0, or -1 (no memory).
 */
int index_restore(const struct trace_index *index, int64_t ts_ns, struct viz_scene *scene,
		  struct web_instance_counts *instances,
		  int64_t *seq, double *t);

/*
 * EVENT at scene time T into SCENE as far as a snapshot can tell: the
 * flash of a node that exists (most events) is left out. 1 if it changed
 * what a snapshot shows, 0 if not, -1 when out of memory.
 */
int index_apply(struct viz_scene *scene, const struct trace_event *event, double t);

/* ---- replay.c: one client's playback of a trace file ---- */

struct replay;

/* A playback of TRACE, whose INDEX is ready. */
struct replay *replay_open(const char *trace, const struct trace_index *index, char *err,
			   size_t err_size);
void replay_close(struct replay *replay);
/* Queues `timeline`, `phases`, the first `snapshot` and `state`. 0 or -1. */
int replay_welcome(struct replay *replay, struct web_outbox *box);
/* Handles play, pause, seek and speed; queues what to answer. 0 or -1. */
int replay_command(struct replay *replay, const struct web_command *command,
		   struct web_outbox *box, char *err, size_t err_size);
/*
 * While playing: queues the events due by now (at most a bounded batch)
 * and, now and then, `state`. Returns 1 while playing, 0 when paused or
 * ended, -1 on a read error (message in ERR).
 */
int replay_tick(struct replay *replay, struct web_outbox *box, char *err, size_t err_size);
/* The trace's meta values for `hello` (malloc'd or NULL). */
char *replay_meta(struct replay *replay, const char *key);

#endif
