/*
 * uring.c — FUSE over io_uring: one queue per CPU, each served by a thread
 * pinned to that CPU (see uring.h).
 *
 * How a request travels. Each queue registers RING_DEPTH entries with the
 * kernel (FUSE_IO_URING_CMD_REGISTER): a header buffer and a payload buffer
 * each. A request made on CPU n is written into a free entry of queue n and
 * completes that entry's command; the queue's thread lays the request out
 * as /dev/fuse would have given it and hands it to libfuse, whose reply
 * comes back through the session's writev hook below: a reply to the ring
 * request this thread is answering goes into the entry, which the thread
 * then commits while fetching the next request in the same command
 * (FUSE_IO_URING_CMD_COMMIT_AND_FETCH). Everything else (INIT, FORGET,
 * interrupts, notifications) still travels through /dev/fuse.
 *
 * Requests that may block for long (locks that wait, fsync, large I/O) are
 * handed to the queue's workers, as the /dev/fuse loop hands them over, so
 * that a lock waiting for an unlock from the same CPU cannot stall the
 * queue that the unlock needs; a worker's finished entry goes back to the
 * queue's thread through an eventfd, since only the thread that submitted
 * a command may complete it.
 *
 * Switching on: the kernel offers io_uring in INIT (FUSE_OVER_IO_URING)
 * when its enable_uring parameter is on; libfuse 3.14 knows nothing of it,
 * so the INIT reply is amended on its way out. From then on the kernel
 * holds every request until all queues are registered; if registering
 * fails, it turns io_uring off for the connection and carries on over
 * /dev/fuse.
 *
 * The module keeps its state in one static structure: libfuse gives the
 * I/O hooks only the file system's userdata, and a daemon serves one
 * session.
 */
#include "tracefs/uring.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tracefs/loop.h"

#define ENABLE_URING_PARAMETER "/sys/module/fuse/parameters/enable_uring"
#define RING_DEPTH 16	     /* entries per queue */
#define MAX_WORKERS 16	     /* per queue, for requests that may block */
#define MIN_PAYLOAD 8192     /* the kernel's FUSE_MIN_READ_BUFFER */
#define DEFAULT_MAX_PAGES 32 /* the kernel's, without FUSE_MAX_PAGES */
#define PAGE 4096

/* The kernel's ABI (include/uapi/linux/fuse.h, protocol 7.42), which
 * Debian 12's headers predate. */
#define INIT_FLAG2_OVER_IO_URING (1u << (41 - 32))
#define URING_CMD_REGISTER 1
#define URING_CMD_COMMIT_AND_FETCH 2
struct ring_entry_in_out {
	uint64_t flags;
	uint64_t commit_id; /* the request's unique, to name it in the commit */
	uint32_t payload_size;
	uint32_t padding;
	uint64_t reserved;
};
struct ring_header {
	char in_out[128]; /* fuse_in_header, then our fuse_out_header */
	char op_in[128];  /* the operation's fixed argument, if any */
	struct ring_entry_in_out entry;
};
struct ring_command {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};
_Static_assert(sizeof(struct ring_header) == 288, "the kernel's fuse_uring_req_header");
_Static_assert(sizeof(struct ring_command) == 24, "the kernel's fuse_uring_cmd_req");

struct queue;

struct entry {
	struct ring_header header;
	struct iovec iov[2]; /* header, payload: registered with the kernel */
	struct queue *queue;
	uint64_t unique;
	bool replied;
	struct entry *next; /* in a worker list */
};

struct queue {
	int qid;
	struct io_uring ring;
	bool ring_ready;
	pthread_t thread;
	bool thread_started;
	int wake; /* eventfd: workers finished entries, or the end */
	uint64_t wake_count;
	char *request; /* a request laid out as /dev/fuse gives it */
	struct entry entries[RING_DEPTH];
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct entry *pending, *finished; /* for workers; back from them */
	int idle, workers;
};

static struct {
	struct fuse_session *se;
	struct fs *fs; /* answers what libfuse does not know */
	int fd;
	int queue_count;
	struct queue *queues;
	size_t payload_size;
	uint64_t init_unique; /* of the kernel's INIT, while it is unanswered */
	bool kernel_offers;   /* its INIT offered FUSE_OVER_IO_URING */
	atomic_bool stopping;
	atomic_int running; /* queue and worker threads still running */
	atomic_ulong served; /* requests that came by ring */
} uring;

