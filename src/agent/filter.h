/*
 * filter.h — globs and Telegraf's per-plugin metric filters.
 *
 * Glob syntax (as gobwas/glob, which Telegraf uses): `*` any run of
 * characters, `?` one character, `[abc]`, `[a-z]`, `[!a-z]`/`[^a-z]` one
 * character of (not of) a class, `{a,b}` alternatives, `\x` a literal x.
 *
 * Filter semantics, in Telegraf's order:
 *   selection  namepass (name must match one) / namedrop (must match none);
 *              tagpass (some listed tag matches one of its globs) /
 *              tagdrop (no listed tag matches);
 *   modify     fieldinclude/fieldexclude (old names fieldpass/fielddrop)
 *              remove fields; taginclude/tagexclude remove tags.
 * A metric left without fields is dropped.
 */
#ifndef SL_AGENT_FILTER_H
#define SL_AGENT_FILTER_H

#include <stddef.h>

#include "agent/metric.h"

/* Returns 1 when the whole of s matches pattern, else 0. A malformed pattern
 * (unclosed [ or {) matches nothing but itself literally. */
int glob_match(const char *pattern, const char *s);

struct glob_list {
    char **v;
    size_t n;
};
/* Adds a copy of pattern. */
int glob_list_add(struct glob_list *l, const char *pattern);
/* 1 when any pattern matches s. */
int glob_list_match(const struct glob_list *l, const char *s);
void glob_list_release(struct glob_list *l);

struct tag_filter {
    char *key;
    struct glob_list globs;
};

struct metric_filter {
    struct glob_list namepass, namedrop;
    struct glob_list fieldinclude, fieldexclude;
    struct glob_list taginclude, tagexclude;
    struct tag_filter *tagpass, *tagdrop;
    size_t ntagpass, ntagdrop;
};

/* Adds an entry to tagpass (drop = 0) or tagdrop (drop = 1): tag `key` with
 * one more glob. */
int metric_filter_add_tag(struct metric_filter *f, int drop, const char *key, const char *glob);
/* 1 when the filter has any condition at all. */
int metric_filter_active(const struct metric_filter *f);
/* The selection half: 1 when the metric passes name and tag filters. */
int metric_filter_select(const struct metric_filter *f, const struct metric *m);
/* The modification half: removes fields and tags; 0 when no field is left. */
int metric_filter_modify(const struct metric_filter *f, struct metric *m);
/* Both halves. Applies the filter to m in place. Returns 1 to keep the metric, 0 when it
 * must be dropped (the caller frees it). */
int metric_filter_apply(const struct metric_filter *f, struct metric *m);
void metric_filter_release(struct metric_filter *f);

#endif
