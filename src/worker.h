/*
 * worker.h
 *		The ingestion launcher and per-database workers.
 */
#ifndef STOCKEXT_WORKER_H
#define STOCKEXT_WORKER_H

/* From _PG_init: shared memory and the launcher, when preloaded. */
extern void stockext_worker_init(void);

#endif							/* STOCKEXT_WORKER_H */
