import CLua

/// The pieces of the C API that a lua.c-style interpreter needs and nothing else does.
extension LuaState {
    /// Opens the standard libraries (`luaL_openlibs`). Call it inside a protected call: it can run out of memory.
    public func openlibs() { luaL_openlibs(self) }

    /// Makes the libraries opened afterwards ignore `LUA_PATH`/`LUA_CPATH` (lua.c's `-E`).
    public func ignoreEnvironmentVariables() {
        push(true)
        rawset(registryIndex, field: "LUA_NOENV")
    }

    /// Sends a control message to the warning system, e.g. `"@on"` (lua.c's `-W`).
    public func warning(_ message: String, continued: Bool = false) {
        lua_warning(self, message, continued ? 1 : 0)
    }
}

extension Lua {
    /// `Lua 5.4.4  Copyright (C) 1994-2022 Lua.org, PUC-Rio`: the line `lua -v` prints.
    public static let copyright: String = {
        "Lua \(LUA_VERSION_MAJOR).\(LUA_VERSION_MINOR).\(LUA_VERSION_RELEASE)  Copyright (C) 1994-2022 Lua.org, PUC-Rio"
    }()
}
