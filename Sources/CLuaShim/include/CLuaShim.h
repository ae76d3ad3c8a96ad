#ifndef CLUASHIM_H
#define CLUASHIM_H

#include <stddef.h>
#include <lua.h>

/* Swift sees `lua_State *` as a typed pointer (`UnsafeMutablePointer<lua_State>`) rather than an
   `OpaquePointer`, so the bridge's methods are on the Lua state alone. An empty stand-in: its fields
   are Lua's own, never read outside Lua. Each header that names the state defines it the same way. */
#ifndef RUNCRATE_LUA_STATE_DEFINED
#define RUNCRATE_LUA_STATE_DEFINED
struct lua_State {};
#endif

/*
 * The only C code that raises Lua errors. Swift functions are called through
 * rcshim_trampoline, which raises the error they report only after every
 * Swift frame has returned.
 */

/* Returned by the Swift dispatcher: the error value is on top of the stack; string errors get `file:line:`. */
#define RCSHIM_RAISE (-1)
/* As RCSHIM_RAISE, but the error value is raised as it is (a rethrown error already has its position). */
#define RCSHIM_RAISE_RAW (-2)

/* Called by the trampoline with the state; returns the number of results or RCSHIM_RAISE. */
typedef int (*rcshim_dispatcher)(lua_State *L);

/* Per-state limits and bookkeeping, the allocator's userdata. */
typedef struct rcshim_limits {
    size_t limit;            /* bytes; 0 = unlimited */
    size_t used;             /* bytes currently allocated by Lua */
    size_t peak;
    int swift_depth;         /* > 0 while Swift frames are on the C stack: allocations are not refused */
    int over_limit;          /* an allocation went over the limit while Swift code ran */
    double deadline;         /* monotonic seconds; 0 = none */
    int timed_out;           /* set once the deadline passed and the script was stopped */
    volatile int interrupted;/* set by SIGINT (or rcshim_interrupt), raised at the next hook */
    int interrupt_raised;    /* the last error was an interrupt */
    int cleanup_depth;       /* > 0 inside rcshim_push_cleanup's guarded functions (see below) */
    double cleanup_until;    /* monotonic seconds: the cleanup window closes then, even if still inside */
    int cleanup_after_timeout; /* the cleanup budget after the time limit passed has started */
    lua_CFunction cleanup_entry; /* the guard's C function, as linked into the image that pushed it */
    char defer_source[32];   /* chunk name whose code a Ctrl-C waits out (see rcshim_defer_interrupts_in) */
} rcshim_limits;

/* A new state with the counting allocator; limit 0 = unlimited. NULL when out of memory. */
lua_State *rcshim_newstate(size_t limit_bytes);
void rcshim_close(lua_State *L);
rcshim_limits *rcshim_limits_of(lua_State *L);
void rcshim_set_memory_limit(lua_State *L, size_t limit_bytes);

/* Sets the Swift dispatcher used by every trampoline (once per process). */
void rcshim_set_dispatcher(rcshim_dispatcher d);
/* Pushes a C closure calling the dispatcher; the value on top of the stack becomes its upvalue 1. */
void rcshim_push_trampoline(lua_State *L);
/* An address unique to the image (executable or shared library) this shim is linked into. Two
   images may each hold a copy of the shim and the bridge over one state (runcrate-lua and its
   module library): they keep their registry metatables apart with it. */
const void *rcshim_image_tag(void);
/* Pops and returns the index of upvalue 1 for the running trampoline call. */
int rcshim_upvalue_index(void);

/* Protected call with rcshim_msghandler; limits are enforced while Lua runs. */
int rcshim_pcall(lua_State *L, int nargs, int nresults, int with_traceback);
/* Protected load of a buffer (mode "bt"). */
int rcshim_load(lua_State *L, const char *buff, size_t size, const char *name, const char *mode);
/* luaL_loadfilex (NULL = stdin; skips a first line starting with '#' and a BOM), protected. */
int rcshim_loadfile(lua_State *L, const char *filename, const char *mode);
/* lua.c's message handler: adds a traceback; uses __tostring for non-string errors. It also keeps
   the error value as raised (before it became text) in the registry at RCSHIM_LAST_ERROR_KEY, for
   hosts that report errors as data (`--json`). Memory errors do not reach the handler. */
int rcshim_msghandler(lua_State *L);
#define RCSHIM_LAST_ERROR_KEY "rcshim.last_error"

/* Deadline (monotonic seconds from now); 0 clears it. Installs the count hook. */
void rcshim_set_timeout(lua_State *L, double seconds);
double rcshim_monotonic(void);
/* Asks the running code to stop at the next hook, with "interrupted!". Async-signal-safe. */
void rcshim_interrupt(lua_State *L);
/* Clears a pending Ctrl-C that native code answered itself (as an `interrupted` error), keeping the
   time limit's hook as it was. In a coroutine it stays pending for the main thread, which raises it:
   the coroutine's error would only make coroutine.resume return false. */
void rcshim_consume_interrupt(lua_State *L);
/* True while a Ctrl-C is pending that should stop native work now (false inside a cleanup window).
   Reads only the limits, so it may be called from another thread. */
int rcshim_interrupt_pending(const rcshim_limits *S);
/* Whether native work in flight (an HTTP call) should be cancelled now: a pending Ctrl-C outside a
   cleanup window, or a cleanup window that has run out of time. May be called from another thread. */
int rcshim_cancel_requested(const rcshim_limits *S);
/* A Ctrl-C that arrives while code of the chunk `source` (e.g. "=runcrate", a library's Lua
   prelude) runs is raised once control is back in other code: the library's own native calls answer
   it as their error, and its internals never appear as the place of the interrupt. */
void rcshim_defer_interrupts_in(lua_State *L, const char *source);
/* True when native work should stop now: a pending Ctrl-C, or the time limit passed; false inside a
   cleanup window. When the time limit passed, the hook is armed to raise at the next instruction. */
int rcshim_stop_requested(lua_State *L);

/*
 * Cleanup windows. A time limit keeps raising once it has passed, so that a script that catches the
 * error is stopped again; a memory limit refuses what goes over it. Both would stop the cleanup that
 * runs while the error unwinds (`__close` handlers that terminate what the script created). Pops a
 * function and pushes a C function that calls it, with its arguments, as a cleanup: while it runs,
 * the hook raises neither the timeout nor Ctrl-C (a pending one is raised after it), and the memory
 * limit has a grace of RCSHIM_CLEANUP_GRACE_BYTES. The window is bounded: after a time limit has
 * passed, all cleanup together gets RCSHIM_CLEANUP_SECONDS; then native work in flight is cancelled
 * (rcshim_cancel_requested), and two seconds later the timeout is raised inside it as anywhere else.
 * Errors of the function propagate; its results are returned.
 */
#define RCSHIM_CLEANUP_SECONDS 30.0
#define RCSHIM_CLEANUP_GRACE_BYTES ((size_t)4 << 20)
void rcshim_push_cleanup(lua_State *L);
/* The same as a Lua function: `guarded = cleanup(fn)`. */
int rcshim_cleanup_function(lua_State *L);
/* Whether a cleanup window is open now. */
int rcshim_in_cleanup(lua_State *L);

/* SIGINT handling as lua.c does it: while code runs, Ctrl-C interrupts it. */
void rcshim_sigint_arm(lua_State *L);
void rcshim_sigint_disarm(void);

#endif
