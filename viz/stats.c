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
 * process: the rest are drawn in one grey as "others". A family (see
 * viz_scene_join_family()) counts as one: its head earns the colour with
 * all of its members' events, and each member has a shade of it.
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
		    owner->family_events < s->processes[s->slot_owner[weakest] - 1].family_events)
			weakest = slot;
	}
	if (s->slot_owner[weakest]) {
		struct vz_process *owner = &s->processes[s->slot_owner[weakest] - 1];
		if ((double)p->family_events < OVERTAKE * (double)owner->family_events)
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
	struct vz_process *head = &s->processes[p->head];
	head->family_events++;
	if (head->slot == VZ_NO_SLOT)
		take_slot(s, p->head);
}

/*
 * The shades of a family's colour: lighter and darker by turns, further
 * each round, so that the first few stand apart from the head and from
 * each other and all keep its hue; never darker than 45% of the way to
 * black, which on the dark background would be lost.
 */
static struct viz_color family_shade(struct viz_color base, uint8_t shade)
{
	static const float towards[VIZ_FAMILY_SHADES] = {0.45f, -0.3f, 0.7f, -0.45f, 0.2f, -0.15f};
	float f = towards[(shade - 1) % VIZ_FAMILY_SHADES];
	struct viz_color to = f > 0 ? (struct viz_color){1, 1, 1, base.a} : (struct viz_color){0, 0, 0, base.a};
	return vz_mix(base, to, f > 0 ? f : -f);
}

struct viz_color vz_process_shade(const struct viz_scene *s, uint16_t process)
{
	if (process == NO_PROCESS)
		return others_color();
	const struct vz_process *p = &s->processes[process];
	uint8_t slot = s->processes[p->head].slot;
	if (slot == VZ_NO_SLOT)
		return others_color();
	return p->shade ? family_shade(vz_process_color(slot), p->shade) : vz_process_color(slot);
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
