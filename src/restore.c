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
 * would give the partition a copy of the key and the dump's ADD CONSTRAINT
 * would then fail ("multiple primary keys").
 *
 * An event trigger at ddl_command_start lets the dump's statements go
 * through unchanged:
 *  - before an ATTACH of that shape in a restore session, the parent's key
 *    is dropped (stockext.restore_drop_key), so the partitions restored
 *    from then on get only the key the dump adds;
 *  - before the dump's ALTER INDEX ... ATTACH PARTITION on the parent key
 *    that is no longer there, the key is made again and the partitions'
 *    keys attached to it (stockext.restore_add_key).
 * Both run before the statement locks anything, and take the parent
 * exclusively first, so a session reading ticks meanwhile (the worker) only
 * makes the restore wait.  Taking the parent after the ATTACH has locked
 * the default partition would deadlock with a reader holding the parent and
 * waiting for that partition.  Both need the statement's parse tree (ONLY,
 * which partition, which index), which a plpgsql event trigger cannot see;
 * the SQL functions do the rest.
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

/* The ATTACH PARTITION command of an ALTER statement that does nothing else, or NULL. */
static PartitionCmd *
attach_command(AlterTableStmt *stmt)
{
	AlterTableCmd *cmd;

	if (list_length(stmt->cmds) != 1)
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

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stockext_restore_trigger: \"%s\" failed", sql);
	SPI_finish();
}

/*
 * "ALTER TABLE ONLY <member> ATTACH PARTITION <table>" in a restore session:
 * pg_dump and pg_restore run with check_function_bodies off.
 */
static void
attach_table(AlterTableStmt *stmt, PartitionCmd *cmd)
{
	Oid			parent;
	Oid			part;

	if (stmt->relation->inh || check_function_bodies)
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
 * "ALTER INDEX <missing> ATTACH PARTITION <index>" where <index> is on a
 * partition of a member and <missing> would be in the member's schema.
 */
static void
attach_index(AlterTableStmt *stmt, PartitionCmd *cmd)
{
	RangeVar   *target = stmt->relation;
	Oid			index;
	Oid			table;
	Oid			parent;

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
 * Event trigger at the start of ALTER TABLE and ALTER INDEX: lets a dump's
 * partitions of stockext.ticks be restored (see above).  Not inside an
 * extension script, where check_function_bodies is off too.
 */
PG_FUNCTION_INFO_V1(stockext_restore_trigger);
Datum
stockext_restore_trigger(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	AlterTableStmt *stmt;
	PartitionCmd *cmd;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "stockext_restore_trigger: not fired by an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (creating_extension || strcmp(trigdata->event, "ddl_command_start") != 0
		|| trigdata->parsetree == NULL || !IsA(trigdata->parsetree, AlterTableStmt))
		PG_RETURN_VOID();
	stmt = (AlterTableStmt *) trigdata->parsetree;
	cmd = attach_command(stmt);
	if (cmd != NULL && stmt->objtype == OBJECT_TABLE)
		attach_table(stmt, cmd);
	else if (cmd != NULL && stmt->objtype == OBJECT_INDEX)
		attach_index(stmt, cmd);
	PG_RETURN_VOID();
}
