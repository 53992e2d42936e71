/*
 * recorder.c — the public face of recorder/ (recorder.h): creating the trace
 * file safely, wiring the queue to the writer thread, submit, statistics,
 * and close.
 *
 * Ownership: struct recorder owns the queue and the writer; the writer owns
 * the SQLite connection. recorder_submit() touches only the queue and one
 * atomic counter, never anything the writer locks.
 */
#include "recorder/recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recorder/queue.h"
#include "recorder/writer.h"

#define DEFAULT_QUEUE_CAPACITY 65536

struct recorder {
	struct queue queue;
	alignas(64) _Atomic uint64_t submit_lost; /* events the queue refused */
	struct writer writer;
};

/* ---- creating the file ---- */

static bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Private unless asked otherwise: it names every file the workload touched. */
#define DEFAULT_DB_MODE 0600

/*
 * Creates path exclusively, as an empty file with exactly the mode and
 * owner asked for: created for us alone, then given away and fchmod'ed, so
 * neither the umask nor a race lets anyone else open it. 0, or -1 with a
 * message.
 */
static int create_trace_file(const struct recorder_options *o, char *err, size_t err_size)
{
	const char *path = o->db_path;
	mode_t mode = o->db_mode ? (mode_t)(o->db_mode & 07777) : DEFAULT_DB_MODE;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, err_size,
				 "trace file %s already exists; choose another --db or remove it",
				 path);
		else
			snprintf(err, err_size, "cannot create trace file %s: %s", path,
				 strerror(errno));
		return -1;
	}
	int failed = 0;
	if (o->db_chown && fchown(fd, (uid_t)o->db_uid, (gid_t)o->db_gid) != 0)
		failed = snprintf(err, err_size, "cannot give trace file %s to uid %u gid %u: %s",
				  path, o->db_uid, o->db_gid, strerror(errno));
	else if (fchmod(fd, mode) != 0)
		failed = snprintf(err, err_size, "cannot set the mode of trace file %s: %s", path,
				  strerror(errno));
	if (failed) {
		close(fd);
		unlink(path); /* best effort; the error above is what matters */
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(err, err_size, "cannot create trace file %s: %s", path, strerror(errno));
		unlink(path); /* best effort; the error above is what matters */
		return -1;
	}
	return 0;
}

/*
 * Removes a file we created, ignoring one that is already gone; a failure
 * is added to the message in err.
 */
static void remove_created(const char *path, const char *suffix, char *err, size_t err_size)
{
	char *name;

	if (asprintf(&name, "%s%s", path, suffix) < 0)
		return;
	if (unlink(name) != 0 && errno != ENOENT) {
		size_t used = strnlen(err, err_size);
		if (used + 1 < err_size)
			snprintf(err + used, err_size - used, "; cannot remove %s: %s", name,
				 strerror(errno));
	}
	free(name);
}

static bool sibling_exists(const char *path, const char *suffix)
{
	char *name;

	if (asprintf(&name, "%s%s", path, suffix) < 0)
		return false;
	bool exists = path_exists(name);
	free(name);
	return exists;
}

/* A WAL left by an earlier trace of the same name would be replayed into ours. */
static int check_no_stale_wal(const char *path, char *err, size_t err_size)
{
	if (!sibling_exists(path, "-wal"))
		return 0;
	snprintf(err, err_size,
		 "%s-wal exists (left over from an earlier trace?); remove it or choose "
		 "another --db",
		 path);
	return -1;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0; /* cannot happen */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Opens the empty file with SQLite and writes the schema. An SQLite code. */
static int open_database(const struct recorder_options *options, int64_t start_ns,
			 sqlite3 **db_out)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(options->db_path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	*db_out = db; /* even on failure: the caller reads the message, then closes */
	/* Someone may query the trace while it is being written; wait out
	 * their brief read locks rather than failing. */
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 5000);
	if (rc == SQLITE_OK)
		rc = trace_schema_configure(db);
	if (rc == SQLITE_OK)
		rc = trace_schema_create(db,
					 &(struct trace_origin){options->source, options->mountpoint,
								options->command_line,
								options->cache_mode},
					 start_ns);
	return rc;
}

