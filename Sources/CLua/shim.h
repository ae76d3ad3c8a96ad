#ifndef CLUA_SHIM_H
#define CLUA_SHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* Swift sees `lua_State *` as a typed pointer (`UnsafeMutablePointer<lua_State>`) rather than an
   `OpaquePointer`, so the bridge's methods are on the Lua state alone. An empty stand-in: its fields
   are Lua's own, never read outside Lua. Each header that names the state defines it the same way. */
#ifndef RUNCRATE_LUA_STATE_DEFINED
#define RUNCRATE_LUA_STATE_DEFINED
struct lua_State {};
#endif

/* Static inline stand-ins for the Lua C API macros Swift cannot import. */

static const int CLUA_REGISTRYINDEX = LUA_REGISTRYINDEX;
static const int CLUA_MULTRET = LUA_MULTRET;
static const int CLUA_ERRFILE = LUA_ERRFILE;
static const lua_Integer CLUA_RIDX_GLOBALS = LUA_RIDX_GLOBALS;
/* The Lua release of these headers, e.g. 50404 for 5.4.4. */
static const int CLUA_VERSION_RELEASE_NUM = LUA_VERSION_RELEASE_NUM;

static inline int clua_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void clua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void clua_newtable(lua_State *L) { lua_newtable(L); }
static inline void clua_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline void clua_register(lua_State *L, const char *name, lua_CFunction f) { lua_register(L, name, f); }
static inline int clua_isfunction(lua_State *L, int i) { return lua_isfunction(L, i); }
static inline int clua_istable(lua_State *L, int i) { return lua_istable(L, i); }
static inline int clua_isnil(lua_State *L, int i) { return lua_isnil(L, i); }
static inline int clua_isnone(lua_State *L, int i) { return lua_isnone(L, i); }
static inline int clua_isnoneornil(lua_State *L, int i) { return lua_isnoneornil(L, i); }
static inline int clua_isboolean(lua_State *L, int i) { return lua_isboolean(L, i); }
static inline const char *clua_tostring(lua_State *L, int i) { return lua_tostring(L, i); }
static inline lua_Number clua_tonumber(lua_State *L, int i) { return lua_tonumber(L, i); }
static inline lua_Integer clua_tointeger(lua_State *L, int i) { return lua_tointeger(L, i); }
static inline void clua_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline void clua_remove(lua_State *L, int i) { lua_remove(L, i); }
static inline void clua_replace(lua_State *L, int i) { lua_replace(L, i); }
static inline void clua_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline int clua_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
static inline void *clua_newuserdata(lua_State *L, size_t size) { return lua_newuserdata(L, size); }
static inline int clua_getuservalue(lua_State *L, int i) { return lua_getuservalue(L, i); }
static inline const char *clua_typename_of(lua_State *L, int i) { return luaL_typename(L, i); }
static inline int clua_loadbuffer(lua_State *L, const char *buff, size_t sz, const char *name) { return luaL_loadbuffer(L, buff, sz, name); }
static inline int clua_dostring(lua_State *L, const char *s) { return luaL_dostring(L, s); }
static inline void clua_getmetatable_named(lua_State *L, const char *tname) { luaL_getmetatable(L, tname); }
static inline int clua_yield(lua_State *L, int n) { return lua_yield(L, n); }

#endif
