/*
 * distributed.h
 *		What stockext's C asks of a Citus cluster its bars are distributed
 *		over (stockext.distribute()).
 */
#ifndef STOCKEXT_DISTRIBUTED_H
#define STOCKEXT_DISTRIBUTED_H

/*
 * Whether Citus distributes stockext.ticks; asked once a transaction where
 * Citus is installed.  In an SPI connection.
 */
extern bool ticks_distributed(void);

#endif							/* STOCKEXT_DISTRIBUTED_H */
