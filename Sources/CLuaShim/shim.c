#include "CLuaShim.h"
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rcshim_dispatcher the_dispatcher = NULL;

/* ---- allocator ---- */

/* The memory limit now: cleanup windows may go over it by a bounded grace. */
static size_t effective_limit(const rcshim_limits *S) {
    return S->cleanup_depth > 0 ? S->limit + RCSHIM_CLEANUP_GRACE_BYTES : S->limit;
}

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    rcshim_limits *S = (rcshim_limits *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        S->used -= old;
        return NULL;
    }
    if (S->limit && nsize > old && S->used + (nsize - old) > effective_limit(S)) {
        if (S->swift_depth == 0) return NULL;      /* Lua raises "not enough memory" itself */
        S->over_limit = 1;                          /* never longjmp through Swift: raise later */
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    S->used = S->used - old + nsize;
    if (S->used > S->peak) S->peak = S->used;
    return p;
}

static int panic_handler(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "runcrate-lua: PANIC: unprotected error in call to Lua API (%s)\n", msg ? msg : "?");
    fflush(stderr);
    return 0;  /* abort */
}

lua_State *rcshim_newstate(size_t limit_bytes) {
    rcshim_limits *S = calloc(1, sizeof(rcshim_limits));
    if (!S) return NULL;
    S->limit = 0;             /* the standard libraries load before the limit applies */
    S->swift_depth = 1;       /* the host is Swift until a protected call runs Lua */
    lua_State *L = lua_newstate(counting_alloc, S);
    if (!L) { free(S); return NULL; }
    lua_atpanic(L, panic_handler);
    lua_pushboolean(L, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, RCSHIM_LAST_ERROR_KEY);
    S->limit = limit_bytes;
    return L;
}

rcshim_limits *rcshim_limits_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (rcshim_limits *)ud;
}

void rcshim_set_memory_limit(lua_State *L, size_t limit_bytes) {
    rcshim_limits_of(L)->limit = limit_bytes;
}

void rcshim_close(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    S->swift_depth = 1;
    lua_close(L);
    free(S);
}

/* ---- trampoline ---- */

static void arm_hook(lua_State *L);

void rcshim_set_dispatcher(rcshim_dispatcher d) { the_dispatcher = d; }

int rcshim_upvalue_index(void) { return lua_upvalueindex(1); }

static int trampoline(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    S->swift_depth++;
    int n = the_dispatcher ? the_dispatcher(L) : (lua_pushliteral(L, "runcrate-lua: no dispatcher"), RCSHIM_RAISE);
    S->swift_depth--;
    if (n == RCSHIM_RAISE_RAW) return lua_error(L);
    if (n == RCSHIM_RAISE) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    /* A deadline that passed while Swift worked stops the script at its next instruction. */
    if (S->deadline > 0 && !S->timed_out && rcshim_monotonic() >= S->deadline && !rcshim_in_cleanup(L))
        arm_hook(L);
    if (S->over_limit && S->swift_depth == 0) {
        S->over_limit = 0;
        if (S->used > effective_limit(S)) {
            lua_pushliteral(L, "not enough memory");
            return lua_error(L);
        }
    }
    return n;
}

const void *rcshim_image_tag(void) {
    return (const void *)trampoline;  /* static: each image linking this file has its own */
}

void rcshim_push_trampoline(lua_State *L) {
    lua_pushcclosure(L, trampoline, 1);
}

/* ---- protected calls ---- */

