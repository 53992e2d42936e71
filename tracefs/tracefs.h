/*
 * tracefs.h — the interface of tracefs/, the FUSE layer: the commands that
 * mount a traced view of a directory and unmount it.
 */
#ifndef TRACEFS_TRACEFS_H
#define TRACEFS_TRACEFS_H

/* `tracefs [mount] ...`: ARGV[0] is the command name. Returns an exit status. */
int tracefs_mount_command(int argc, char **argv);

/* `tracefs umount MOUNTPOINT`. Returns an exit status. */
int tracefs_umount_command(int argc, char **argv);

/* `tracefs run -- COMMAND`. Returns COMMAND's exit status. */
int tracefs_run_command(int argc, char **argv);

/* `tracefs store clone|status|sync|log`. Returns an exit status. */
int tracefs_store_command(int argc, char **argv);

#endif
