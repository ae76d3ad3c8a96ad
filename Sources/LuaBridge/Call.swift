import CLua
import CLuaShim

/// A failure reported by Lua: a chunk that does not compile, or an error raised while it ran.
public struct LuaError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The chunk did not compile.
        case syntax
        /// A runtime error (including errors raised by Swift functions).
        case runtime
        /// Lua ran out of memory, or over the memory limit.
        case memory
        /// The message handler failed.
        case handler
        /// A file could not be opened or read.
        case file
        /// Stopped by Ctrl-C or `interrupt()`.
        case interrupted
        /// Stopped by the time limit.
        case timeout
    }

    public var kind: Kind
    /// The message as lua.c would print it: with a traceback when the call had the handler.
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// True for a syntax error whose message ends in `<eof>`: the REPL reads another line.
    public var isIncompleteInput: Bool { kind == .syntax && message.hasSuffix("<eof>") }
}

extension LuaState {
    /// Pops the error value left by a failed load or call and turns it into a `LuaError`.
    func popError(status: Int32) -> LuaError {
        let limits = rcshim_limits_of(self)!
        var kind: LuaError.Kind
        switch status {
        case LUA_ERRSYNTAX: kind = .syntax
        case LUA_ERRMEM: kind = .memory
        case LUA_ERRERR: kind = .handler
        case CLUA_ERRFILE: kind = .file
        default: kind = .runtime
        }
        if limits.pointee.timed_out != 0 { kind = .timeout }
        if limits.pointee.interrupt_raised != 0 {
            limits.pointee.interrupt_raised = 0
            if kind == .runtime { kind = .interrupted }
        }
        let message: String
        if let s = tostring(-1) {
            message = s
        } else if type(at: -1) == .number {
            message = LuaValue.format(number: tonumber(-1) ?? 0)
        } else {
            message = "(error object is a \(typename(at: -1)) value)"
        }
        pop()
        return LuaError(kind: kind, message: message)
    }

    /// Compiles `code` and pushes it as a function. Stack: +1 on success, 0 on error.
    public func load(_ code: String, name: String, mode: String = "bt") throws(LuaError) {
        var code = code
        let status = code.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { rcshim_load(self, $0.baseAddress, $0.count, name, mode) }
        }
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Compiles `bytes` and pushes it as a function. Stack: +1 on success, 0 on error.
    public func load(bytes: [UInt8], name: String, mode: String = "bt") throws(LuaError) {
        let status = bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { rcshim_load(self, $0.baseAddress, $0.count, name, mode) }
        }
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Compiles a file (nil = standard input), skipping a `#` first line, and pushes it. Stack: +1 or 0.
    public func loadfile(_ path: String?, mode: String = "bt") throws(LuaError) {
        let status = rcshim_loadfile(self, path, mode)
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Calls the function below `nargs` arguments in protected mode. With `traceback`, the error
    /// message carries a traceback as lua.c prints it. Stack: -(nargs+1), +nresults on success.
    public func pcall(nargs: Int32, nresults: Int32 = CLUA_MULTRET, traceback: Bool = true) throws(LuaError) {
        let status = rcshim_pcall(self, nargs, nresults, traceback ? 1 : 0)
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Loads and runs `code`; returns its results copied into Swift. Stack: unchanged.
    @discardableResult
    public func run(_ code: String, name: String? = nil, traceback: Bool = true) throws(LuaError) -> [LuaValue] {
        let top = gettop()
        defer { settop(top) }
        try load(code, name: name ?? "=(string)")
        try pcall(nargs: 0, nresults: CLUA_MULTRET, traceback: traceback)
        var results: [LuaValue] = []
        for i in (top + 1)...max(gettop(), top + 1) where i <= gettop() {
            results.append((try? value(at: i)) ?? .opaque(type(at: i)))
        }
        return results
    }

    /// Calls the global function `name` with `args` in protected mode. Stack: unchanged.
    @discardableResult
    public func call(global name: String, _ args: [LuaValue] = [], traceback: Bool = true) throws(LuaError) -> [LuaValue] {
        let top = gettop()
        defer { settop(top) }
        getglobal(raw: name)
        for a in args { push(a) }
        try pcall(nargs: Int32(args.count), nresults: CLUA_MULTRET, traceback: traceback)
        return (top + 1 ..< gettop() + 1).map { (try? value(at: $0)) ?? .opaque(type(at: $0)) }
    }

    /// Converts the value at `index` to a string as `tostring` does (running `__tostring`/`__name`), protected.
    public func tostringMeta(_ index: Int32) -> String {
        let i = absindex(index)
        let top = gettop()
        defer { settop(top) }
        getglobal(raw: "tostring")
        guard type(at: -1) == .function else { return typename(at: i) }
        pushvalue(i)
        if (try? pcall(nargs: 1, nresults: 1, traceback: false)) != nil, let s = tostring(-1) { return s }
        return typename(at: i)
    }
}
