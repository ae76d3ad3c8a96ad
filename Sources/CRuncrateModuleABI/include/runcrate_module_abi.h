#ifndef RUNCRATE_MODULE_ABI_H
#define RUNCRATE_MODULE_ABI_H

/* The C interface between `runcrate-lua` and the library holding the `runcrate` module
   (libRuncrateLuaModule.so, beside the executable). The executable stays small, so a script that
   does not use the module starts as fast as lua itself; the library — the module, the API client,
   the sandbox, Foundation and NIO — is loaded the first time a script touches `runcrate`.
   Each side links its own copy of the Swift runtime and of LuaBridge: only C values cross, and the
   Lua state they share. Both sides are built from the same sources; `abi_version` checks that. */

struct lua_State;

/* Swift sees `lua_State *` as a typed pointer (`UnsafeMutablePointer<lua_State>`) rather than an
   `OpaquePointer`, so the bridge's methods are on the Lua state alone. An empty stand-in: its fields
   are Lua's own, never read outside Lua. Each header that names the state defines it the same way. */
#ifndef RUNCRATE_LUA_STATE_DEFINED
#define RUNCRATE_LUA_STATE_DEFINED
struct lua_State {};
#endif

#define RUNCRATE_MODULE_ABI_VERSION 3

enum {
    RUNCRATE_MODULE_MODE_AUTOMATIC = 0,  /* no --sandbox/--live: live when a key is configured */
    RUNCRATE_MODULE_MODE_SANDBOX = 1,
    RUNCRATE_MODULE_MODE_LIVE = 2,
};

/* The module's command-line settings. Strings are NUL-terminated and may be NULL (not given). */
typedef struct runcrate_module_options {
    int abi_version;          /* RUNCRATE_MODULE_ABI_VERSION */
    int mode;                 /* RUNCRATE_MODULE_MODE_* */
    int dry_run;
    int json;                 /* stdout carries one JSON document; the script's own output goes to stderr */
    int verbose;
    int assume_yes;
    int global_help;          /* also set the global `help` (REPL, -e) when it is nil */
    int has_max_instances;
    long long max_instances;
    int has_max_hourly_cost;
    double max_hourly_cost;
    const char *plan_out;
    const char *environment;
    const char *sandbox_state;   /* --sandbox-state FILE: the in-process sandbox keeps its state there */
    const char *sandbox_url;     /* --sandbox-url URL: a running runcrate-sandbox on a loopback address */
} runcrate_module_options;

/* Installs the module into the table at `table_index`, which becomes `runcrate`. Returns 0 (stack
   unchanged), or 1 with the error message pushed. Called once, from a Swift function (never raises). */
typedef int (*runcrate_module_install_fn)(struct lua_State *L, const runcrate_module_options *options, int table_index);
#define RUNCRATE_MODULE_INSTALL_SYMBOL "runcrate_module_install"

/* --json: keeps the script's results (`count` values from `first`; 0 for none) for the document
   `finish` prints. Returns 0, or 1 when one cannot be written as JSON (a function, userdata or
   thread): then the run fails, and the document is that error. */
typedef int (*runcrate_module_keep_result_fn)(struct lua_State *L, int first, int count);
#define RUNCRATE_MODULE_KEEP_RESULT_SYMBOL "runcrate_module_keep_result"

/* --json: keeps the error that ended the run for the document `finish` prints. `kind` is how it
   ended ("error", "syntax_error", "timeout", "interrupted", "memory"); `report` the message as
   printed on stderr. The error value as raised is read from the registry (RCSHIM_LAST_ERROR_KEY). */
typedef void (*runcrate_module_keep_error_fn)(struct lua_State *L, const char *kind, const char *report);
#define RUNCRATE_MODULE_KEEP_ERROR_SYMBOL "runcrate_module_keep_error"

/* The run has ended with `status`: prints a dry run's plan (a table on stderr) and saves it; with
   --json, prints the one JSON document on stdout (the result or the error, with the plan in a dry
   run). Returns the exit status. */
typedef int (*runcrate_module_finish_fn)(int status);
#define RUNCRATE_MODULE_FINISH_SYMBOL "runcrate_module_finish"

/* The exit status for the error that ended a script, when it is one of the module's error objects
   whose code has one (spend_cap: 3, interrupted: 130); -1 otherwise. Read from the error value as
   raised (RCSHIM_LAST_ERROR_KEY in the registry), never from its text. */
typedef int (*runcrate_module_exit_status_fn)(struct lua_State *L);
#define RUNCRATE_MODULE_EXIT_STATUS_SYMBOL "runcrate_module_exit_status"

#endif
