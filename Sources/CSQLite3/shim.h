#ifndef CSQLite3_SHIM_H
#define CSQLite3_SHIM_H
#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call. Every connection of Osiris is used by one
   thread at a time, so SQLite's connection mutexes are pure overhead: switch them off once, before
   SQLite is first used. Memory statistics stay on: without them SQLite ignores its heap limits,
   which is how sqlite.processor keeps to its memory budget. */
static inline int osiris_sqlite3_configure(void) {
    return sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
}

#ifndef CSQLite3_SHIM_VTAB
#define CSQLite3_SHIM_VTAB
/* A virtual table and its cursor carrying a pointer to the Swift object behind them: the streaming
   input tables of sqlite.processor. SQLite requires the base structs to come first. */
typedef struct osiris_vtab {
    sqlite3_vtab base;
    void *owner;
} osiris_vtab;

typedef struct osiris_vtab_cursor {
    sqlite3_vtab_cursor base;
    void *owner;
} osiris_vtab_cursor;

/* A real's text as SQLite renders it (sqlite3_column_text of a REAL value, SQLite 3.40's
   vdbeMemRenderNum); sqlite3_mprintf is variadic. Free the result with sqlite3_free. */
static inline char *osiris_sqlite3_real_text(double value) {
    return sqlite3_mprintf("%!.15g", value);
}

/* sqlite3_vtab_config is variadic too. */
static inline int osiris_sqlite3_vtab_innocuous(sqlite3 *db) {
    return sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
}
#endif
#endif /* CSQLite3_SHIM_H */
