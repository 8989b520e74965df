/*
 * drop.h
 *		DROP EXTENSION stockext: what the event triggers share.
 */
#ifndef STOCKEXT_DROP_H
#define STOCKEXT_DROP_H

#include "nodes/nodes.h"

/* Whether a statement is a DROP EXTENSION that names stockext. */
extern bool drops_stockext(Node *parsetree);

#endif							/* STOCKEXT_DROP_H */
