/*
 * stats.c — what the events so far add up to (events by operation, by
 * errno and by process), kept in the model so that the page's panel and
 * render's --dump-scene read the same numbers, and which processes have a
 * colour of their own when colouring by process.
 *
 * Colours go to the busiest processes by events so far: a process takes
 * a free colour, or the colour of the least busy holder once it has a
 * quarter more events than that one. The busiest keep theirs for good, a
 * short-lived one rarely gets one, and every colour of the legend is one
 * process: the rest are drawn in one grey as "others".
 */
#include "viz/scene.h"

#define NO_PROCESS 0xffff
#define OVERTAKE 1.25 /* a process takes a colour from one it has this many times the events of */

static struct viz_color others_color(void)
{
	return (struct viz_color){0.55f, 0.58f, 0.62f, 1};
}

static void take_slot(struct viz_scene *s, uint16_t process)
{
	struct vz_process *p = &s->processes[process];
	int weakest = -1;
	for (int slot = 0; slot < VIZ_PROCESS_COLORS; slot++) {
		if (!s->slot_owner[slot]) {
			weakest = slot;
			break;
		}
		const struct vz_process *owner = &s->processes[s->slot_owner[slot] - 1];
		if (weakest < 0 ||
		    owner->events < s->processes[s->slot_owner[weakest] - 1].events)
			weakest = slot;
	}
	if (s->slot_owner[weakest]) {
		struct vz_process *owner = &s->processes[s->slot_owner[weakest] - 1];
		if ((double)p->events < OVERTAKE * (double)owner->events)
			return;
		owner->slot = VZ_NO_SLOT;
	}
	s->slot_owner[weakest] = (uint16_t)(process + 1);
	p->slot = (uint8_t)weakest;
}

void vz_stats_count(struct viz_scene *s, const struct viz_event *e, uint16_t process)
{
	if ((unsigned)e->op < VIZ_OP_COUNT)
		s->op_events[e->op]++;
	if (e->result < 0)
		s->errno_events[-(int64_t)e->result < VIZ_ERRNO_SLOTS ? -e->result : 0]++;
	if (process == NO_PROCESS)
		return;
	struct vz_process *p = &s->processes[process];
	p->events++;
	p->errors += e->result < 0;
	if (p->slot == VZ_NO_SLOT)
		take_slot(s, process);
}

struct viz_color vz_process_shade(const struct viz_scene *s, uint16_t process)
{
	if (process == NO_PROCESS || s->processes[process].slot == VZ_NO_SLOT)
		return others_color();
	return vz_process_color(s->processes[process].slot);
}

uint64_t viz_scene_events(const struct viz_scene *s)
{
	return s->events;
}

uint64_t viz_scene_op_events(const struct viz_scene *s, enum viz_op op)
{
	return (unsigned)op < VIZ_OP_COUNT ? s->op_events[op] : 0;
}

uint64_t viz_scene_errno_events(const struct viz_scene *s, int errno_value)
{
	return errno_value >= 0 && errno_value < VIZ_ERRNO_SLOTS ? s->errno_events[errno_value] : 0;
}

size_t viz_scene_process_count(const struct viz_scene *s)
{
	return s->process_count;
}

void viz_scene_process(const struct viz_scene *s, size_t index, struct viz_process_info *info)
{
	const struct vz_process *p = &s->processes[index];
	uint32_t len;
	info->name = vz_name_text(s, p->name, &len);
	info->events = p->events;
	info->errors = p->errors;
	info->color_slot = p->slot == VZ_NO_SLOT ? -1 : p->slot;
	info->color = vz_process_shade(s, (uint16_t)index);
}

void viz_scene_restore_events(struct viz_scene *s, uint64_t events)
{
	s->events = events;
}

void viz_scene_restore_op_events(struct viz_scene *s, enum viz_op op, uint64_t events)
{
	if ((unsigned)op < VIZ_OP_COUNT)
		s->op_events[op] = events;
}

void viz_scene_restore_errno_events(struct viz_scene *s, int errno_value, uint64_t events)
{
	if (errno_value >= 0 && errno_value < VIZ_ERRNO_SLOTS)
		s->errno_events[errno_value] = events;
}
