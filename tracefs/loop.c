/*
 * loop.c — the request loop for a local backing file system: one thread
 * serves requests one after another, and hands the reading of /dev/fuse to
 * another thread only before a request that may block (see loop.h).
 *
 * Leader and followers: at any time one worker, the leader, reads from
 * /dev/fuse; the others wait on a condition variable, not on the device.
 * The leader processes what it read itself and reads again, so a process
 * that makes one request after another is served by one thread, which the
 * scheduler keeps next to that process. (With libfuse's multi-threaded
 * loop every idle worker waits in read(), the kernel wakes the one that
 * waited longest, and each request lands on another thread, usually on the
 * other CPU: on a 2-CPU virtual machine that cost 40-60% more daemon CPU
 * time per request and made round trips slower.)
 *
 * Before a request that may block for long (fsync, fallocate,
 * copy_file_range, flock, reads and writes of 128 KiB or more), the leader
 * makes a follower the leader, starting one if none is idle (at most
 * LOOP_MAX_WORKERS); after processing it, it becomes a follower itself.
 *
 * Polling before sleeping: after a request, the leader keeps asking the
 * device (non-blocking reads) for a while before it sleeps in poll(). A
 * sleeping daemon thread is woken across CPUs, and on a virtual machine
 * whose idle CPUs halt that wake-up dominates a round trip: a getxattr took
 * 60-70 us with the leader asleep and 22-26 us with it polling (1.2 us
 * natively). How long it polls adapts, as the kernel's guest halt-polling
 * does: a request that came while polling, or soon after the leader went to
 * sleep, doubles the window (up to spin_ns); a sleep longer than spin_ns
 * halves it, so an idle mount stops polling after a few requests and a
 * busy one keeps one thread on a CPU at most spin_ns per request. A poller
 * that was preempted took a CPU that the workload wanted (make -j on every
 * CPU, say): its window drops to nothing, to grow again only as above.
 *
 * Exit, as in libfuse's loop: the workers block all signals; the calling
 * thread keeps the signal handlers and waits until a worker reports the
 * end (unmount, or fuse_session_exit() by a signal handler), then cancels
 * the workers where they may wait (in read()) and joins them.
 *
 * An unmount does not always end the connection: a mount namespace made
 * while we were mounted (unshare, a container, another `tracefs run`)
 * holds a copy of the mount, and the kernel keeps the connection until
 * the last copy goes, maybe never. So the calling thread also watches
 * /proc/self/mountinfo (readable for POLLPRI on every change of our
 * namespace's mounts) and ends the session when our mount is gone from
 * it: the copies elsewhere then fail with ENOTCONN, as after a crash.
 */
#include "tracefs/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tracefs/mountinfo.h"

#define LOOP_MAX_WORKERS 16
#define LOOP_BIG_IO (128 * 1024)
#define LOOP_SPIN_START_NS 10000 /* the window a growing one starts from */
#define LOOP_UNMOUNT_GRACE_MS 2000 /* for the connection to end after an unmount */

struct worker {
	pthread_t thread;
	struct loop *loop;
	struct fuse_buf buf;
	long window_ns; /* how long to poll before sleeping; 0: do not */
	bool started;
};

struct loop {
	struct fuse_session *se;
	struct fs *fs;	       /* answers what libfuse does not know */
	long spin_ns;	       /* the longest polling window; 0: never poll */
	int stop;	       /* eventfd, readable once pollers must end */
	pthread_mutex_t lock;
	pthread_cond_t follow; /* a follower may become the leader */
	int finished;	       /* eventfd: a worker saw the end of the session */
	bool leader;	       /* some worker is the leader */
	bool exiting;
	int idle;	       /* followers waiting on `follow` */
	int count;	       /* workers started */
	int error;	       /* first error of fuse_session_receive_buf */
	struct worker workers[LOOP_MAX_WORKERS];
};