/* The ring request the calling thread is answering, if any. */
static __thread struct entry *answering;

int uring_available(bool switch_on, char *why, size_t why_size)
{
	char value = 'N';
	int fd = open(ENABLE_URING_PARAMETER, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(why, why_size,
			 "this kernel has no FUSE over io_uring (%s: %s; it needs Linux 6.14 "
			 "built with CONFIG_FUSE_IO_URING)",
			 ENABLE_URING_PARAMETER, strerror(errno));
		return -1;
	}
	if (read(fd, &value, 1) != 1)
		value = 'N';
	close(fd);
	if (value == 'Y')
		return 0;
	if (switch_on) {
		fd = open(ENABLE_URING_PARAMETER, O_WRONLY | O_CLOEXEC);
		if (fd != -1 && write(fd, "Y", 1) == 1) {
			close(fd);
			fprintf(stderr, "tracefs: switched on the kernel's FUSE over io_uring (%s)\n",
				ENABLE_URING_PARAMETER);
			return 0;
		}
		int err = errno;
		if (fd != -1)
			close(fd);
		snprintf(why, why_size, "cannot switch on %s: %s", ENABLE_URING_PARAMETER,
			 strerror(err));
		return -1;
	}
	snprintf(why, why_size, "the kernel's FUSE over io_uring is off (%s is N)",
		 ENABLE_URING_PARAMETER);
	return -1;
}

/* A free submission entry of Q's ring, submitting what is queued if none. */
static struct io_uring_sqe *next_sqe(struct queue *q)
{
	struct io_uring_sqe *sqe;
	while (!(sqe = io_uring_get_sqe(&q->ring)))
		io_uring_submit(&q->ring);
	return sqe;
}

static void prepare_command(struct queue *q, struct entry *e, uint32_t op, uint64_t commit_id)
{
	struct io_uring_sqe *sqe = next_sqe(q);
	memset(sqe, 0, 128); /* SQE128: the command's area follows */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = uring.fd;
	sqe->cmd_op = op;
	if (op == URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	}
	struct ring_command command = {.commit_id = commit_id, .qid = (uint16_t)q->qid};
	memcpy(sqe->cmd, &command, sizeof(command));
	io_uring_sqe_set_data(sqe, e);
}

static void prepare_wake_read(struct queue *q)
{
	struct io_uring_sqe *sqe = next_sqe(q);
	io_uring_prep_read(sqe, q->wake, &q->wake_count, sizeof(q->wake_count), 0);
	io_uring_sqe_set_data(sqe, NULL);
}

/* The reply libfuse wrote for E, through the writev hook. */
static ssize_t reply_into_entry(struct entry *e, const struct iovec *iov, int count)
{
	size_t header_size = sizeof(struct fuse_out_header);
	size_t total = 0, payload = 0;
	memcpy(e->header.in_out, iov[0].iov_base, header_size);
	for (int i = 0; i < count; i++) {
		size_t skip = i == 0 ? header_size : 0;
		size_t size = iov[i].iov_len - skip;
		total += iov[i].iov_len;
		if (payload + size > uring.payload_size) {
			errno = EINVAL; /* libfuse never replies more than the kernel asked */
			return -1;
		}
		memcpy((char *)e->iov[1].iov_base + payload, (const char *)iov[i].iov_base + skip,
		       size);
		payload += size;
	}
	e->header.entry.payload_size = (uint32_t)payload;
	e->replied = true;
	return (ssize_t)total;
}

/* Answers E with ERROR when the request could not be handed to libfuse. */
static void reply_error(struct entry *e, int error)
{
	struct fuse_out_header out = {
		.len = sizeof(out), .error = -error, .unique = e->unique};
	struct iovec iov = {.iov_base = &out, .iov_len = sizeof(out)};
	reply_into_entry(e, &iov, 1);
}

