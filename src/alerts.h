/*
 * alerts.h
 *		Alert evaluation and webhook delivery from the ingestion worker.
 */
#ifndef STOCKEXT_ALERTS_H
#define STOCKEXT_ALERTS_H

#include "utils/palloc.h"

/*
 * One round, after the worker's polls: evaluates the queued bars (its own
 * transaction), takes finished webhook posts, records them and starts the
 * due ones.  Every round, polls or none: a bar left waiting for its close
 * is evaluated by the first round after it closes, however it closed.
 * Never waits for the network and never raises an error.
 */
extern void alerts_worker_step(MemoryContext ctx);

#endif							/* STOCKEXT_ALERTS_H */
