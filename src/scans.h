/*-------------------------------------------------------------------------
 * scans.h
 *		Declarations shared by the ordered scans.
 *
 * scan_support.c   the setting, the planner hook, shared recognition
 * ordered_scan.c   a contact's CRM objects merged in created_at order
 * item_merge.c     a principal's content items merged from its tabs
 *-------------------------------------------------------------------------
 */
#ifndef INTROW_SCANS_H
#define INTROW_SCANS_H

#include "introw.h"

#include "access/skey.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "nodes/extensible.h"
#include "nodes/pathnodes.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* scan_support.c */

/* The values of the ordering column that the query's bounds allow. */
typedef struct ScanTimeRange
{
	bool		empty;			/* none */
	bool		has_upper;
	bool		upper_strict;	/* column < upper, else <= */
	TimestampTz upper;
	bool		has_lower;
	bool		lower_strict;	/* column > lower, else >= */
	TimestampTz lower;
} ScanTimeRange;

extern bool ScanMayBeOrdered(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte);
extern bool ScanColumnIs(Node *node, Index relid, AttrNumber attnum);
extern Node *ScanEqualityValue(PlannerInfo *root, Node *clause, Index relid,
							   AttrNumber attnum, Oid eqfunc);
extern bool ScanFindColumns(Oid relid, const char *const *names, const Oid *types, int n,
							AttrNumber *attnums, AttrNumber not_null);
extern bool ScanIndexLeads(IndexOptInfo *index, const AttrNumber *attnums, int n);
extern bool ScanOrderedBy(PlannerInfo *root, RelOptInfo *rel, AttrNumber attnum, Oid opfamily,
						  bool *descending);
extern bool ScanNeedsSystemColumns(RelOptInfo *rel);
extern CustomPath *ScanMakePath(PlannerInfo *root, RelOptInfo *rel,
								const CustomPathMethods *methods, List *private,
								AttrNumber attnum, Oid opfamily, List **bound_quals);
extern Plan *ScanMakePlan(RelOptInfo *rel, CustomPath *best_path, List *tlist, List *clauses,
						  List *implied, List *tested_instead,
						  const CustomScanMethods *methods);
extern void ScanEqualityKey(ScanKey key, Relation index, int column, Oid type, Datum value,
							int flags);
extern void ScanComparisonKey(ScanKey key, Relation index, int column, Oid type,
							  StrategyNumber strategy, Datum value, int flags);
extern int	ScanCompareTimes(TimestampTz a, TimestampTz b);
extern ScanDirection ScanDirectionFor(bool query_descending, bool index_descending);
extern void ScanSortTids(ItemPointerData *tids, int n);
extern bool ScanTidIn(const ItemPointerData *tids, int n, ItemPointer tid);
extern List *ScanInitBounds(CustomScanState *node);
extern ExprState *ScanInitImplied(CustomScanState *node);
extern bool ScanPassesImplied(CustomScanState *node, ExprState *implied, TupleTableSlot *slot);
extern void ScanEvalTimeRange(CustomScanState *node, List *value_states, ScanTimeRange *range);
extern bool ScanTimeRangeKey(ScanKey key, Relation index, int column, const ScanTimeRange *range,
							 bool descending, bool start);
extern int	ScanTimeRangeKeys(ScanKey keys, Relation index, int column,
							  const ScanTimeRange *range, bool descending);
extern void ScanExplainBounds(CustomScanState *node, List *ancestors, ExplainState *es,
							  const char *column);
extern void ScanExplainImplied(CustomScanState *node, List *ancestors, ExplainState *es,
							   const char *label);
extern CustomScanState *ScanNewState(Size size, const CustomExecMethods *methods);
extern bool ScanRecheckRow(CustomScanState *node, ExprState *implied, TupleTableSlot *slot);
extern TupleTableSlot *ScanExec(CustomScanState *node, ExecScanAccessMtd next,
								ExecScanRecheckMtd recheck);
extern TupleTableSlot *ScanRowOf(ScanState *ss, TupleTableSlot *slot, ItemPointer tid);

/* ordered_scan.c */
extern void OrderedScanInit(void);
extern void OrderedScanAddPath(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte);

/* item_merge.c */
extern void ItemMergeInit(void);
extern void ItemMergeAddPath(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte);

#endif							/* INTROW_SCANS_H */