int rcshim_msghandler(lua_State *L) {
    lua_pushvalue(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, RCSHIM_LAST_ERROR_KEY);  /* the slot exists: no allocation */
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static void hook(lua_State *L, lua_Debug *ar);

int rcshim_pcall(lua_State *L, int nargs, int nresults, int with_traceback) {
    rcshim_limits *S = rcshim_limits_of(L);
    int base = lua_gettop(L) - nargs;
    if (with_traceback) {
        lua_pushcfunction(L, rcshim_msghandler);
        lua_insert(L, base);
    }
    int saved = S->swift_depth;
    S->swift_depth = 0;
    S->over_limit = 0;
    int status = lua_pcall(L, nargs, nresults, with_traceback ? base : 0);
    S->swift_depth = saved;
    if (with_traceback) lua_remove(L, base);
    return status;
}

int rcshim_load(lua_State *L, const char *buff, size_t size, const char *name, const char *mode) {
    rcshim_limits *S = rcshim_limits_of(L);
    int saved = S->swift_depth;
    S->swift_depth = 0;
    int status = luaL_loadbufferx(L, buff, size, name, mode);
    S->swift_depth = saved;
    return status;
}

int rcshim_loadfile(lua_State *L, const char *filename, const char *mode) {
    rcshim_limits *S = rcshim_limits_of(L);
    int saved = S->swift_depth;
    S->swift_depth = 0;
    int status = luaL_loadfilex(L, filename, mode);
    S->swift_depth = saved;
    return status;
}

/* ---- time limit and interrupts ---- */

#define HOOK_COUNT 10000

double rcshim_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define HOOK_MASK_EVERY_STEP (LUA_MASKCOUNT | LUA_MASKCALL | LUA_MASKRET)

/* The hook at every call, return and instruction of L: whatever stops the script is raised at once. */
static void arm_hook(lua_State *L) {
    lua_sethook(L, hook, HOOK_MASK_EVERY_STEP, 1);
}

static void install_hook(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    if (S->deadline > 0 && S->timed_out)
        arm_hook(L);
    else if (S->deadline > 0)
        lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_COUNT);
    else
        lua_sethook(L, NULL, 0, 0);
}

static lua_State *main_thread(lua_State *L) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    lua_State *M = lua_tothread(L, -1);
    lua_pop(L, 1);
    return M;
}

int rcshim_in_cleanup(lua_State *L) {
    const rcshim_limits *S = rcshim_limits_of(L);
    return S->cleanup_depth > 0 && rcshim_monotonic() < S->cleanup_until;
}

/* The hook fires at the call or the return of the cleanup guard itself (so, outside the window). */
static int at_cleanup_guard(lua_State *L, lua_Debug *ar, const rcshim_limits *S) {
    if (S->cleanup_entry == NULL) return 0;
    if (ar->event != LUA_HOOKCALL && ar->event != LUA_HOOKRET && ar->event != LUA_HOOKTAILCALL) return 0;
    if (!lua_getinfo(L, "f", ar)) return 0;
    int found = lua_tocfunction(L, -1) == S->cleanup_entry;
    lua_pop(L, 1);
    return found;
}

static int is_source(lua_State *L, int level, const char *source, int *is_c) {
    lua_Debug d;
    if (!lua_getstack(L, level, &d) || !lua_getinfo(L, "S", &d)) return 0;
    if (is_c) *is_c = d.what[0] == 'C';
    return strcmp(d.source, source) == 0;
}

/* Code of the deferring chunk runs now (or a C function it called). */
static int in_deferring_code(lua_State *L, const rcshim_limits *S) {
    if (S->defer_source[0] == 0) return 0;
    int is_c = 0;
    if (is_source(L, 0, S->defer_source, &is_c)) return 1;
    return is_c && is_source(L, 1, S->defer_source, NULL);
}

/* luaL_where of the innermost Lua function outside the deferring chunk: the script's line, not
   the library's when the limit passed inside the library, nor nothing at a C function's return. */
static void push_script_where(lua_State *L, const rcshim_limits *S) {
    lua_Debug d;
    for (int level = 0; lua_getstack(L, level, &d); level++) {
        if (!lua_getinfo(L, "Sl", &d)) break;
        if (d.currentline <= 0 || (S->defer_source[0] != 0 && strcmp(d.source, S->defer_source) == 0)) continue;
        lua_pushfstring(L, "%s:%d: ", d.short_src, d.currentline);
        return;
    }
    luaL_where(L, 0);
}

/* Inside a cleanup the hook raises nothing; once its time is up, native work is cancelled first
   (so the cleanup can still report what it could not do) and the hook raises again a moment later. */
#define CLEANUP_WIND_DOWN_SECONDS 2.0

static int hook_held(const rcshim_limits *S) {
    return S->cleanup_depth > 0 && rcshim_monotonic() < S->cleanup_until + CLEANUP_WIND_DOWN_SECONDS;
}

