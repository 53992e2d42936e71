/*
 * render.h — the whole interface of render/: `tracefs render FILE.db -o
 * OUT`, which plays a recorded trace through the scene model (play/, viz/)
 * and draws it with cairo into a PNG, a directory of PNG frames, or an
 * .mp4/.webm video through ffmpeg. ARGV[0] names the command; returns the
 * process's exit status (0, 1 on failure, 2 on bad usage, 130 when
 * interrupted by SIGINT or SIGTERM, leaving no output behind).
 */
#ifndef TRACEFS_RENDER_H
#define TRACEFS_RENDER_H

int render_command(int argc, char **argv);

#endif
