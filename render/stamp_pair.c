/*
 * stamp_pair.c — the stamp (viz_stamp_edges, viz_stamp_frame) on two
 * threads: the caller stamps the rows above a split, a helper thread those
 * below. Stamps of disjoint rows give the pixels one stamp of the whole
 * picture would (see viz.h), so the picture does not depend on where the
 * split falls; it falls where half the work is, as the frame's nodes say.
 * Without the helper (it could not start) the caller stamps it all.
 */
#include <stdlib.h>

#include "render/internal.h"

static void stamp(struct viz_stamp *st, const struct viz_frame *f, bool edges)
{
	if (edges)
		viz_stamp_edges(st, f);
	else
		viz_stamp_frame(st, f);
}

static void *helping(void *arg)
{
	struct stamp_pair *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->quit && !p->pending)
			pthread_cond_wait(&p->go, &p->lock);
		if (p->quit)
			break;
		pthread_mutex_unlock(&p->lock);
		stamp(&p->st, p->frame, p->edges);
		pthread_mutex_lock(&p->lock);
		p->pending = false;
		pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Starts the helper with its own scratch table for WIDTH x HEIGHT; false if it cannot. */
static bool start(struct stamp_pair *p, int width, int height)
{
	size_t words = ((size_t)width + 1) * ((size_t)height + 1);
	if (p->cover_words != words) {
		free(p->cover);
		p->cover = malloc(words * sizeof(uint32_t));
		p->cover_words = p->cover ? words : 0;
	}
	if (p->running || p->failed)
		return p->running;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		p->failed = true;
		return false;
	}
	if (pthread_cond_init(&p->go, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		p->failed = true;
		return false;
	}
	if (pthread_cond_init(&p->done, NULL) != 0) {
		pthread_cond_destroy(&p->go);
		pthread_mutex_destroy(&p->lock);
		p->failed = true;
		return false;
	}
	if (pthread_create(&p->thread, NULL, helping, p) != 0) {
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->go);
		pthread_mutex_destroy(&p->lock);
		p->failed = true;
		return false;
	}
	p->running = true;
	return true;
}

/* Adds WEIGHT to each row from Y0 to Y1 (screen, inclusive), kept as differences in P->row_weight. */
static void weigh_rows(struct stamp_pair *p, int height, double y0, double y1, double weight)
{
	int from = y0 < 0 ? 0 : y0 >= height ? height - 1 : (int)y0;
	int to = y1 < 0 ? 0 : y1 >= height ? height - 1 : (int)y1;
	p->row_weight[from] += weight;
	p->row_weight[to + 1] -= weight;
}

/*
 * The row that splits the stamping work in two: a node's on the rows its
 * dot and halo cover (a flashing node's halo is most of it), an edge's
 * spread over the rows it crosses.
 */
static int split_row(struct stamp_pair *p, const struct viz_stamp *st, const struct viz_frame *f,
		     bool edges)
{
	size_t rows = (size_t)st->height;
	if (p->row_weight_len < rows + 1) {
		free(p->row_weight);
		p->row_weight = calloc(rows + 1, sizeof(*p->row_weight));
		p->row_weight_len = p->row_weight ? rows + 1 : 0;
		if (!p->row_weight)
			return st->height / 2;
	}
	for (size_t i = 0; edges && i < f->edge_count; i++) {
		const struct viz_frame_edge *e = &f->edges[i];
		if (!viz_stamped_edge(st, e))
			continue;
		double y1 = st->oy + e->y1 * st->scale, y2 = st->oy + e->y2 * st->scale;
		double dx = (e->x2 - e->x1) * st->scale, dy = y2 - y1;
		double length = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
		weigh_rows(p, st->height, y1 < y2 ? y1 : y2, y1 < y2 ? y2 : y1,
			   length / ((dy < 0 ? -dy : dy) + 1));
	}
	for (size_t i = 0; !edges && i < f->node_count; i++) {
		const struct viz_frame_node *n = &f->nodes[i];
		if (!viz_stamped(st, n))
			continue;
		double y = st->oy + n->y * st->scale, r = n->r * st->scale;
		double reach = viz_glow_level(n) > 0 ? 3.2 * r + 4.5 * st->height / 720.0 : r;
		weigh_rows(p, st->height, y - reach, y + reach, 2 * reach + 1);
	}
	double total = 0, run = 0;
	for (size_t row = 0; row < rows; row++) {
		run += p->row_weight[row];
		total += run;
	}
	double seen = 0;
	int split = st->height / 2;
	bool found = !(total > 0);
	run = 0;
	for (size_t row = 0; row <= rows; row++) {
		run += p->row_weight[row];
		p->row_weight[row] = 0;
		seen += row < rows ? run : 0;
		if (!found && 2 * seen >= total) {
			split = (int)row + 1;
			found = true;
		}
	}
	return split;
}

void stamp_pair_run(struct stamp_pair *p, struct viz_stamp *st, const struct viz_frame *f,
		    bool edges)
{
	if (st->height < 2 || !st->cover || !start(p, st->width, st->height) || !p->cover) {
		stamp(st, f, edges);
		return;
	}
	if (!edges && p->halo_capacity < f->node_count) {
		free(p->halos);
		p->halos = malloc(f->node_count * sizeof(*p->halos));
		p->halo_capacity = p->halos ? f->node_count : 0;
	}
	int split = split_row(p, st, f, edges);
	pthread_mutex_lock(&p->lock);
	p->st = *st;
	p->st.row_from = split;
	p->st.row_to = st->height;
	p->st.cover = p->cover;
	p->st.halos = p->halos; /* if that failed: no list */
	p->st.halo_capacity = p->halo_capacity;
	p->frame = f;
	p->edges = edges;
	p->pending = true;
	pthread_cond_signal(&p->go);
	pthread_mutex_unlock(&p->lock);
	struct viz_stamp above = *st;
	above.row_from = 0;
	above.row_to = split;
	if (split > 0)
		stamp(&above, f, edges);
	pthread_mutex_lock(&p->lock);
	while (p->pending)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void stamp_pair_stop(struct stamp_pair *p)
{
	if (p->running) {
		pthread_mutex_lock(&p->lock);
		p->quit = true;
		pthread_cond_signal(&p->go);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->go);
		pthread_mutex_destroy(&p->lock);
	}
	free(p->cover);
	free(p->halos);
	free(p->row_weight);
	*p = (struct stamp_pair){0};
}
