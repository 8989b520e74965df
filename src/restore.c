/*
 * restore.c
 *		pg_dump and pg_restore keep the primary key of stockext.ticks whole.
 *
 * The monthly partitions of stockext.ticks are not members of the extension,
 * so pg_dump writes them out: before the data, CREATE TABLE and "ALTER TABLE
 * ONLY stockext.ticks ATTACH PARTITION"; after it, "ALTER TABLE ONLY
 * <partition> ADD CONSTRAINT <partition>_pkey PRIMARY KEY" and "ALTER INDEX
 * stockext.ticks_pkey ATTACH PARTITION <partition>_pkey".  stockext.ticks
 * itself is a member, made with its key by CREATE EXTENSION, so the ATTACH
 * already gives the partition a copy of the key and the dump's ADD
 * CONSTRAINT then fails ("multiple primary keys").
 *
 * Two event triggers let the dump's statements go through unchanged:
 *  - after an ATTACH of that shape in a restore session, the parent's key
 *    is dropped (stockext.restore_drop_key), so the partitions restored
 *    from then on get only the key the dump adds;
 *  - before the dump's ALTER INDEX ... ATTACH PARTITION on the parent key
 *    that is no longer there, the key is made again and the partitions'
 *    keys attached to it (stockext.restore_add_key).
 * Both need the statement's parse tree (ONLY, which partition, which index),
 * which a plpgsql event trigger cannot see; the SQL functions do the rest.
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

/* Whether relid is a partitioned table that belongs to stockext. */
static bool
is_member_partitioned(Oid relid)
{
	Oid			ext = get_extension_oid("stockext", true);

	return OidIsValid(relid) && OidIsValid(ext)
		&& get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE
		&& getExtensionOfObject(RelationRelationId, relid) == ext;
}

/*
 * The ATTACH PARTITION command of an ALTER TABLE or ALTER INDEX that does
 * nothing else, or NULL.
 */
static PartitionCmd *
attach_command(Node *parsetree, ObjectType objtype)
{
	AlterTableStmt *stmt;
	AlterTableCmd *cmd;

	if (parsetree == NULL || !IsA(parsetree, AlterTableStmt))
		return NULL;
	stmt = (AlterTableStmt *) parsetree;
	if (stmt->objtype != objtype || list_length(stmt->cmds) != 1)
		return NULL;
	cmd = linitial_node(AlterTableCmd, stmt->cmds);
	if (cmd->subtype != AT_AttachPartition)
		return NULL;
	return castNode(PartitionCmd, cmd->def);
}

/* Runs sql, a call of a stockext function, with $1 a relation and $2 arg2. */
static void
call_restore_function(const char *sql, Oid rel, Datum arg2, Oid arg2type)
{
	Oid			types[2] = {REGCLASSOID, arg2type};
	Datum		values[2] = {ObjectIdGetDatum(rel), arg2};

	SPI_connect();
	if (SPI_execute_with_args(sql, 2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stockext_restore_trigger: \"%s\" failed", sql);
	SPI_finish();
}

/*
 * After "ALTER TABLE ONLY <member> ATTACH PARTITION <table>" in a restore
 * session: pg_dump and pg_restore run with check_function_bodies off
 * (inside CREATE EXTENSION it is off too, hence the second test).
 */
static void
attach_table_end(Node *parsetree)
{
	PartitionCmd *cmd = attach_command(parsetree, OBJECT_TABLE);
	AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
	Oid			parent;
	Oid			part;

	if (cmd == NULL || stmt->relation->inh || check_function_bodies || creating_extension)
		return;
	parent = RangeVarGetRelid(stmt->relation, NoLock, true);
	part = RangeVarGetRelid(cmd->name, NoLock, true);
	if (!is_member_partitioned(parent) || !OidIsValid(part) || get_rel_relkind(part) != RELKIND_RELATION
		|| OidIsValid(getExtensionOfObject(RelationRelationId, part)))
		return;
	call_restore_function("SELECT stockext.restore_drop_key($1, $2)", parent,
						  ObjectIdGetDatum(part), REGCLASSOID);
}

/*
 * Before "ALTER INDEX <missing> ATTACH PARTITION <index>" where <index> is on
 * a partition of a member and <missing> would be in the member's schema.
 */
static void
attach_index_start(Node *parsetree)
{
	PartitionCmd *cmd = attach_command(parsetree, OBJECT_INDEX);
	RangeVar   *target;
	Oid			index;
	Oid			table;
	Oid			parent;

	if (cmd == NULL || creating_extension)
		return;
	target = ((AlterTableStmt *) parsetree)->relation;
	if (OidIsValid(RangeVarGetRelid(target, NoLock, true)))
		return;
	index = RangeVarGetRelid(cmd->name, NoLock, true);
	if (!OidIsValid(index) || get_rel_relkind(index) != RELKIND_INDEX)
		return;
	table = IndexGetRelation(index, false);
	if (!get_rel_relispartition(table))
		return;
	parent = get_partition_parent(table, false);
	if (!is_member_partitioned(parent)
		|| (target->schemaname != NULL
			&& get_namespace_oid(target->schemaname, true) != get_rel_namespace(parent)))
		return;
	call_restore_function("SELECT stockext.restore_add_key($1, $2::name)", parent,
						  CStringGetTextDatum(target->relname), TEXTOID);
}

/*
 * Event trigger at the end of ALTER TABLE and at the start of ALTER INDEX:
 * lets a dump's partitions of stockext.ticks be restored (see above).
 */
PG_FUNCTION_INFO_V1(stockext_restore_trigger);
Datum
stockext_restore_trigger(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "stockext_restore_trigger: not fired by an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (strcmp(trigdata->event, "ddl_command_end") == 0)
		attach_table_end(trigdata->parsetree);
	else if (strcmp(trigdata->event, "ddl_command_start") == 0)
		attach_index_start(trigdata->parsetree);
	PG_RETURN_VOID();
}