static void hook(lua_State *L, lua_Debug *ar) {
    rcshim_limits *S = rcshim_limits_of(L);
    if (hook_held(S)) return;
    if (S->interrupted) {
        if (in_deferring_code(L, S)) return;  /* stays armed: raised at the first step outside */
        lua_State *M = main_thread(L);
        if (M != NULL && M != L) {
            /* In a coroutine: its death would only make coroutine.resume return false, so the
               interrupt stays pending until the main thread raises it (armed now). */
            arm_hook(M);
        } else {
            S->interrupted = 0;
            install_hook(L);
        }
        S->interrupt_raised = 1;
        luaL_error(L, "interrupted!");  /* worded and placed as lua.c's lstop */
    }
    if (S->deadline > 0 && (S->timed_out || rcshim_monotonic() >= S->deadline)) {
        if (at_cleanup_guard(L, ar, S)) return;
        /* Keep raising: a script that catches the error is stopped again at once. Hooks belong to
           one Lua thread: when this is a coroutine, the thread that resumed it goes on once it is
           dead, so the main thread is armed too (any other thread stops within HOOK_COUNT steps). */
        S->timed_out = 1;
        arm_hook(L);
        lua_State *M = main_thread(L);
        if (M != NULL && M != L) arm_hook(M);
        push_script_where(L, S);
        lua_pushstring(L, "timeout: the script ran longer than its time limit");
        lua_concat(L, 2);
        lua_error(L);
    }
}

void rcshim_set_timeout(lua_State *L, double seconds) {
    rcshim_limits *S = rcshim_limits_of(L);
    S->timed_out = 0;
    S->cleanup_after_timeout = 0;
    S->deadline = seconds > 0 ? rcshim_monotonic() + seconds : 0;
    install_hook(L);
}

void rcshim_interrupt(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    S->interrupted = 1;
    lua_sethook(L, hook, HOOK_MASK_EVERY_STEP, 1);
}

void rcshim_consume_interrupt(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    S->interrupt_raised = 1;
    lua_State *M = main_thread(L);
    if (M != NULL && M != L) {
        /* Answered in a coroutine: the script is still to be stopped, by the main thread. */
        arm_hook(M);
        return;
    }
    S->interrupted = 0;
    install_hook(L);
}

int rcshim_interrupt_pending(const rcshim_limits *S) {
    if (!S->interrupted) return 0;
    return !(S->cleanup_depth > 0 && rcshim_monotonic() < S->cleanup_until);
}

int rcshim_cancel_requested(const rcshim_limits *S) {
    if (S->cleanup_depth > 0) return rcshim_monotonic() >= S->cleanup_until;
    return S->interrupted != 0;
}

int rcshim_stop_requested(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    if (rcshim_in_cleanup(L)) return 0;
    if (S->interrupted) return 1;
    if (S->deadline > 0 && (S->timed_out || rcshim_monotonic() >= S->deadline)) {
        arm_hook(L);
        return 1;
    }
    return 0;
}

void rcshim_defer_interrupts_in(lua_State *L, const char *source) {
    rcshim_limits *S = rcshim_limits_of(L);
    size_t n = source ? strlen(source) : 0;
    if (n >= sizeof S->defer_source) n = 0;  /* too long to hold: defer nothing */
    memcpy(S->defer_source, source ? source : "", n);
    S->defer_source[n] = 0;
}

/* ---- cleanup windows ---- */

static int cleanup_guard(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    int nargs = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    if (S->cleanup_depth == 0) {
        /* After the time limit passed, all cleanup shares one budget; otherwise each window has its own. */
        if (!S->timed_out) {
            S->cleanup_until = rcshim_monotonic() + RCSHIM_CLEANUP_SECONDS;
        } else if (!S->cleanup_after_timeout) {
            S->cleanup_after_timeout = 1;
            S->cleanup_until = rcshim_monotonic() + RCSHIM_CLEANUP_SECONDS;
        }
    }
    S->cleanup_depth++;
    int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
    S->cleanup_depth--;
    if (status != LUA_OK) return lua_error(L);
    return lua_gettop(L);
}

void rcshim_push_cleanup(lua_State *L) {
    rcshim_limits_of(L)->cleanup_entry = cleanup_guard;
    lua_pushcclosure(L, cleanup_guard, 1);
}

int rcshim_cleanup_function(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    rcshim_push_cleanup(L);
    return 1;
}

static lua_State *volatile sigint_state = NULL;

static void on_sigint(int sig) {
    lua_State *L = sigint_state;
    signal(sig, SIG_DFL);  /* a second Ctrl-C kills the process, as in lua.c */
    if (L) rcshim_interrupt(L);
}

void rcshim_sigint_arm(lua_State *L) {
    sigint_state = L;
    signal(SIGINT, on_sigint);
}

void rcshim_sigint_disarm(void) {
    signal(SIGINT, SIG_DFL);
    sigint_state = NULL;
}