static void free_recorder(struct recorder *r)
{
	rec_writer_destroy(&r->writer);
	rec_queue_destroy(&r->queue);
	free(r);
}

/* Sets everything up after the file exists; on failure err is set. */
static int start_recorder(struct recorder *r, const struct recorder_options *options,
			  char *err, size_t err_size)
{
	int64_t start_ns = realtime_ns();
	size_t capacity = options->queue_capacity ? options->queue_capacity
						   : DEFAULT_QUEUE_CAPACITY;
	sqlite3 *db;

	int rc = open_database(options, start_ns, &db);
	if (rc != SQLITE_OK) {
		snprintf(err, err_size, "cannot write trace file %s: %s", options->db_path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db); /* NULL is fine; on failure the file is deleted */
		return -1;
	}
	rc = rec_writer_init(&r->writer, db, options->db_path, &r->queue, &r->submit_lost,
			 start_ns, options->commit_interval_ms, options->tap);
	if (rc != SQLITE_OK) {
		snprintf(err, err_size, "cannot write trace file %s: %s", options->db_path,
			 rc == SQLITE_NOMEM ? sqlite3_errstr(rc) : sqlite3_errmsg(db));
		return -1;
	}
	if (rec_queue_init(&r->queue, capacity) != 0) {
		snprintf(err, err_size, "cannot allocate a queue of %zu events", capacity);
		return -1;
	}
	int thread_err = rec_writer_start(&r->writer);
	if (thread_err != 0) {
		snprintf(err, err_size, "cannot start the trace writer: %s", strerror(thread_err));
		return -1;
	}
	return 0;
}

struct recorder *recorder_open(const struct recorder_options *options, char *err,
			       size_t err_size)
{
	if (!options || !options->db_path || !options->db_path[0]) {
		snprintf(err, err_size, "no trace file given");
		return NULL;
	}
	struct recorder *r = aligned_alloc(alignof(struct recorder), sizeof(struct recorder));
	if (!r) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	atomic_init(&r->submit_lost, 0);
	if (create_trace_file(options, err, err_size) != 0) {
		free_recorder(r);
		return NULL;
	}
	if (check_no_stale_wal(options->db_path, err, err_size) != 0) {
		free_recorder(r);
		remove_created(options->db_path, "", err, err_size);
		return NULL;
	}
	bool shm_existed = sibling_exists(options->db_path, "-shm");
	if (start_recorder(r, options, err, err_size) == 0)
		return r;
	free_recorder(r); /* closes the database first */
	remove_created(options->db_path, "", err, err_size);
	remove_created(options->db_path, "-wal", err, err_size); /* ours: none before */
	if (!shm_existed)
		remove_created(options->db_path, "-shm", err, err_size);
	return NULL;
}

void recorder_submit(struct recorder *r, const struct trace_event *event)
{
	if (!rec_queue_push(&r->queue, event))
		atomic_fetch_add_explicit(&r->submit_lost, 1, memory_order_relaxed);
}

int64_t recorder_add_process(struct recorder *r, const struct recorder_process *process)
{
	return process_log_add(&r->writer.processes, process);
}

void recorder_process_exited(struct recorder *r, int64_t id, int64_t exit_ns)
{
	process_log_exit(&r->writer.processes, id, exit_ns);
}

void recorder_get_stats(struct recorder *r, struct recorder_stats *stats)
{
	/* Written and dropped first, so that written + lost <= submitted. */
	uint64_t written = rec_writer_written(&r->writer);
	uint64_t dropped = rec_writer_lost(&r->writer);
	uint64_t refused = atomic_load_explicit(&r->submit_lost, memory_order_relaxed);

	stats->written = written;
	stats->lost = refused + dropped;
	stats->submitted = rec_queue_pushed(&r->queue) + refused;
}

int recorder_close(struct recorder *r, char *err, size_t err_size)
{
	if (!r)
		return 0;
	int result = rec_writer_stop(&r->writer, err, err_size);
	if (r->writer.thread_running)
		return -1; /* could not join the thread: leak rather than crash */
	free_recorder(r);
	return result;
}
