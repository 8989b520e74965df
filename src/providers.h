/*
 * providers.h
 *		The registry of providers (providers.c); server side.
 */
#ifndef STOCKEXT_PROVIDERS_H
#define STOCKEXT_PROVIDERS_H

#include "provider.h"

/* Every provider, in the order of stockext.providers(). */
extern const Provider *const provider_list[];
extern const int provider_count;

/* The provider named name, or NULL. */
extern const Provider *provider_find(const char *name);

/* The position of p in provider_list. */
extern int	provider_index(const Provider *p);

#endif							/* STOCKEXT_PROVIDERS_H */
