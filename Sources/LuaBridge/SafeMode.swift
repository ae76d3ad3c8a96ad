import CLua

extension LuaState {
    /// Leaves scripts nothing that touches the machine beyond reading files: no `os.execute`,
    /// `io.popen`, `package.loadlib`, `os.remove`, `os.rename`, `os.exit`, `os.tmpname`, `io.tmpfile`;
    /// `io.open` and `io.output` for reading only; no C modules, no binary chunks, and a `debug`
    /// library reduced to `traceback` (so the originals cannot be dug out of upvalues or the registry).
    public func applySafeMode() throws(LuaError) {
        try run(Self.safeModePrelude, name: "=[safe mode]")
    }

    static let safeModePrelude = #"""
    local error, type, select, tostring = error, type, select, tostring
    local function disabled(name)
      return function() error(name .. " is disabled by --safe", 2) end
    end
    for _, name in ipairs{"execute", "remove", "rename", "exit", "tmpname"} do
      os[name] = disabled("os." .. name)
    end
    io.popen = disabled("io.popen")
    io.tmpfile = disabled("io.tmpfile")
    package.loadlib = disabled("package.loadlib")

    local open, output = io.open, io.output
    io.open = function(path, mode, ...)
      if mode ~= nil and mode ~= "r" and mode ~= "rb" then
        error("io.open: --safe allows reading only (mode '" .. tostring(mode) .. "')", 2)
      end
      return open(path, mode or "r", ...)
    end
    io.output = function(file, ...)
      if type(file) == "string" then
        error("io.output: --safe does not allow opening files for writing", 2)
      end
      return output(file, ...)
    end

    local load, loadfile = load, loadfile
    _G.load = function(chunk, name, mode, ...)
      if select("#", ...) > 0 then return load(chunk, name, "t", ...) end
      return load(chunk, name, "t")
    end
    _G.loadfile = function(path, mode, ...)
      if select("#", ...) > 0 then return loadfile(path, "t", ...) end
      return loadfile(path, "t")
    end
    _G.dofile = function(path)
      local f, err = loadfile(path, "t")
      if not f then error(err, 2) end
      return f()
    end
    package.cpath = ""
    local searchpath = package.searchpath
    package.searchers[3] = nil
    package.searchers[4] = nil
    package.searchers[2] = function(name)
      local found, err = searchpath(name, package.path)
      if not found then return "\n\t" .. err end
      local f, lerr = loadfile(found, "t")
      if not f then
        error(("error loading module '%s' from file '%s':\n\t%s"):format(name, found, lerr), 2)
      end
      return f, found
    end
    local traceback = debug.traceback
    local reduced = { traceback = traceback }
    debug = reduced
    package.loaded.debug = reduced
    """#
}
