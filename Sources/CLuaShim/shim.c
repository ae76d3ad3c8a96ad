#include "CLuaShim.h"
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rcshim_dispatcher the_dispatcher = NULL;

/* ---- allocator ---- */

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    rcshim_limits *S = (rcshim_limits *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        S->used -= old;
        return NULL;
    }
    if (S->limit && nsize > old && S->used + (nsize - old) > S->limit) {
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
    if (S->over_limit && S->swift_depth == 0) {
        S->over_limit = 0;
        if (S->used > S->limit) {
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

static void install_hook(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    if (S->deadline > 0)
        lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_COUNT);
    else
        lua_sethook(L, NULL, 0, 0);
}

static void hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    rcshim_limits *S = rcshim_limits_of(L);
    if (S->interrupted) {
        S->interrupted = 0;
        S->interrupt_raised = 1;
        install_hook(L);
        luaL_error(L, "interrupted!");  /* worded and placed as lua.c's lstop */
    }
    if (S->deadline > 0 && (S->timed_out || rcshim_monotonic() >= S->deadline)) {
        /* keep raising: a script that catches the error is stopped again at once */
        if (!S->timed_out) {
            S->timed_out = 1;
            lua_sethook(L, hook, LUA_MASKCOUNT | LUA_MASKCALL | LUA_MASKRET, 1);
        }
        luaL_where(L, 0);
        lua_pushstring(L, "timeout: the script ran longer than its time limit");
        lua_concat(L, 2);
        lua_error(L);
    }
}

void rcshim_set_timeout(lua_State *L, double seconds) {
    rcshim_limits *S = rcshim_limits_of(L);
    S->timed_out = 0;
    S->deadline = seconds > 0 ? rcshim_monotonic() + seconds : 0;
    install_hook(L);
}

void rcshim_interrupt(lua_State *L) {
    rcshim_limits *S = rcshim_limits_of(L);
    S->interrupted = 1;
    lua_sethook(L, hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
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
