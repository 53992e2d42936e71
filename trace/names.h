/*
 * names.h — the trace's vocabulary, defined once: every operation and kind
 * of object with the name the trace's `op` and `kind` columns show. Plain
 * preprocessor, no includes, so that both the recorder (enum trace_op) and
 * the freestanding scene model (enum viz_op, also built for WebAssembly)
 * number them from this one list and an op needs no translation between
 * them. X(ID, "name") is called once per entry, in the order of the enums.
 */
#ifndef TRACEFS_TRACE_NAMES_H
#define TRACEFS_TRACE_NAMES_H

#define TRACE_OPS(X)                                                                      \
	X(LOOKUP, "lookup")                                                               \
	X(GETATTR, "getattr")                                                             \
	X(SETATTR, "setattr")                                                             \
	X(READLINK, "readlink")                                                           \
	X(MKNOD, "mknod")                                                                 \
	X(MKDIR, "mkdir")                                                                 \
	X(UNLINK, "unlink")                                                               \
	X(RMDIR, "rmdir")                                                                 \
	X(SYMLINK, "symlink")                                                             \
	X(RENAME, "rename")                                                               \
	X(LINK, "link")                                                                   \
	X(OPEN, "open")                                                                   \
	X(READ, "read")                                                                   \
	X(WRITE, "write")                                                                 \
	X(FLUSH, "flush")                                                                 \
	X(RELEASE, "release")                                                             \
	X(FSYNC, "fsync")                                                                 \
	X(OPENDIR, "opendir")                                                             \
	X(READDIR, "readdir")                                                             \
	X(RELEASEDIR, "releasedir")                                                       \
	X(FSYNCDIR, "fsyncdir")                                                           \
	X(STATFS, "statfs")                                                               \
	X(SETXATTR, "setxattr")                                                           \
	X(GETXATTR, "getxattr")                                                           \
	X(LISTXATTR, "listxattr")                                                         \
	X(REMOVEXATTR, "removexattr")                                                     \
	X(ACCESS, "access")                                                               \
	X(CREATE, "create")                                                               \
	X(FLOCK, "flock")                                                                 \
	X(FALLOCATE, "fallocate")                                                         \
	X(COPY_FILE_RANGE, "copy_file_range")                                             \
	X(LSEEK, "lseek")                                                                 \
	X(LOST, "lost")	  /* marker row: `bytes` holds how many events were lost */          \
	X(COMMIT, "commit") /* the versioned store committed: id in path2, files in bytes */

/* NONE: unknown, e.g. a lookup of a name that does not exist; the trace shows NULL. */
#define TRACE_KINDS(X)                                                                    \
	X(NONE, 0)                                                                        \
	X(FILE, "file")                                                                   \
	X(DIR, "dir")                                                                     \
	X(SYMLINK, "symlink")                                                             \
	X(OTHER, "other")

#endif