/* Serves the request in E with libfuse, using SCRATCH to lay it out. */
static void process(struct entry *e, char *scratch)
{
	struct fuse_in_header in;
	memcpy(&in, e->header.in_out, sizeof(in));
	e->unique = in.unique;
	e->replied = false;
	size_t payload = e->header.entry.payload_size;
	/* Validated, though the kernel wrote it: a bad length must not make
	 * us read or write past a buffer. */
	if (in.len < sizeof(in) + payload || in.len - sizeof(in) - payload > sizeof(e->header.op_in) ||
	    payload > uring.payload_size) {
		reply_error(e, EIO);
		return;
	}
	size_t op_size = in.len - sizeof(in) - payload;
	memcpy(scratch, &in, sizeof(in));
	memcpy(scratch + sizeof(in), e->header.op_in, op_size);
	memcpy(scratch + sizeof(in) + op_size, e->iov[1].iov_base, payload);
	char reply[FS_STATX_REPLY_MAX];
	size_t len = fs_answer_unknown(uring.fs, scratch, in.len, reply);
	if (len) {
		struct iovec iov = {.iov_base = reply, .iov_len = len};
		reply_into_entry(e, &iov, 1);
		return;
	}
	struct fuse_buf buf = {.mem = scratch, .size = in.len};
	answering = e;
	fuse_session_process_buf(uring.se, &buf);
	answering = NULL;
	if (!e->replied)
		reply_error(e, ENOSYS); /* only FORGET goes unanswered, never by ring */
}

static size_t scratch_size(void)
{
	return sizeof(struct fuse_in_header) + sizeof(((struct ring_header *)0)->op_in) +
	       uring.payload_size;
}

static void *work(void *arg)
{
	struct queue *q = arg;
	(void)pthread_setname_np(pthread_self(), "tracefs-uring");
	char *scratch = malloc(scratch_size());
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->pending && !atomic_load(&uring.stopping)) {
			q->idle++;
			pthread_cond_wait(&q->work, &q->lock);
			q->idle--;
		}
		if (!q->pending)
			break;
		struct entry *e = q->pending;
		q->pending = e->next;
		pthread_mutex_unlock(&q->lock);
		if (scratch)
			process(e, scratch);
		else
			reply_error(e, ENOMEM);
		pthread_mutex_lock(&q->lock);
		e->next = q->finished;
		q->finished = e;
		if (eventfd_write(q->wake, 1) == -1)
			perror("tracefs: waking an io_uring queue");
	}
	q->workers--;
	pthread_mutex_unlock(&q->lock);
	free(scratch);
	atomic_fetch_sub(&uring.running, 1);
	return NULL;
}

/* Hands E to a worker; false when none can be had. */
static bool hand_to_worker(struct queue *q, struct entry *e)
{
	bool handed = true;
	pthread_mutex_lock(&q->lock);
	if (q->idle == 0) {
		pthread_t thread;
		if (q->workers == MAX_WORKERS || pthread_create(&thread, NULL, work, q) != 0) {
			handed = false;
		} else {
			pthread_detach(thread);
			q->workers++;
			atomic_fetch_add(&uring.running, 1);
		}
	}
	if (handed) {
		e->next = q->pending;
		q->pending = e;
		pthread_cond_signal(&q->work);
	}
	pthread_mutex_unlock(&q->lock);
	return handed;
}

/* Commits what the workers finished. */
static void commit_finished(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	struct entry *e = q->finished;
	q->finished = NULL;
	pthread_mutex_unlock(&q->lock);
	for (; e; e = e->next)
		prepare_command(q, e, URING_CMD_COMMIT_AND_FETCH, e->unique);
}

/* One completion of queue Q; false once the queue is done. */
static bool complete(struct queue *q, const struct io_uring_cqe *cqe, int *dead)
{
	struct entry *e = io_uring_cqe_get_data(cqe);
	if (!e) { /* the wake-up read */
		if (atomic_load(&uring.stopping))
			return false;
		commit_finished(q);
		prepare_wake_read(q);
		return true;
	}
	if (cqe->res < 0) {
		/* -ENOTCONN, -ECANCELED: the connection is ending. */
		return ++*dead < RING_DEPTH;
	}
	atomic_fetch_add_explicit(&uring.served, 1, memory_order_relaxed);
	/* Whether it may block is decided by its fixed argument. */
	struct fuse_in_header in;
	memcpy(&in, e->header.in_out, sizeof(in));
	size_t payload = e->header.entry.payload_size;
	size_t op_size = in.len >= sizeof(in) + payload ? in.len - sizeof(in) - payload : 0;
	if (op_size > sizeof(e->header.op_in))
		op_size = sizeof(e->header.op_in);
	memcpy(q->request, &in, sizeof(in));
	memcpy(q->request + sizeof(in), e->header.op_in, op_size);
	if (loop_request_may_block((const void *)q->request, sizeof(in) + op_size) &&
	    hand_to_worker(q, e))
		return true;
	process(e, q->request);
	prepare_command(q, e, URING_CMD_COMMIT_AND_FETCH, e->unique);
	return true;
}