bool loop_request_may_block(const struct fuse_in_header *in, size_t size)
{
	if (size < sizeof(*in))
		return true; /* cannot look inside: be safe */
	const void *arg = in + 1;
	size_t arg_size = size - sizeof(*in);
	switch (in->opcode) {
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
	case FUSE_FALLOCATE:
	case FUSE_COPY_FILE_RANGE:
	case FUSE_GETLK:
	case FUSE_SETLK:
	case FUSE_SETLKW:
		return true;
	case FUSE_READ:
		return arg_size < sizeof(struct fuse_read_in) ||
		       ((const struct fuse_read_in *)arg)->size >= LOOP_BIG_IO;
	case FUSE_WRITE:
		return arg_size < sizeof(struct fuse_write_in) ||
		       ((const struct fuse_write_in *)arg)->size >= LOOP_BIG_IO;
	default:
		return false;
	}
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Adapts W's polling window to a wait of WAITED_NS for a request. */
static void adapt_window(struct worker *w, long long waited_ns)
{
	long max = w->loop->spin_ns;
	if (waited_ns > max) {
		w->window_ns /= 2;
	} else if (waited_ns > w->window_ns / 2) {
		w->window_ns = w->window_ns < LOOP_SPIN_START_NS ? LOOP_SPIN_START_NS
								 : w->window_ns * 2;
		if (w->window_ns > max)
			w->window_ns = max;
	}
}

/* How often the calling thread was preempted so far. */
static long preemptions(void)
{
	struct rusage usage;
	return getrusage(RUSAGE_THREAD, &usage) == 0 ? usage.ru_nivcsw : 0;
}

/*
 * Polls the non-blocking device until W's window, counted from START, runs
 * out. Returns as fuse_session_receive_buf() does: -EAGAIN when it ran out.
 */
static int poll_device(struct worker *w, long long start)
{
	long before = preemptions();
	int res;
	do
		res = fuse_session_receive_buf(w->loop->se, &w->buf);
	while (res == -EAGAIN && now_ns() - start < w->window_ns);
	if (preemptions() != before)
		w->window_ns = 0; /* it took a CPU that the workload wanted */
	return res;
}

/*
 * Reads the next request into W's buffer: polls for W's window, then
 * sleeps in poll(). Returns as fuse_session_receive_buf() does.
 */
static int receive_polling(struct worker *w)
{
	struct loop *loop = w->loop;
	long long start = now_ns();
	int res = fuse_session_receive_buf(loop->se, &w->buf);
	if (res == -EAGAIN && w->window_ns > 0)
		res = poll_device(w, start);
	while (res == -EAGAIN) {
		/* Not cancelled here but woken by `stop`: a cancelled frame
		 * of ours would leave AddressSanitizer's poison on the stack. */
		struct pollfd ready[2] = {
			{.fd = fuse_session_fd(loop->se), .events = POLLIN},
			{.fd = loop->stop, .events = POLLIN},
		};
		if (poll(ready, 2, -1) == -1 && errno != EINTR)
			return -errno;
		if (ready[1].revents)
			return 0; /* the session is ending */
		res = fuse_session_receive_buf(loop->se, &w->buf);
	}
	adapt_window(w, now_ns() - start);
	return res;
}

static int receive(struct worker *w)
{
	if (w->loop->spin_ns == 0) {
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		int res = fuse_session_receive_buf(w->loop->se, &w->buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		return res;
	}
	return receive_polling(w);
}

static void *work(void *arg);

/* Serves the request in BUF: libfuse, or the fs where libfuse does not know it. */
static void serve(struct loop *loop, const struct fuse_buf *buf)
{
	char reply[FS_STATX_REPLY_MAX];
	size_t len = buf->flags & FUSE_BUF_IS_FD ? 0
						 : fs_answer_unknown(loop->fs, buf->mem, buf->size, reply);
	if (!len) {
		fuse_session_process_buf(loop->se, buf);
		return;
	}
	/* ENOENT: the request was interrupted meanwhile, nobody waits */
	if (write(fuse_session_fd(loop->se), reply, len) == -1 && errno != ENOENT)
		perror("tracefs: replying to the kernel");
}

/* Starts a worker; called with the lock held. */
static int start_worker_locked(struct loop *loop)
{
	if (loop->count == LOOP_MAX_WORKERS)
		return -1;
	struct worker *w = &loop->workers[loop->count];
	memset(w, 0, sizeof(*w));
	w->loop = loop;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = pthread_create(&w->thread, NULL, work, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0)
		return -1;
	w->started = true;
	loop->count++;
	return 0;
}

/* Gives up leadership: wakes an idle follower, or starts one. */
static void hand_over(struct loop *loop)
{
	pthread_mutex_lock(&loop->lock);
	loop->leader = false;
	if (loop->idle > 0)
		pthread_cond_signal(&loop->follow);
	else if (start_worker_locked(loop) == -1 && loop->count == 0)
		fuse_session_exit(loop->se); /* cannot happen: this worker exists */
	pthread_mutex_unlock(&loop->lock);
}

static void end_session(struct loop *loop, int error)
{
	pthread_mutex_lock(&loop->lock);
	if (error && !loop->error)
		loop->error = error;
	loop->exiting = true;
	loop->leader = false;
	pthread_cond_broadcast(&loop->follow);
	pthread_mutex_unlock(&loop->lock);
	fuse_session_exit(loop->se);
	if (eventfd_write(loop->finished, 1) == -1)
		perror("tracefs: ending the FUSE session"); /* cannot happen */
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct loop *loop = w->loop;
	/* For `top -H` and the tests; a name this short cannot be refused. */
	(void)pthread_setname_np(pthread_self(), "tracefs-fuse");
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		/* Follower: wait to become the leader. */
		pthread_mutex_lock(&loop->lock);
		loop->idle++;
		while (loop->leader && !loop->exiting)
			pthread_cond_wait(&loop->follow, &loop->lock);
		loop->idle--;
		if (loop->exiting) {
			pthread_mutex_unlock(&loop->lock);
			return NULL;
		}
		loop->leader = true;
		pthread_mutex_unlock(&loop->lock);

		/* Leader: read and serve until a request may block. */
		for (;;) {
			if (fuse_session_exited(loop->se)) {
				end_session(loop, 0);
				return NULL;
			}
			int res = receive(w);
			if (res == -EINTR)
				continue;
			if (res <= 0) {
				end_session(loop, res < 0 ? res : 0);
				return NULL;
			}
			if ((w->buf.flags & FUSE_BUF_IS_FD) ||
			    loop_request_may_block(w->buf.mem, w->buf.size)) {
				hand_over(loop);
				serve(loop, &w->buf);
				break; /* back to following */
			}
			serve(loop, &w->buf);
		}
	}
}

int loop_serve(struct fuse_session *se, struct fs *fs, long spin_ns, const char *mountpoint)
{
	if (spin_ns > 0) {
		int fd = fuse_session_fd(se);
		int flags = fcntl(fd, F_GETFL);
		if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
			return -errno;
	}
	struct loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->se = se;
	loop->fs = fs;
	loop->spin_ns = spin_ns > 0 ? spin_ns : 0;
	loop->stop = -1;
	if ((loop->finished = eventfd(0, EFD_CLOEXEC)) == -1 ||
	    (loop->spin_ns && (loop->stop = eventfd(0, EFD_CLOEXEC)) == -1)) {
		int err = -errno;
		if (loop->finished != -1)
			close(loop->finished);
		free(loop);
		return err;
	}
	/* Not watched if it cannot be found: then the mount is in another
	 * namespace (`tracefs run`'s) or was made by someone else. */
	int mounts = mountpoint ? open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC) : -1;
	struct mountinfo_fuse mount;
	if (mounts != -1 && mountinfo_find_fuse(mounts, mountpoint, 0, &mount) != 1) {
		close(mounts);
		mounts = -1;
	}
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->follow, NULL);
	pthread_mutex_lock(&loop->lock);
	int rc = start_worker_locked(loop);
	pthread_mutex_unlock(&loop->lock);
	if (rc == 0) {
		struct pollfd wait[2] = {
			{.fd = loop->finished, .events = POLLIN},
			{.fd = mounts, .events = POLLPRI},
		};
		/* A signal handler's fuse_session_exit() interrupts the wait. */
		while (!fuse_session_exited(se)) {
			if (poll(wait, mounts == -1 ? 1 : 2, -1) == -1) {
				if (errno == EINTR)
					continue;
				perror("tracefs: waiting for the end of the FUSE session");
				fuse_session_exit(se);
				break;
			}
			if (wait[0].revents)
				break;
			/* -1 (unreadable): keep serving, as without the watch. A
			 * mount id is reused once free: the device says it is ours. */
			struct mountinfo_fuse now;
			int found = wait[1].revents ? mountinfo_find_fuse(mounts, NULL, mount.id, &now) : -1;
			if (found == 0 ||
			    (found == 1 && (now.major != mount.major || now.minor != mount.minor))) {
				/* The superblock goes a moment after the mount, and
				 * the connection with it, unless a copy keeps it. */
				int ended;
				do
					ended = poll(wait, 1, LOOP_UNMOUNT_GRACE_MS);
				while (ended == -1 && errno == EINTR && !fuse_session_exited(se));
				if (ended != 1) {
					rc = LOOP_GONE;
					fuse_session_exit(se);
				}
				break;
			}
		}
	} else {
		rc = -EAGAIN;
	}
	pthread_mutex_lock(&loop->lock);
	loop->exiting = true;
	pthread_cond_broadcast(&loop->follow);
	int count = loop->count;
	pthread_mutex_unlock(&loop->lock);
	/* Workers can only be blocked in read(), where cancelling is enabled,
	 * in poll(), which `stop` ends, or on the condition variable, which
	 * the broadcast ended. */
	if (loop->stop != -1 && eventfd_write(loop->stop, 1) == -1)
		perror("tracefs: waking the FUSE threads");
	for (int i = 0; i < count; i++)
		pthread_cancel(loop->workers[i].thread);
	for (int i = 0; i < count; i++) {
		pthread_join(loop->workers[i].thread, NULL);
		free(loop->workers[i].buf.mem);
	}
	if (rc == 0)
		rc = loop->error;
	pthread_cond_destroy(&loop->follow);
	pthread_mutex_destroy(&loop->lock);
	close(loop->finished);
	if (mounts != -1)
		close(mounts);
	if (loop->stop != -1)
		close(loop->stop);
	free(loop);
	/* As fuse_session_loop_mt does: the session can be used again. */
	fuse_session_reset(se);
	return rc;
}