static void *serve_queue(void *arg)
{
	struct queue *q = arg;
	(void)pthread_setname_np(pthread_self(), "tracefs-uring");
	/* On the queue's CPU: the kernel hands this queue the requests made
	 * there, and the point is to serve them without crossing CPUs. */
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	CPU_SET(q->qid, &cpus);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	for (int i = 0; i < RING_DEPTH; i++)
		prepare_command(q, &q->entries[i], URING_CMD_REGISTER, 0);
	prepare_wake_read(q);
	int rc = io_uring_submit(&q->ring);
	if (rc < 0)
		fprintf(stderr, "tracefs: cannot register io_uring queue %d: %s\n", q->qid,
			strerror(-rc));
	int dead = 0;
	bool going = rc >= 0;
	while (going) {
		struct io_uring_cqe *cqe;
		rc = io_uring_wait_cqe(&q->ring, &cqe);
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "tracefs: io_uring queue %d: %s\n", q->qid, strerror(-rc));
			break;
		}
		unsigned seen = 0, head;
		io_uring_for_each_cqe(&q->ring, head, cqe)
		{
			seen++;
			if (!complete(q, cqe, &dead))
				going = false;
		}
		io_uring_cq_advance(&q->ring, seen);
		if (going && io_uring_submit(&q->ring) < 0)
			going = false;
	}
	atomic_fetch_sub(&uring.running, 1);
	return NULL;
}

/* After the INIT reply: the queues register, each from its own thread. */
static void start_queues(void)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < uring.queue_count; i++) {
		struct queue *q = &uring.queues[i];
		if (pthread_create(&q->thread, NULL, serve_queue, q) == 0) {
			q->thread_started = true;
			atomic_fetch_add(&uring.running, 1);
		} else {
			/* The kernel would hold every request until this queue
			 * registered: a register it refuses turns io_uring off
			 * for the connection instead. */
			struct entry *e = &q->entries[0];
			e->iov[0].iov_len = 0;
			prepare_command(q, e, URING_CMD_REGISTER, 0);
			io_uring_submit(&q->ring);
			fprintf(stderr, "tracefs: cannot start io_uring queue %d; using /dev/fuse\n",
				i);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Asks for io_uring in libfuse's INIT reply, when the kernel offered it. */
static void amend_init_reply(struct iovec *iov, int count)
{
	if (count < 2 || iov[1].iov_len < offsetof(struct fuse_init_out, flags2) + sizeof(uint32_t))
		return;
	struct fuse_init_out *out = iov[1].iov_base;
	out->flags |= FUSE_INIT_EXT;
	out->flags2 |= INIT_FLAG2_OVER_IO_URING;
	/* The kernel's max_payload_sz, which every entry's buffer must hold. */
	size_t pages = (out->flags & FUSE_MAX_PAGES) ? out->max_pages : DEFAULT_MAX_PAGES;
	size_t payload = pages * PAGE;
	if (payload < out->max_write)
		payload = out->max_write;
	if (payload < MIN_PAYLOAD)
		payload = MIN_PAYLOAD;
	uring.payload_size = payload;
}

static int allocate_buffers(void)
{
	for (int i = 0; i < uring.queue_count; i++) {
		struct queue *q = &uring.queues[i];
		if (!(q->request = malloc(scratch_size())))
			return -1;
		for (int j = 0; j < RING_DEPTH; j++) {
			struct entry *e = &q->entries[j];
			void *payload = malloc(uring.payload_size);
			if (!payload)
				return -1;
			e->queue = q;
			e->iov[0] = (struct iovec){&e->header, sizeof(e->header)};
			e->iov[1] = (struct iovec){payload, uring.payload_size};
		}
	}
	return 0;
}

static ssize_t session_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	const struct fuse_out_header *out = iov[0].iov_base;
	struct entry *e = answering;
	if (e && out->unique == e->unique)
		return reply_into_entry(e, iov, count);
	bool init = uring.init_unique && out->unique == uring.init_unique;
	if (init && uring.kernel_offers && out->error == 0) {
		amend_init_reply(iov, count);
		if (allocate_buffers() == -1) { /* then without io_uring */
			struct fuse_init_out *reply = iov[1].iov_base;
			reply->flags2 &= ~INIT_FLAG2_OVER_IO_URING;
			uring.kernel_offers = false;
		}
	}
	ssize_t res = writev(fd, iov, count);
	if (init) {
		uring.init_unique = 0;
		if (res >= 0 && uring.kernel_offers)
			start_queues();
	}
	return res;
}

static ssize_t session_read(int fd, void *buf, size_t size, void *userdata)
{
	(void)userdata;
	ssize_t res = read(fd, buf, size);
	const struct fuse_in_header *in = buf;
	if (res >= (ssize_t)(sizeof(*in) + offsetof(struct fuse_init_in, flags2) + sizeof(uint32_t)) &&
	    in->opcode == FUSE_INIT) {
		const struct fuse_init_in *arg = (const void *)(in + 1);
		uring.init_unique = in->unique;
		uring.kernel_offers = (arg->flags & FUSE_INIT_EXT) &&
				      (arg->flags2 & INIT_FLAG2_OVER_IO_URING);
	}
	return res;
}

int uring_attach(struct fuse_session *se, struct fs *fs)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	if (cpus < 1 || cpus > 4096) {
		errno = EINVAL;
		return -1;
	}
	uring.queues = calloc((size_t)cpus, sizeof(*uring.queues));
	if (!uring.queues)
		return -1;
	uring.queue_count = (int)cpus;
	uring.se = se;
	uring.fs = fs;
	uring.fd = fuse_session_fd(se);
	/* The rings now, so that a kernel without io_uring (or one that
	 * forbids it) is found before INIT asks for it. */
	for (int i = 0; i < uring.queue_count; i++) {
		struct queue *q = &uring.queues[i];
		q->qid = i;
		q->wake = -1;
		pthread_mutex_init(&q->lock, NULL);
		pthread_cond_init(&q->work, NULL);
		int rc = io_uring_queue_init(RING_DEPTH * 2 + 2, &q->ring, IORING_SETUP_SQE128);
		if (rc < 0) {
			uring_detach();
			errno = -rc;
			return -1;
		}
		q->ring_ready = true;
		if ((q->wake = eventfd(0, EFD_CLOEXEC)) == -1) {
			int err = errno;
			uring_detach();
			errno = err;
			return -1;
		}
	}
	static const struct fuse_custom_io io = {
		.read = session_read,
		.writev = session_writev,
	};
	/* fuse_session_custom_io() takes the descriptor as the session's. */
	if (fuse_session_custom_io(se, &io, uring.fd) != 0) {
		uring_detach();
		errno = EINVAL;
		return -1;
	}
	return 0;
}

unsigned long uring_requests(void)
{
	return atomic_load(&uring.served);
}

void uring_detach(void)
{
	atomic_store(&uring.stopping, true);
	for (int i = 0; i < uring.queue_count; i++) {
		struct queue *q = &uring.queues[i];
		if (q->wake != -1 && eventfd_write(q->wake, 1) == -1)
			perror("tracefs: stopping an io_uring queue");
		pthread_mutex_lock(&q->lock);
		pthread_cond_broadcast(&q->work);
		pthread_mutex_unlock(&q->lock);
		if (q->thread_started)
			pthread_join(q->thread, NULL);
	}
	/* Workers end once their request is answered; one that waits for a
	 * lock of the ended session is left to the process's exit. */
	for (int tries = 0; tries < 100 && atomic_load(&uring.running) > 0; tries++)
		usleep(10000);
	if (atomic_load(&uring.running) > 0)
		return; /* a worker may still use the buffers */
	for (int i = 0; i < uring.queue_count; i++) {
		struct queue *q = &uring.queues[i];
		if (q->ring_ready)
			io_uring_queue_exit(&q->ring);
		if (q->wake != -1)
			close(q->wake);
		for (int j = 0; j < RING_DEPTH; j++)
			free(q->entries[j].iov[1].iov_base);
		free(q->request);
		pthread_cond_destroy(&q->work);
		pthread_mutex_destroy(&q->lock);
	}
	free(uring.queues);
	uring.queues = NULL;
	uring.queue_count = 0;
}
